"""The latent prior: the one place that draws z and says which box the clip ops keep it in.

The paper (Sec. 2) draws z ~ U(-1, 1)^100 and keeps z' inside the prior's support [-1, 1]; its
stochastic clip re-draws a component that reaches the bound from the prior. Training, the
experiments, the user-image search, completion and the encoder all draw through a `LatentPrior`
(compare_gan's `z_generator` is the model), so another prior is one change here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatentPrior:
    """z ~ U(low, high)^z_dim; [low, high] is also the clip box."""

    low: float = -1.0
    high: float = 1.0

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"the latent box needs low < high, got [{self.low}, {self.high}]")

    @property
    def box(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
        """Draws of `shape` from a NumPy `rng`."""
        return rng.uniform(self.low, self.high, tuple(np.atleast_1d(shape))).astype(dtype)

    def sample_tf(self, rng, shape):
        """Draws from a `tf.random.Generator` (training and the encoder draw inside tf.function)."""
        return rng.uniform(shape, minval=self.low, maxval=self.high)


UNIFORM = LatentPrior()  # the paper's z ~ U(-1, 1)


def latent_prior(config) -> LatentPrior:
    """The run's prior, from its config (`Config` or `ModelConfig`): U(invert.low, invert.high), the
    paper's [-1, 1] by default."""
    invert = getattr(config, "invert", None)
    return LatentPrior(invert.low, invert.high) if invert is not None else UNIFORM
