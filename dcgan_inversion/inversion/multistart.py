"""The multi-start search: each image inverted from K starts in one problem, the best kept.

Random starts are draws of the run's prior; with an encoder the first start of each image is its
guess E(x). The spread of the K recoveries (Table 2's mean pairwise distance) says how unique the
recovery is. `--image`, the API, completion and the verdict measurement all search this way.
"""
from __future__ import annotations

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.gan.sampling import encoder_starts
from dcgan_inversion.inversion.driver import invert
from dcgan_inversion.inversion.metrics import mean_pairwise_distance
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings

ROW_PATIENCE = 3  # polish iterations without progress before a row stops (real photos never converge)


def search_settings(config, progress: str | None, strategy) -> InversionSettings:
    """The run's inversion and search, its polish stopping rows that no longer improve."""
    config = config_lib.replace(config, polish={"row_patience": ROW_PATIENCE})
    return InversionSettings.from_config(config, progress=progress, strategy=strategy)


def best_of_starts(generator, config, images: np.ndarray, starts: int, seed: int, mode: str,
                   progress=None, strategy=None, encoder=None) -> dict:
    """Each image inverted from `starts` starts in one problem: the best z', its error, the spread.
    The starts are draws of the prior; with an `encoder` the first one is its guess E(x)."""
    z_dim, prior = config.model.z_dim, latent_prior(config)
    # Start k of image i is draw k * images + i: an image's first start is the same for any K.
    draws = prior.sample(np.random.default_rng(seed), (starts, len(images), z_dim))
    if encoder is not None:
        draws[0] = encoder_starts(encoder, images, prior)
    problem = InversionProblem(np.repeat(images, starts, axis=0), draws.transpose(1, 0, 2).reshape(-1, z_dim),
                               [mode] * (len(images) * starts), seed=seed)
    result = invert(generator, problem, search_settings(config, progress, strategy))
    errors = result.pixel_error.reshape(len(images), starts)
    z = result.z.reshape(len(images), starts, z_dim)
    best = np.argmin(errors, axis=1)
    chosen = np.arange(len(images)), best
    before_polish = z if result.z_before_polish is None else result.z_before_polish.reshape(z.shape)
    return {"z": z[chosen], "pixel_error": errors[chosen], "all_errors": errors,
            "spread": [mean_pairwise_distance(rows) if starts > 1 else None for rows in z],
            "z_start": draws.transpose(1, 0, 2)[chosen], "z_before_polish": before_polish[chosen],
            "counted_step_equivalents": result.counted_step_equivalents}
