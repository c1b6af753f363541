"""Every random stream a run draws from, named, as an offset from the run's seed (`config.seed`).

One run's results depend on its seed alone: each experiment and tool draws its latents, starts
and noise from its own stream, `numpy.random.default_rng(stream(seed, NAME))`. The values are the
ones the committed results were made with, so they stay as they are; two pairs coincide
(VERDICT_* with COMPLETION_*, SAMPLE_GRID with NOISE), which is harmless because no result mixes
the draws of the two (each pair belongs to separate commands).
"""
from __future__ import annotations

TABLE1 = 0               # Table 1's true latents and random starts
NOISE = 1                # Figure 2's latents, starts and pixel noise
SAMPLE_GRID = 1          # the fixed latents of the 8x8 sample grid (training, import)
UNIQUENESS = 2           # Table 2's random starts
TRAJECTORY = 3           # Figure 1's latents and starts
CALIBRATION_IMAGES = 4   # --image: the generated images of the verdict's calibration
CALIBRATION_STARTS = 5   # --image: the starts of the calibration's inversions
VERDICT_IMAGES = 6       # the verdict measurement's generated images and noise
COMPLETION_LATENTS = 6   # the completion experiment's true latents
VERDICT_STARTS = 7       # the verdict measurement's starts
COMPLETION_STARTS = 7    # the completion experiment's starts on generated images
COMPLETION_REAL = 8      # the completion experiment's starts on real images
ENCODER_TRAINING = 9     # the encoder's training latents (a tf.random.Generator)
ENCODER_HELD_OUT = 10    # the encoder's held-out latents
EDITS = 11               # the walks-and-arithmetic example's latents and starts
CLASSES = 12             # a conditional generator's class per row, in each experiment (keyed by its stream)

# Inside the engine a batch seeded s draws from (s, STREAM[, k]): numbers far from the offsets above,
# so no batch's draws coincide with an experiment's.
RESTART_STARTS = 1_000_003  # restart k of a batch: its new starts, (s, RESTART_STARTS, k)
SCREEN_CANDIDATES = 1_000_033  # the start screen's candidates, (s, SCREEN_CANDIDATES)
SCREEN_BANK = 1_000_037     # the start screen's bank of draws, (s, SCREEN_BANK)


def stream(seed: int, offset: int) -> int:
    """The seed of one named stream of the run seeded `seed`."""
    return seed + offset
