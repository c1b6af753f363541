"""Inversion protocols: named presets of how to invert, applied to any trained run.

A protocol (`dcgan_inversion/configs/protocols/<name>.yaml`) holds the `invert` and `polish` sections, and optionally
some `experiments` keys, of one way of recovering latents: the authors' gradient descent, Amos's
Adam. The model, the data and the experiment sizes come from the run itself, so one command runs
the same protocol on the demo run and on a CelebA run. Its results live apart from the run's
default results, in `<run>/results/<protocol>/`.
"""
from __future__ import annotations

import typing
from pathlib import Path

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import Config, ConfigError

PROTOCOL_DIR = Path(__file__).parents[1] / "configs" / "protocols"
REPLACED = ("invert", "polish")  # a protocol's sections replace the run's whole sections
MERGED = ("experiments",)        # keys given here override the run's; the others stay


def available_protocols() -> list[str]:
    return sorted(path.stem for path in PROTOCOL_DIR.glob("*.yaml"))


def protocol_path(name: str) -> Path:
    path = PROTOCOL_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown protocol '{name}': one of {', '.join(available_protocols())}")
    return path


def protocol_config(name: str, base: Config, overrides: typing.Sequence[str] = ()) -> Config:
    """`base` (the run's config) with the protocol's sections, then the command line's overrides."""
    path = protocol_path(name)
    preset = config_lib.read_mapping(path)
    unknown = sorted(set(preset) - set(REPLACED) - set(MERGED))
    if unknown:
        raise ConfigError(f"{path}: a protocol holds only {', '.join(REPLACED + MERGED)} (found {', '.join(unknown)})")
    raw = config_lib.to_dict(base)
    for section in REPLACED:
        raw[section] = dict(preset.get(section) or {})
    for section in MERGED:
        raw[section].update(preset.get(section) or {})
    return config_lib.with_overrides(raw, overrides, source=f"protocol {name} ({path.name})")
