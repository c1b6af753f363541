"""What a trained generator draws: G(z) for given latents, the generator as an inversion sees it,
and an encoder's guesses as starts. User-facing tools and the paper's experiments share these."""
from __future__ import annotations

import numpy as np

from dcgan_inversion.gan.latents import UNIFORM, LatentPrior


def uses_batch_statistics(generator) -> bool:
    """True for a generator whose batch norm uses each batch's statistics (model.BatchStatisticsGenerator)."""
    return getattr(generator, "batch_statistics", False)


def generate(generator, z, group_rows: int | None = None) -> np.ndarray:
    """G(z); under batch statistics each run of `group_rows` rows is generated as one batch."""
    import tensorflow as tf

    if group_rows is None or not uses_batch_statistics(generator):
        return generator(tf.constant(z), training=False).numpy()
    return np.concatenate([generator(tf.constant(z[first:first + group_rows]), training=False).numpy()
                           for first in range(0, len(z), group_rows)])


def inversion_generator(generator, config):
    """The generator as the inversion sees it: moving averages, or each batch's own statistics."""
    from dcgan_inversion.gan.model import BatchStatisticsGenerator

    return BatchStatisticsGenerator(generator) if config.invert.batch_norm == "batch" else generator


def encoder_starts(encoder, images: np.ndarray, prior: LatentPrior = UNIFORM) -> np.ndarray:
    """E(x) as starts, inside the prior's clip box (tanh can round to +-1)."""
    import tensorflow as tf

    if encoder is None:
        raise ValueError("invert.start is encoder but no encoder was given")
    return np.clip(encoder(tf.constant(images), training=False).numpy(), *prior.box).astype(np.float32)
