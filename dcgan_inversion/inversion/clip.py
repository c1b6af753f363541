"""The clip ops of Sec. 2, applied to z' after every optimizer step.

The mode is chosen per row, so one batch can hold all three modes and share every step's
compute: `none` leaves z' alone, `standard` clamps it to the prior's box [low, high], `stochastic`
re-draws each component that reached the bound from the prior in the box (the authors' inclusive
test): uniformly for the paper's U(-1, 1), from the truncated normal for a normal prior (latents.py).
"""
from __future__ import annotations

import tensorflow as tf

from dcgan_inversion.config import CLIP_MODES as MODES
from dcgan_inversion.gan.latents import UNIFORM, LatentPrior

NONE, STANDARD, STOCHASTIC = range(len(MODES))


def mode_ids(names) -> tf.Tensor:
    """['stochastic', 'none'] -> int32 ids, one per row."""
    unknown = sorted(set(names) - set(MODES))
    if unknown:
        raise ValueError(f"unknown clip mode(s) {unknown}; expected {MODES}")
    return tf.constant([MODES.index(name) for name in names], tf.int32)


def out_of_bounds(z: tf.Tensor, low: float = -1.0, high: float = 1.0) -> tf.Tensor:
    return (z >= high) | (z <= low)


def keyed_redraws(seed, step, total_rows: int, z_dim: int, rows, prior: LatentPrior = UNIFORM) -> tf.Tensor:
    """Draws of the prior in its box for `rows` (indices) of a (total_rows, z_dim) matrix keyed by (seed, step).

    Stateless: a row gets the same draws however the rows are sharded over replicas, whichever
    rows have left the batch, and whether or not the run was interrupted and resumed, so results
    depend on none of these.
    """
    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    draws = prior.stateless_draws((total_rows, z_dim), key)
    return tf.gather(draws, rows)


def stochastic_clip(z: tf.Tensor, redraws: tf.Tensor, low: float = -1.0, high: float = 1.0) -> tf.Tensor:
    """Components at or beyond a bound are replaced by fresh draws of the prior in the box (the paper's op)."""
    return tf.where(out_of_bounds(z, low, high), tf.cast(redraws, z.dtype), z)


def clip_latents(z: tf.Tensor, modes: tf.Tensor, redraws: tf.Tensor,
                 low: float = -1.0, high: float = 1.0) -> tf.Tensor:
    """Applies each row's clip mode (`modes`: int32 ids, shape [rows]; `redraws`: the prior's, z's shape)."""
    mode = modes[:, tf.newaxis]
    clipped = tf.where(mode == STANDARD, tf.clip_by_value(z, low, high), z)
    return tf.where(mode == STOCHASTIC, stochastic_clip(z, redraws, low, high), clipped)
