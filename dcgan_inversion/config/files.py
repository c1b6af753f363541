"""Config files: YAML read into the schema's dataclasses, overrides, validation, saving.

Configuration is data (as in Flax's examples): every run is described by one `Config`,
written next to its results so the run can be reproduced. Mistakes in a config file are
reported as one `ConfigError` line naming the file and the key.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from pathlib import Path

import yaml

from dcgan_inversion.config.moved import moved
from dcgan_inversion.config.schema import DCGAN_SIZES, Config, ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"  # the shipped configs, dcgan_inversion/configs/
INT_LIMIT = 2**31


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def resolve_config_path(name_or_path: str) -> Path:
    """A shipped config's name (`demo`) or a path to the user's own YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    shipped = CONFIG_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise ConfigError(
        f"unknown config '{name_or_path}': pass a YAML path or one of {', '.join(available_configs())}"
    )


def load_config(name_or_path: str, overrides: typing.Sequence[str] = ()) -> Config:
    """Loads, overrides (`section.key=value`) and validates a config."""
    path = resolve_config_path(name_or_path)
    return with_overrides(read_config_mapping(path), overrides, source=str(path))


def read_config_mapping(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A config file's mapping with its `base:` resolved: a file that names a base (a shipped name,
    or a YAML path relative to the file) holds only what differs from it, so a variant of a config
    never repeats, and never drifts from, the settings it shares with it."""
    raw = moved(read_mapping(path), str(path))  # each file's keys of earlier layouts, before they meet a base's
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: base: expected a config's name or a YAML path, got {base!r}")
    relative = path.parent / base
    base_path = relative if relative.suffix in (".yaml", ".yml") and relative.is_file() else None
    try:
        base_path = (base_path or resolve_config_path(base)).resolve()
    except ConfigError as error:
        raise ConfigError(f"{path}: base: {error}") from None
    if base_path in seen + (path.resolve(),):
        raise ConfigError(f"{path}: base: '{base}' leads back to this file (a config cannot be its own base)")
    return merged(read_config_mapping(base_path, seen + (path.resolve(),)), raw)


def merged(base: dict, changes: dict) -> dict:
    """`base` with `changes` laid over it, section by section (a list or value replaces the base's)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def with_overrides(raw: dict, overrides: typing.Sequence[str], source: str) -> Config:
    """The mapping validated alone (a mistake in it names `source`), then with the overrides (a
    mistake now can only be theirs, so it names them, not the file)."""
    config = from_dict(raw, source)
    if not overrides:
        return config
    raw = copy.deepcopy(raw)
    for override in overrides:
        apply_override(raw, override)
    shown = " ".join(override.replace("\r", "\\r").replace("\n", "\\n") for override in overrides)
    return from_dict(raw, source=f"--set {shown}")  # one line, whatever the values hold


def read_mapping(path: Path) -> dict:
    """A YAML file of sections (an empty file is an empty mapping), or one `ConfigError` line."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (not UTF-8): a config is YAML text") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return raw


def from_dict(raw: dict, source: str = "<config>", announce: bool = True) -> Config:
    """A validated `Config` from a mapping (keys of earlier layouts moved, announced if `announce`)."""
    config = _build(Config, moved(raw, source, announce), source, prefix="")
    _check_combinations(config, source)
    return config


def _check_combinations(config: Config, source: str) -> None:
    """Rules that span several keys."""
    model, invert = config.model, config.invert
    if model.architecture in ("amos", "pytorch_dcgan") and model.image_size not in DCGAN_SIZES:
        raise ConfigError(f"{source}: model.image_size {model.image_size}: a {model.architecture} generator makes "
                          f"{', '.join(map(str, DCGAN_SIZES))} px images (4 x 2^k)")
    if len(model.image_range) != 2 or not model.image_range[0] < model.image_range[1]:
        raise ConfigError(f"{source}: model.image_range must be [low, high] with low < high")
    stages = (model.image_size // 4).bit_length() - 1
    if model.architecture != "mlp" and model.g_channels and len(model.g_channels) != stages:
        raise ConfigError(f"{source}: model.g_channels has {len(model.g_channels)} values; a {model.image_size} px "
                          f"generator has {stages} (the 4x4 base and each hidden transposed conv)")
    if model.label_names and len(model.label_names) != model.labels:
        raise ConfigError(f"{source}: model.label_names names {len(model.label_names)} classes; model.labels is "
                          f"{model.labels}")
    if invert.early_stop_threshold is not None and invert.early_stop_threshold not in invert.thresholds:
        raise ConfigError(f"{source}: invert.early_stop_threshold: {invert.early_stop_threshold:g} is not one of "
                          f"invert.thresholds ({', '.join(f'{t:g}' for t in invert.thresholds)})")
    if invert.batch_norm == "batch":
        if config.polish.method != "none" and config.polish.iterations > 0:
            raise ConfigError(f"{source}: invert.batch_norm: batch couples the rows of a batch; the polish "
                              "solves each row alone: set polish.method=none")
        if invert.precision != "float32":
            raise ConfigError(f"{source}: invert.batch_norm: batch runs in float32 only (invert.precision)")


def is_same_config(saved, config: Config) -> bool:
    """Whether a config saved beside some results (a dict) is `config`: keys added to the schema
    since it was written count as their defaults, so older results stay valid."""
    if not isinstance(saved, dict):
        return False
    try:
        return from_dict(saved, announce=False) == config
    except ConfigError:
        return False


def to_dict(config) -> dict:
    return dataclasses.asdict(config, dict_factory=lambda items: {k: _plain(v) for k, v in items})


def save_config(config: Config, path: Path) -> None:
    from dcgan_inversion.infra.io_utils import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def replace(config, **changes):
    """`dataclasses.replace` that also accepts `section={...}` dicts of field changes."""
    updates = {}
    for name, value in changes.items():
        current = getattr(config, name)
        updates[name] = dataclasses.replace(current, **value) if isinstance(value, dict) else value
    return dataclasses.replace(config, **updates)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def apply_override(raw: dict, override: str) -> None:
    """Sets `section.key=value` (the value read as YAML) in a raw config mapping."""
    key, sep, text = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {override!r}: expected section.key=value")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"--set {override!r}: value is not valid YAML") from None
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override!r}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _build(cls, raw, source: str, prefix: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'config'}: expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{source}: unknown key '{prefix}{key}' (known: {known})")
    values = {}
    for name, spec in fields.items():
        if name not in raw:
            continue
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, raw[name], source, prefix=f"{prefix}{name}.")
        else:
            values[name] = _check_value(raw[name], hint, spec.metadata, source, f"{prefix}{name}")
    return cls(**values)


def _check_value(value, hint, rules, source: str, key: str):
    def fail(expected: str):
        raise ConfigError(f"{source}: {key}: expected {expected}, got {value!r}")

    optional = _is_optional(hint)
    if value is None:
        if optional:
            return None
        fail(_type_name(hint))
    base = _strip_optional(hint)
    value = _coerce(value, base, fail)
    if isinstance(value, tuple) and not value and not rules.get("may_be_empty"):
        fail("a non-empty list")
    choices = rules.get("choices")
    for item in value if isinstance(value, tuple) else (value,):
        if choices is not None and item not in choices:
            fail(f"{'values from' if isinstance(value, tuple) else 'one of'} {', '.join(map(str, choices))}")
        minimum, maximum = rules.get("minimum"), rules.get("maximum")
        if minimum is not None and item < minimum:
            fail(f"a value >= {minimum}")
        if maximum is not None and item > maximum:
            fail(f"a value <= {maximum}")
    return value


def _coerce(value, base, fail):
    if typing.get_origin(base) is tuple:
        (item_type, _) = typing.get_args(base)
        if not isinstance(value, (list, tuple)):
            fail(f"a list of {item_type.__name__}")
        return tuple(_coerce(item, item_type, fail) for item in value)
    if base is bool:
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail("an integer")
        if abs(value) >= INT_LIMIT:
            fail("an integer below 2^31 (TensorFlow's and NumPy's int32)")
        return value
    if base is float:
        if isinstance(value, str):
            try:
                value = float(value)  # YAML 1.1 reads 1e-4 (no dot) as a string
            except ValueError:
                fail("a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail("a number")
        if not math.isfinite(value):
            fail("a finite number")
        return float(value)
    if base is str:
        if not isinstance(value, str):
            fail("a string")
        return value
    raise TypeError(f"unsupported config type {base}")


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _strip_optional(hint):
    if _is_optional(hint):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return inner
    return hint


def _type_name(hint) -> str:
    base = _strip_optional(hint)
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(base, str(base))
