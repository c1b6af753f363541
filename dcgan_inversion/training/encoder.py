"""An amortised start: an encoder E(x) -> z trained on the run's own generated pairs (z, G(z)).

Generated pairs cost nothing but G's forward pass, so a start inside the polish's basin can be
learned once per generator and then serve every row. E is Amos's discriminator trunk with a z
head (gan/model.py `make_encoder`), trained by Adam on the mean squared latent error, the metric
of Table 1. The run is resumable (`<run>/encoder/`, a CheckpointManager with E, its optimizer, the
step and the latent generator's RNG state) and writes `<run>/encoder.weights.h5` and
`<run>/encoder.json`: its cost in seconds and in counted generator step-equivalents (cost.py), and
its error on held-out latents.
"""
from __future__ import annotations

import sys
import time

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import Config, seeds
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.gan.model import make_encoder
from dcgan_inversion.infra import preemption
from dcgan_inversion.infra.io_utils import write_json
from dcgan_inversion.inversion.cost import encoder_start_cost, forward_flops
from dcgan_inversion.run import RunPaths, export_weights

HELD_OUT = 256  # latents never trained on, for the encoder's error


def encoder_cost_per_sample(generator, encoder) -> float:
    """Counted cost of one training sample, in generator step-equivalents (2F): G's forward pass
    plus E's forward and backward with weight gradients (3x its forward FLOPs)."""
    return (forward_flops(generator) + 3 * forward_flops(encoder)) / (2 * forward_flops(generator))


class EncoderTraining:
    """E, its optimizer, the step and the latent RNG of one run, checkpointed together."""

    def __init__(self, generator, config: Config, run_dir):
        self.generator, self.config, self.paths = generator, config, RunPaths(run_dir)
        self.prior = latent_prior(config)
        settings = config.encoder
        self.encoder = make_encoder(config.model)
        self.optimizer = keras.optimizers.Adam(settings.learning_rate)
        self.optimizer.build(self.encoder.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64)
        self.rng = tf.random.Generator.from_seed(seeds.stream(config.seed, seeds.ENCODER_TRAINING))
        checkpoint = tf.train.Checkpoint(encoder=self.encoder, optimizer=self.optimizer, step=self.step, rng=self.rng)
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.paths.encoder_checkpoints), max_to_keep=2)
        self._train_step = tf.function(self._train_step_eager)

    def restore(self) -> int:
        from dcgan_inversion.infra.checkpoints import restore_newest_intact

        restore_newest_intact(self.manager.checkpoint, self.paths.encoder_checkpoints)
        return int(self.step.numpy())

    def _train_step_eager(self):
        z = self.prior.sample_tf(self.rng, (self.config.encoder.batch_size, self.config.model.z_dim))
        images = self.generator(z, training=False)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self.encoder(images, training=True) - z))
        gradients = tape.gradient(loss, self.encoder.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.encoder.trainable_variables))
        self.step.assign_add(1)
        return loss

    def held_out_error(self) -> np.ndarray:
        """||E(G(z)) - z||^2 / z_dim on latents the training never drew."""
        rng = np.random.default_rng(seeds.stream(self.config.seed, seeds.ENCODER_HELD_OUT))
        z = self.prior.sample(rng, (HELD_OUT, self.config.model.z_dim))
        found = self.encoder(self.generator(z, training=False), training=False).numpy()
        return np.mean(np.square(found - z), axis=1)


def _train_steps(training: EncoderTraining, started: int, bar) -> float:
    """The steps after `started`, checkpointed every checkpoint_every; SIGTERM or Ctrl-C save at the
    step they arrive in and stop. Returns the last loss."""
    settings, loss = training.config.encoder, float("nan")
    for step in range(started + 1, settings.steps + 1):
        loss = float(training._train_step())
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            training.manager.save(checkpoint_number=step)
        if preemption.interrupted() and step < settings.steps:
            training.manager.save(checkpoint_number=step)
            print(f"\ninterrupted: saved the encoder at step {step}; run the same command to resume", file=sys.stderr)
            raise KeyboardInterrupt
        if preemption.requested():
            training.manager.save(checkpoint_number=step)
            raise preemption.Preempted(f"SIGTERM at encoder step {step}: saved; run the same command to resume")
        if step % settings.log_every == 0 or step == settings.steps:
            bar.update(step, [("loss", loss)])
    return loss


def train_encoder(generator, config: Config, run_dir, verbose: bool = True) -> dict:
    """Trains (or resumes) the run's encoder to encoder.steps; returns the record written to encoder.json."""
    training = EncoderTraining(generator, config, run_dir)
    settings, started = config.encoder, training.restore()
    bar = keras.utils.Progbar(settings.steps, stateful_metrics=["loss"], verbose=1 if verbose else 0)
    bar.update(started)
    began = time.perf_counter()
    with preemption.interrupts_at_step_boundaries():
        loss = _train_steps(training, started, bar)
    seconds = time.perf_counter() - began
    export_weights(training.encoder, training.paths.encoder_weights)
    errors = training.held_out_error()
    per_sample = encoder_cost_per_sample(generator, training.encoder)
    record = {"steps": settings.steps, "batch_size": settings.batch_size, "seconds_this_call": round(seconds, 1),
              "steps_this_call": settings.steps - started, "final_loss": loss,
              "held_out_z_error_median": float(np.median(errors)), "held_out_z_error_max": float(errors.max()),
              "training_step_equivalents": round(per_sample * settings.steps * settings.batch_size),
              "start_step_equivalents_per_row": round(encoder_start_cost(generator, training.encoder), 3),
              "config": config_lib.to_dict(config.encoder)}
    write_json(training.paths.encoder_record, record)
    return record
