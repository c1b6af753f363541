"""The compiled first-order step and its state: one batch of rows, z' updated by a Keras
optimizer on the summed per-row pixel loss, then each row's clip op (Sec. 2).

`steps_per_call` steps run inside one compiled `tf.range` loop, so Python only wakes between
calls. With BN moving averages every row is an independent problem, so rows with different clip
modes share each step's compute; with batch statistics (the authors' way) the rows are coupled.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion.inversion.clip import STOCHASTIC, clip_latents, keyed_redraws, mode_ids, out_of_bounds
from dcgan_inversion.config import InvertConfig
from dcgan_inversion.gan.latents import UNIFORM
from dcgan_inversion.gan.sampling import uses_batch_statistics
from dcgan_inversion.inversion.metrics import first_crossing


def learning_rate(config: InvertConfig):
    """The paper 'attenuates' the rate; the authors halved GD's rate once, at step 50k."""
    rate = config.learning_rate
    if config.schedule == "step":
        return keras.optimizers.schedules.ExponentialDecay(rate, config.decay_steps, config.decay_rate, staircase=True)
    if config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(rate, config.decay_steps, config.decay_rate)
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, config.steps, alpha=config.cosine_alpha)
    return rate


def make_optimizer(config: InvertConfig) -> keras.optimizers.Optimizer:
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate(config))
    return keras.optimizers.Adam(learning_rate(config), beta_1=config.beta1, beta_2=config.beta2,
                                 epsilon=config.epsilon)


class LatentInversion:
    """State of one batched inversion: z', optimizer, step and per-row tracking.

    One shard of rows: `row_ids` (their indices in the whole batch of `total_rows`) key its
    stochastic-clip draws, so a row gets the same draws however rows are sharded or retired.
    """

    def __init__(self, generator: keras.Model, config: InvertConfig, targets, z_init, modes,
                 z_true=None, seed: int = 0, row_ids=None, total_rows: int | None = None, prior=UNIFORM):
        self.generator = generator
        self.config = config
        self.prior = prior  # its box bounds z'; stochastic clipping re-draws from it
        rows = len(z_init)
        self.targets = tf.convert_to_tensor(targets, tf.float32)
        self.modes = mode_ids(modes) if not isinstance(modes, tf.Tensor) else modes
        if self.targets.shape[0] != rows or self.modes.shape[0] != rows:
            raise ValueError("targets, z_init and modes need one entry per row")
        self.z = tf.Variable(np.asarray(z_init, np.float32), name="z")
        self.z_true = None if z_true is None else tf.constant(np.asarray(z_true, np.float32))
        self.thresholds = tf.constant(config.thresholds, tf.float32)
        self.first_step = tf.Variable(-tf.ones((rows, len(config.thresholds)), tf.int64), name="first_step")
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.seed = seed
        self.row_ids = tf.constant(np.arange(rows) if row_ids is None else np.asarray(row_ids), tf.int64)
        self.total_rows = rows if total_rows is None else total_rows
        self.optimizer = make_optimizer(config)
        self.optimizer.build([self.z])
        self._moments = [v for v in self.optimizer.variables if v.shape == self.z.shape]
        self._run_steps = tf.function(self._run_steps_eager, jit_compile=config.jit_compile)

    def state(self) -> dict:
        """What a checkpoint must hold to resume this shard exactly (clip draws are keyed by step)."""
        return {"z": self.z, "optimizer": self.optimizer, "step": self.step, "first_step": self.first_step}

    def row_state(self) -> dict:
        """Per-row state as numpy arrays (z', optimizer moments, tracking), for moving rows elsewhere."""
        return {"z": self.z.numpy(), "first_step": self.first_step.numpy(),
                **{f"moment{index}": moment.numpy() for index, moment in enumerate(self._moments)}}

    def load(self, rows: dict, step: int, iterations: int) -> None:
        """Continues rows exported by `row_state` of another shard: same z', moments, step."""
        self.z.assign(rows["z"])
        self.first_step.assign(rows["first_step"])
        for index, moment in enumerate(self._moments):
            moment.assign(rows[f"moment{index}"])
        self.step.assign(step)
        self.optimizer.iterations.assign(iterations)

    def pixel_error(self) -> tf.Tensor:
        """Mean squared pixel error of G(z') per row (the objective of Sec. 2, per image)."""
        images = self.generator(self.z, training=False)
        return tf.reduce_mean(tf.square(images - self.targets), axis=[1, 2, 3])

    def z_error(self) -> tf.Tensor:
        return tf.reduce_sum(tf.square(self.z - self.z_true), axis=1) / tf.cast(tf.shape(self.z)[1], tf.float32)

    def _apply(self, gradient) -> None:
        """The optimizer's own update of z', applied locally.

        `apply_gradients` would all-reduce the gradient over replicas; under a strategy every
        replica owns different rows, so each shard updates its z' on its own.
        """
        self.optimizer.update_step(gradient, self.z, self.optimizer.learning_rate)
        self.optimizer.iterations.assign_add(1)

    def _step(self) -> None:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(self.pixel_error())  # rows are independent: sum keeps each row's gradient
        self._apply(tape.gradient(loss, self.z))
        updated = self.z.read_value()
        low, high = self.prior.box
        if self.config.reset_moments:
            redrawn = out_of_bounds(updated, low, high) & (self.modes[:, None] == STOCHASTIC)
            for moment in self._moments:
                moment.assign(tf.where(redrawn, tf.zeros_like(moment), moment))
        redraws = keyed_redraws(self.seed, self.step, self.total_rows, updated.shape[1], self.row_ids, self.prior)
        self.z.assign(clip_latents(updated, self.modes, redraws, low, high))
        self.step.assign_add(1)
        if self.z_true is not None:
            crossed = self.z_error()[:, None] < self.thresholds[None, :]
            self.first_step.assign(first_crossing(self.first_step, crossed, self.step, where=tf.where))

    def _run_steps_eager(self, count):
        for _ in tf.range(count):
            self._step()

    def run_steps(self, count: int) -> None:
        """`count` steps in one compiled call (no retracing: the count is a tensor)."""
        self._run_steps(tf.constant(count, tf.int64))

    def images(self, rows=None) -> np.ndarray:
        if uses_batch_statistics(self.generator):  # a row's image depends on the whole batch
            images = self.generator(self.z, training=False).numpy()
            return images if rows is None else images[rows]
        z = self.z if rows is None else tf.gather(self.z, rows)
        return self.generator(z, training=False).numpy()
