"""`make bench ARGS=--quick`: every section at test size, so a check that the benchmark runs (its
numbers mean nothing) takes seconds, the --recovery-only and --starts-only sections included. The
settings compared keep what tells them apart (a screen, restarts, a bank, a first-order phase
before the polish), each cut to a few steps."""
from __future__ import annotations

from dcgan_inversion import config as config_lib

LATENTS = 2  # per mode


def at_quick_size(config: config_lib.Config) -> config_lib.Config:
    """`config` with its inversion cut to a few steps and iterations, its options kept on or off."""
    search = config.search
    return config_lib.replace(
        config, invert={"steps": min(config.invert.steps, 10), "steps_per_call": 5},
        polish={"iterations": min(config.polish.iterations, 2)},
        search={"restarts": min(search.restarts, 1), "stall_min_steps": min(search.stall_min_steps, 5),
                "screen_steps": min(search.screen_steps, 2), "screen_starts": min(search.screen_starts, 2),
                "screen_bank": min(search.screen_bank, 4), "stall_window": min(search.stall_window, 5)})
