"""Amos's completion (complete.py / model.py `complete`): his loss, his Adam, his HMC sampler.

Loss per image: contextual = sum of |known * (G(z) - x)| (L1; for lowres the same on the pooled
images), plus lam times the perceptual loss, the generator's GAN loss on D's logit (sigmoid
cross-entropy against "real", a mean over the batch, as in his graph). `adam`: Adam (lr 0.01,
beta1 0.9, beta2 0.999, eps 1e-8) on z, then a clip to [-1, 1], for `iterations` steps. `hmc`:
Hamiltonian Monte Carlo draws of completions: each iteration a fresh momentum, `hmc_steps`
leapfrog steps with the clip, and a Metropolis accept per image. One difference from his code,
stated: G and D normalise with their batch-norm moving averages (his TF1 graph used each batch's
statistics), so every image is its own problem, as everywhere else in this package.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion.completion.masks import Mask
from dcgan_inversion.completion.observe import observation
from dcgan_inversion.config import CompletionConfig


class AmosLoss:
    """complete_loss(z) per image, and its gradient, for one batch of images under one mask."""

    def __init__(self, generator, discriminator, images: np.ndarray, mask: Mask, lam: float):
        self.generator, self.discriminator, self.lam = generator, discriminator, lam
        self.images = tf.constant(np.asarray(images, np.float32))
        self.known = tf.constant(mask.known)
        self.pool = observation(mask) if mask.lowres_factor else None
        self.value_and_gradient = tf.function(self._value_and_gradient)

    def __call__(self, z):
        """(complete loss per image, contextual loss per image, G(z))."""
        fake = self.generator(z, training=False)
        contextual = tf.reduce_sum(tf.abs(self.known * (fake - self.images)), axis=[1, 2, 3])
        if self.pool is not None:
            contextual += tf.reduce_sum(tf.abs(self.pool(fake) - self.pool(self.images)), axis=[1, 2, 3])
        if self.discriminator is None or self.lam == 0:
            return contextual, contextual, fake
        logits = self.discriminator(fake, training=False)
        perceptual = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits))
        return contextual + self.lam * perceptual, contextual, fake

    def _value_and_gradient(self, z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss, contextual, fake = self(z)
            total = tf.reduce_sum(loss)  # his tf.gradients of the per-image loss vector: of its sum
        return loss, contextual, fake, tape.gradient(total, z)


def amos_adam(loss: AmosLoss, z0: np.ndarray, config: CompletionConfig, on_frame=None, box=(-1.0, 1.0)) -> dict:
    """His `--approach adam`: Adam steps on z, each followed by np.clip(z, -1, 1) (the prior's `box`)."""
    z = tf.Variable(np.asarray(z0, np.float32))
    optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    losses = []

    @tf.function
    def step():
        value, contextual, fake, gradient = loss.value_and_gradient(tf.identity(z))
        optimizer.apply_gradients([(gradient, z)])
        z.assign(tf.clip_by_value(z, *box))
        return value, fake

    for iteration in range(config.iterations):
        value, fake = step()
        losses.append(float(tf.reduce_mean(value)))
        if on_frame is not None and iteration % config.out_interval == 0:
            on_frame(iteration, fake.numpy())  # G(z) before this iteration's update, as his frames are
    return {"z": z.numpy(), "loss_curve": losses}


def amos_hmc(loss: AmosLoss, z0: np.ndarray, config: CompletionConfig, seed: int, on_frame=None,
             box=(-1.0, 1.0)) -> dict:
    """His `--approach hmc`: per iteration a momentum v ~ N(0, 1), `hmc_steps` leapfrog steps
    (v -= eps/2 beta g; z += eps v; clip; v -= eps/2 beta g), then per image a Metropolis accept
    on beta * loss + |v|^2 / 2; beta is multiplied by `hmc_anneal` after each iteration."""
    rng = np.random.default_rng(seed)
    z = np.asarray(z0, np.float32).copy()
    beta, eps = config.hmc_beta, config.hmc_eps
    value, _, fake, gradient = (t.numpy() for t in loss.value_and_gradient(tf.constant(z)))
    losses, accepted = [], []
    for iteration in range(config.iterations):
        if on_frame is not None and iteration % config.out_interval == 0:
            on_frame(iteration, fake)
        z_old, value_old, fake_old, gradient_old = z.copy(), value.copy(), fake, gradient
        v = rng.standard_normal(z.shape).astype(np.float32)
        v_old = v.copy()
        for _ in range(config.hmc_steps):
            v -= eps / 2 * beta * gradient
            z = np.clip(z + eps * v, *box)
            value, _, fake, gradient = (t.numpy() for t in loss.value_and_gradient(tf.constant(z)))
            v -= eps / 2 * beta * gradient
        energy_old = beta * value_old + np.sum(v_old**2, axis=1) / 2
        energy = beta * value + np.sum(v**2, axis=1) / 2
        accept = np.exp(np.minimum(energy_old - energy, 0.0))
        rejected = rng.uniform(size=len(z)) > accept
        z[rejected], value[rejected] = z_old[rejected], value_old[rejected]
        fake = np.where(rejected[:, None, None, None], fake_old, fake)
        gradient = np.where(rejected[:, None], gradient_old, gradient)
        losses.append(float(value.mean()))
        accepted.append(float(1.0 - rejected.mean()))
        beta *= config.hmc_anneal
    return {"z": z, "loss_curve": losses, "acceptance": float(np.mean(accepted)) if accepted else None}
