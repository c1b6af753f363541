"""Completing images: find z' whose G(z') matches the known pixels, and fill the hole from G(z').

Two methods. `ours`: the observed generator (observe.py) inverted by the package's engine against
the observed image, `starts` random starts per image, the clip mode given, the Levenberg-Marquardt
polish on the known pixels; the best start on the known pixels is kept. The perceptual (GAN) term
is left out on purpose: LM solves a sum of squares, and for an image G can draw the known pixels
alone pin z down (the completion experiment measures where they stop doing so); a term pulling
toward what D finds realistic only moves z' off the known pixels' minimum. `amos`: his L1
contextual + lam * perceptual loss with his Adam or HMC (amos.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.completion.amos import AmosLoss, amos_adam, amos_hmc
from dcgan_inversion.completion.masks import Mask
from dcgan_inversion.completion.observe import known_pixel_error, observe, observed_generator
from dcgan_inversion.config import Config
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.inversion.multistart import best_of_starts


@dataclass
class Completion:
    """One method's completion of a batch of images under one mask."""

    method: str
    z: np.ndarray                     # (images, z_dim)
    reconstructions: np.ndarray       # G(z') (images, H, W, C)
    known_error: np.ndarray           # MSE over the known pixels, per image
    seconds: float
    frames: list = field(default_factory=list)   # (label, G(z') of every image): hats_imgs/, completed/
    details: dict = field(default_factory=dict)  # counted cost, loss curve, HMC acceptance


def complete(generator, discriminator, config: Config, images: np.ndarray, mask: Mask, method: str = "ours",
             approach: str = "adam", starts: int | None = None, mode: str | None = None, seed: int | None = None,
             progress: str | None = None, strategy=None) -> Completion:
    """Completes `images` (in [-1, 1]) under `mask` with `method` (ours, or amos with `approach`)."""
    seed = config.seed if seed is None else seed
    began = time.perf_counter()
    if method == "ours":
        completion = _ours(generator, config, images, mask, starts or config.completion.starts,
                           mode or config.completion.mode, seed, progress, strategy)
    else:
        completion = _amos(generator, discriminator, config, images, mask, approach, seed)
    completion.seconds = time.perf_counter() - began
    return completion


def _ours(generator, config: Config, images, mask: Mask, starts: int, mode: str, seed: int, progress, strategy):
    if config.polish.method != "none":  # the known pixels' problem gets the completion's polish
        config = config_lib.replace(config, polish={"method": config.completion.polish})
    found = best_of_starts(observed_generator(generator, mask), config, observe(images, mask), starts, seed, mode,
                           progress, strategy)
    frames = [(0, generator(found["z_start"], training=False).numpy()),
              (1, generator(found["z_before_polish"], training=False).numpy())]
    reconstructions = generator(found["z"], training=False).numpy()
    frames.append((2, reconstructions))
    return Completion("ours", found["z"], reconstructions, known_pixel_error(reconstructions, images, mask), 0.0,
                      frames, {"starts": starts, "mode": mode, "frames": ["start", "first-order phase", "polish"],
                               "counted_step_equivalents_per_row": round(found["counted_step_equivalents"], 1)})


def _amos(generator, discriminator, config: Config, images, mask: Mask, approach: str, seed: int):
    settings = config.completion
    loss = AmosLoss(generator, discriminator, images, mask, settings.lam)
    prior = latent_prior(config)
    z0 = prior.sample(np.random.default_rng(seed), (len(images), config.model.z_dim))
    frames = []

    def keep(iteration, fake):
        frames.append((iteration, fake))

    found = amos_adam(loss, z0, settings, keep, prior.box) if approach == "adam" else \
        amos_hmc(loss, z0, settings, seed, keep, prior.box)
    reconstructions = generator(found["z"], training=False).numpy()
    details = {"approach": approach, "iterations": settings.iterations, "lam": settings.lam,
               "perceptual_loss": discriminator is not None, "first_loss": found["loss_curve"][0],
               "final_loss": found["loss_curve"][-1]}
    if approach == "hmc":
        details["acceptance"] = found["acceptance"]
    return Completion(f"amos-{approach}", found["z"], reconstructions, known_pixel_error(reconstructions, images, mask),
                      0.0, frames, details)
