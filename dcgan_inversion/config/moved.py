"""Keys that moved: config files written before a key moved keep loading, with one line saying where.

The search's own settings (the start screen, the switch to the polish, restarts) were once in
`polish`; they act around the polish, not in it, and now live in `search`. The uniform prior's box
was `invert.low` / `invert.high` while the normal prior's was `model.latent_box`; the box now lives
in `model.latent_box` alone, symmetric, [-b, b], for either prior.
"""
from __future__ import annotations

import copy
import sys

from dcgan_inversion.config.schema import ConfigError

SEARCH_KEYS = ("screen_starts", "screen_steps", "screen_bank", "switch", "stall_window", "stall_min_steps",
               "stall_improvement", "restarts", "restart_above")
_announced: set = set()


def moved(raw: dict, source: str, announce: bool = True) -> dict:
    """`raw` (a config mapping) with keys of earlier layouts at their homes now. With `announce`,
    one line on stderr (once per source and process) lists what moved."""
    if not isinstance(raw, dict):
        return raw
    raw, notes = copy.deepcopy(raw), []
    polish = raw.get("polish")
    if isinstance(polish, dict) and any(key in polish for key in SEARCH_KEYS):
        keys = [key for key in SEARCH_KEYS if key in polish]
        search = raw.setdefault("search", {})
        if not isinstance(search, dict):
            raise ConfigError(f"{source}: search: expected a mapping")
        search.update({key: polish.pop(key) for key in keys})
        notes.append(f"polish.{{{', '.join(keys)}}} -> search.*" if len(keys) > 1 else f"polish.{keys[0]} -> search.{keys[0]}")
    invert = raw.get("invert")
    if isinstance(invert, dict) and ("low" in invert or "high" in invert):
        _move_uniform_box(raw, invert, source)
        notes.append("invert.low/high -> model.latent_box")
    if notes and announce and (source, tuple(notes)) not in _announced:
        _announced.add((source, tuple(notes)))
        print(f"note: {source}: keys moved since it was written ({'; '.join(notes)}); it loads as before, "
              "write the new keys to silence this", file=sys.stderr)
    return raw


def _move_uniform_box(raw: dict, invert: dict, source: str) -> None:
    """invert.low/high bounded z' only under the uniform prior: its box becomes model.latent_box (a
    symmetric one); under the normal prior they had no effect and are dropped."""
    low, high = invert.pop("low", -1.0), invert.pop("high", 1.0)
    model = raw.setdefault("model", {})
    if not isinstance(model, dict):
        raise ConfigError(f"{source}: model: expected a mapping")
    if model.get("latent", "uniform") != "uniform":
        return
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: invert.low/high: expected numbers, got {low!r} and {high!r}") from None
    if low != -high or high <= 0:
        raise ConfigError(f"{source}: invert.low/high [{low:g}, {high:g}]: the latent box is now model.latent_box, "
                          "symmetric [-b, b]: set model.latent_box (and drop invert.low/high)")
    model["latent_box"] = high
