"""The latent prior: the one place that draws z, bounds it and re-draws what leaves the bound.

The paper (Sec. 2) draws z ~ U(-1, 1)^100 and keeps z' inside the prior's support [-1, 1]; its
stochastic clip re-draws a component that reaches the bound from the prior. A generator trained
on another prior keeps the same reasoning with a box of its own: for z ~ N(0, 1) the box is
[-b, b] (`model.latent_box`) and a re-drawn component comes from N(0, 1) truncated to it. Every
caller (training, experiments, your images, completion, the encoder, the clip op) asks a
`LatentPrior` (compare_gan's `z_generator` is the model).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PRIORS = ("uniform", "normal")


@dataclass(frozen=True)
class LatentPrior:
    """z's distribution: `uniform` on [low, high], or `normal` (0, stddev) clipped to the box [low, high]."""

    kind: str = "uniform"
    low: float = -1.0
    high: float = 1.0
    stddev: float = 1.0

    def __post_init__(self):
        if self.kind not in PRIORS:
            raise ValueError(f"unknown latent prior '{self.kind}'; expected one of {', '.join(PRIORS)}")
        if not self.low < self.high:
            raise ValueError(f"the latent box needs low < high, got [{self.low}, {self.high}]")

    @property
    def box(self) -> tuple[float, float]:
        """The clip box: the uniform prior's support, or the normal prior's [-b, b]."""
        return self.low, self.high

    def sample(self, rng: np.random.Generator, shape, dtype=np.float32, truncated: bool = True) -> np.ndarray:
        """Draws of `shape` from `rng`; a normal prior's are kept inside the box unless not `truncated`
        (components outside it drawn again, in order, from the same `rng`)."""
        shape = tuple(np.atleast_1d(shape))
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, shape).astype(dtype)
        draws = rng.standard_normal(shape) * self.stddev
        while truncated:
            outside = (draws <= self.low) | (draws >= self.high)
            if not outside.any():
                break
            draws[outside] = rng.standard_normal(int(outside.sum())) * self.stddev
        return draws.astype(dtype)

    def sample_tf(self, rng, shape):
        """Draws from a `tf.random.Generator` (training and the encoder draw inside tf.function)."""
        if self.kind == "uniform":
            return rng.uniform(shape, minval=self.low, maxval=self.high)
        return rng.normal(shape, stddev=self.stddev)

    def stateless_redraws(self, shape, key):
        """Draws inside the box keyed by `key` (two int64s): the stochastic clip's replacements."""
        import tensorflow as tf

        if self.kind == "uniform":
            return tf.random.stateless_uniform(shape, seed=key, minval=self.low, maxval=self.high)
        return tf.random.stateless_parameterized_truncated_normal(
            shape, seed=key, means=0.0, stddevs=self.stddev, minvals=self.low, maxvals=self.high)

    def share_outside(self, z_dim: int) -> float:
        """The share of true latents (z_dim components each) with a component outside the box: what
        clipping to the box can never recover exactly (0 for the uniform prior)."""
        if self.kind == "uniform":
            return 0.0
        inside = math.erf(self.high / (self.stddev * math.sqrt(2))) / 2 - math.erf(self.low / (self.stddev * math.sqrt(2))) / 2
        return 1.0 - inside**z_dim

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"U({self.low:g}, {self.high:g})"
        return f"N(0, {self.stddev:g}) in the box [{self.low:g}, {self.high:g}]"


UNIFORM = LatentPrior()  # the paper's z ~ U(-1, 1)


def latent_prior(config) -> LatentPrior:
    """The run's prior, from its config (`Config` or `ModelConfig`): the clip box is invert.low/high
    for the uniform prior (the paper's [-1, 1]) and model.latent_box for the normal one."""
    model = getattr(config, "model", config)
    kind = getattr(model, "latent", "uniform")
    if kind == "uniform":
        invert = getattr(config, "invert", None)
        return LatentPrior("uniform", *(invert.low, invert.high) if invert is not None else (-1.0, 1.0))
    box = model.latent_box
    return LatentPrior("normal", -box, box)
