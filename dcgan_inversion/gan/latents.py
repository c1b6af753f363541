"""The latent prior: the one place that draws z and says which box the clip ops keep it in.

The paper (Sec. 2) draws z ~ U(-1, 1)^100 and keeps z' inside the prior's support [-1, 1]; its
stochastic clip re-draws a component that reaches the bound from the prior. Most DCGANs in use
(pytorch/examples', keras-io's) draw z ~ N(0, 1) instead, whose support has no bound. Following the
paper's reasoning, a normal prior gets a box [-b, b] that holds nearly all of its mass
(`model.latent_box`, 4.5 by default for it: P(|z_i| > 4.5) = 6.8e-6, so 0.07% of 100-dim latents have a
component outside): standard clipping clamps to the box, and stochastic clipping re-draws from the
prior truncated to the box. Training, the experiments, the user-image search, completion and the
encoder all draw through a `LatentPrior` (compare_gan's `z_generator` is the model).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KINDS = ("uniform", "normal")


@dataclass(frozen=True)
class LatentPrior:
    """z ~ U(low, high)^z_dim, or N(0, 1)^z_dim kept in the box [low, high]; the box is also the clip box."""

    kind: str = "uniform"
    low: float = -1.0
    high: float = 1.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown latent prior '{self.kind}'; expected one of {KINDS}")
        if not self.low < self.high:
            raise ValueError(f"the latent box needs low < high, got [{self.low}, {self.high}]")

    @classmethod
    def normal(cls, box: float) -> "LatentPrior":
        return cls("normal", -float(box), float(box))

    @property
    def box(self) -> tuple[float, float]:
        return self.low, self.high

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"U({self.low:g}, {self.high:g})"
        return f"N(0, 1) in [{self.low:g}, {self.high:g}]"

    def share_outside(self) -> float:
        """The prior's mass outside the box, per component (0 for the uniform prior)."""
        if self.kind == "uniform":
            return 0.0
        return 0.5 * math.erfc(self.high / math.sqrt(2)) + 0.5 * math.erfc(-self.low / math.sqrt(2))

    def sample(self, rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
        """Draws of `shape` from a NumPy `rng`, inside the box (a normal draw outside it is drawn again)."""
        shape = tuple(np.atleast_1d(shape))
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, shape).astype(dtype)
        draws = rng.standard_normal(shape)
        outside = (draws <= self.low) | (draws >= self.high)
        while outside.any():
            draws[outside] = rng.standard_normal(int(outside.sum()))
            outside = (draws <= self.low) | (draws >= self.high)
        return draws.astype(dtype)

    def sample_tf(self, rng, shape):
        """Draws from a `tf.random.Generator` (training and the encoder draw inside tf.function); the
        normal prior's are N(0, 1) as the GAN was trained, the box mattering only to the inversion."""
        if self.kind == "uniform":
            return rng.uniform(shape, minval=self.low, maxval=self.high)
        return rng.normal(shape)

    def stateless_draws(self, shape, key):
        """Draws keyed by `key` (two int64): the same for the same key on any device and after a resume.
        The stochastic clip's re-draws: uniform in the box, or the normal truncated to it."""
        import tensorflow as tf

        if self.kind == "uniform":
            return tf.random.stateless_uniform(shape, seed=key, minval=self.low, maxval=self.high)
        return tf.random.stateless_parameterized_truncated_normal(shape, seed=key, means=0.0, stddevs=1.0,
                                                                  minvals=self.low, maxvals=self.high)


UNIFORM = LatentPrior()  # the paper's z ~ U(-1, 1)
DEFAULT_BOX = {"uniform": 1.0, "normal": 4.5}  # model.latent_box when not given, per prior


def latent_prior(config) -> LatentPrior:
    """The run's prior, from its `Config` (or `ModelConfig`): model.latent (uniform or normal) in the
    box [-b, b], b = model.latent_box or the prior's default (DEFAULT_BOX)."""
    model = getattr(config, "model", config)
    return symmetric_prior(getattr(model, "latent", "uniform"), getattr(model, "latent_box", None))


def symmetric_prior(kind: str, box=None) -> LatentPrior:
    """The prior `kind` in the box [-b, b], b = `box` or the prior's default (DEFAULT_BOX): the rule a
    run's config, a results record and the API's `prior=` share."""
    half_width = DEFAULT_BOX[kind] if box is None else float(box)
    return LatentPrior(kind, -half_width, half_width)
