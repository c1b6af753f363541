"""Property-based (Hypothesis): any value a user can put in any key of the schema either loads, and
then means the same after a round trip through config.yaml, or is refused with one ConfigError line;
never another exception."""
import dataclasses
import typing

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dcgan_inversion.config import Config, ConfigError, from_dict, load_config, to_dict


def _keys(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            yield from _keys(hints[field.name], f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}"


SECTIONS = [field.name for field in dataclasses.fields(Config) if dataclasses.is_dataclass(field.type)
            or dataclasses.is_dataclass(typing.get_type_hints(Config)[field.name])]
KEYS = sorted(_keys(Config)) + SECTIONS + ["invert.no_such_key", "no_section.key"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["none", "stochastic", "adam", "sgd", "batch", "table1"]))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.dictionaries(st.text(max_size=5), SCALARS, max_size=2))


def _as_override(key, value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return f"{key}={text.removesuffix('...' + chr(10)).strip()}"


@given(key=st.sampled_from(KEYS), value=VALUES)
@settings(max_examples=400, deadline=None)
def test_any_value_in_any_key_loads_or_is_refused_in_one_line(key, value):
    override = _as_override(key, value)
    try:
        config = load_config("demo", [override])
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message and message.startswith("--set "), message
        return
    assert from_dict(to_dict(config)) == config


@given(first=st.sampled_from(KEYS), second=st.sampled_from(KEYS), values=st.tuples(VALUES, VALUES))
@settings(max_examples=200, deadline=None)
def test_two_overrides_together_load_or_are_refused_in_one_line(first, second, values):
    try:
        load_config("demo", [_as_override(first, values[0]), _as_override(second, values[1])])
    except ConfigError as error:
        assert "\n" not in str(error)
