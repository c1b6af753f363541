"""How a user's images are searched: the one policy `dcgan-invert --image` and the API share, so both
give the same numbers by construction.

Random starts by default (16 per image, stochastic clipping). On a run with a trained encoder and
no start count asked for, the first start is the encoder's guess E(x) and one random start follows
it: measured on the verdict table, the same verdicts at a quarter of the counted cost.
"""
from __future__ import annotations

from dataclasses import dataclass

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import CLIP_MODES, Config
from dcgan_inversion.infra.errors import UserError

IMAGE_STARTS = 16               # random starts per image
IMAGE_STARTS_WITH_ENCODER = 2   # E(x) and one random start
DEFAULT_MODE = "stochastic"


@dataclass(frozen=True)
class SearchPlan:
    """The config to invert with, the starts per image and the clip mode; `encoder`: start at E(x)."""

    config: Config
    starts: int
    mode: str
    encoder: bool
    note: str = ""


def search_plan(config: Config, starts: int | None = None, mode: str | None = None,
                encoder_available: bool = False, encoder: bool | None = None) -> SearchPlan:
    """The plan for `starts` (None: the default) and `mode` on a run that has an encoder or not;
    `encoder` True or False decides the first start instead of the policy (a plan made before)."""
    mode = mode or DEFAULT_MODE
    if mode not in CLIP_MODES:
        raise UserError(f"mode must be one of {', '.join(CLIP_MODES)}, got '{mode}'")
    if starts is not None and starts < 1:
        raise UserError(f"starts must be a positive number, got {starts}")
    if encoder is False:
        return SearchPlan(config_lib.replace(config, invert={"start": "random"}), starts or IMAGE_STARTS, mode, False)
    if config.invert.start == "encoder" or encoder:
        return SearchPlan(config_lib.replace(config, invert={"start": "encoder"}), starts or IMAGE_STARTS_WITH_ENCODER,
                          mode, True)
    if starts is None and encoder_available:
        note = (f"starting each image at encoder.weights.h5's guess and {IMAGE_STARTS_WITH_ENCODER - 1} random start "
                "(give --starts N for N random starts instead)")
        return SearchPlan(config_lib.replace(config, invert={"start": "encoder"}), IMAGE_STARTS_WITH_ENCODER, mode,
                          True, note)
    return SearchPlan(config, starts or IMAGE_STARTS, mode, False)
