"""Amos's DCGAN training loop: one discriminator update, then two generator updates per step.

Everything a run produces lives in its run directory (see `rundir`): checkpoints that resume at
the right step with the same RNG state, fixed-z sample grids, TensorBoard scalars and the
exported generator that the inversion loads.
"""
from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion import rundir
from dcgan_inversion.config import Config
from dcgan_inversion.data import TrainingData, training_data
from dcgan_inversion.images import to_uint8
from dcgan_inversion.errors import UserError
from dcgan_inversion.io_utils import write_png
from dcgan_inversion.model import make_discriminator, make_generator

SAMPLE_GRID = 8  # 8x8 fixed-z sample grid, as Amos


def sample_latents(rng: tf.random.Generator, rows: int, z_dim: int) -> tf.Tensor:
    """z ~ U(-1, 1)^z_dim, the DCGAN prior that the paper's clipping relies on."""
    return rng.uniform((rows, z_dim), minval=-1.0, maxval=1.0)


def image_grid(images: np.ndarray, columns: int = SAMPLE_GRID) -> np.ndarray:
    """(N, H, W, C) in [-1, 1] -> one uint8 tiled image."""
    images = to_uint8(images)
    count, height, width, channels = images.shape
    rows = math.ceil(count / columns)
    grid = np.zeros((rows * height, columns * width, channels), np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    return grid


class DCGANTrainer:
    """Holds the models, optimizers, RNG and checkpoint of one training run."""

    def __init__(self, config: Config, run_dir):
        self.config = config
        self.paths = rundir.RunPaths(run_dir)
        model_config = config.model
        self.generator = make_generator(model_config)
        self.discriminator = make_discriminator(model_config)
        train = config.train
        self.g_optimizer = keras.optimizers.Adam(train.learning_rate, beta_1=train.beta1, name="g_adam")
        self.d_optimizer = keras.optimizers.Adam(train.learning_rate, beta_1=train.beta1, name="d_adam")
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.sample_z = tf.Variable(
            sample_latents(tf.random.Generator.from_seed(config.seed + 1), SAMPLE_GRID**2, model_config.z_dim),
            trainable=False, name="sample_z",
        )
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator, discriminator=self.discriminator,
            g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
            rng=self.rng, step=self.step, sample_z=self.sample_z,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.paths.checkpoints), max_to_keep=train.checkpoints_to_keep
        )
        self._cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    def restore(self) -> int:
        """Resumes from the newest checkpoint, if any; returns the step reached."""
        latest = self.manager.latest_checkpoint
        if latest:
            try:
                self.checkpoint.restore(latest).assert_existing_objects_matched()
            except (ValueError, AssertionError, tf.errors.OpError) as error:
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise UserError(f"checkpoint {latest} does not match this model config: {first_line}") from None
        return int(self.step.numpy())

    @tf.function
    def train_step(self, real_images):
        """One D update on real vs G(z), then `g_updates_per_step` G updates on the same z."""
        batch = tf.shape(real_images)[0]
        z = sample_latents(self.rng, batch, self.config.model.z_dim)
        with tf.GradientTape() as tape:
            fake_images = self.generator(z, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self._cross_entropy(tf.ones_like(real_logits), real_logits) + self._cross_entropy(
                tf.zeros_like(fake_logits), fake_logits
            )
        gradients = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_variables))
        for _ in range(self.config.train.g_updates_per_step):
            with tf.GradientTape() as tape:
                fake_logits = self.discriminator(self.generator(z, training=True), training=True)
                g_loss = self._cross_entropy(tf.ones_like(fake_logits), fake_logits)
            gradients = tape.gradient(g_loss, self.generator.trainable_variables)
            self.g_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))
        self.step.assign_add(1)
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
        }

    def save_samples(self) -> None:
        images = self.generator(self.sample_z, training=False).numpy()
        step = int(self.step.numpy())
        grid = image_grid(images)
        write_png(self.paths.samples / f"step_{step:06d}.png", grid)
        write_png(self.paths.latest_samples, grid)

    def save(self) -> None:
        """Checkpoint (full state) plus the generator export the inversion loads."""
        self.manager.save(checkpoint_number=int(self.step.numpy()))
        rundir.export_generator(self.generator, self.paths, int(self.step.numpy()))


def total_steps(config: Config, data: TrainingData) -> int:
    if config.train.steps is not None:
        return config.train.steps
    return config.train.epochs * max(1, data.num_images // config.train.batch_size)


def train(config: Config, run_dir, verbose: bool = True) -> DCGANTrainer:
    """Trains (or resumes) the run in `run_dir` until `total_steps`; Ctrl-C checkpoints first."""
    rundir.check_training_inputs(config, run_dir)
    paths = rundir.prepare_run(config, run_dir)
    keras.utils.set_random_seed(config.seed)  # weights init, tf.data shuffles and flips, NumPy
    data = training_data(config)
    trainer = DCGANTrainer(config, paths.root)
    start = trainer.restore()
    steps = total_steps(config, data)
    if verbose:
        action = f"resuming at step {start}" if start else "starting"
        print(f"training {paths.root}: {data.description}, {steps} steps of batch "
              f"{config.train.batch_size}, {action}", flush=True)
    if start >= steps:
        if not paths.generator_weights.exists():
            trainer.save()
        if verbose:
            print(f"already trained to step {start}: nothing to do (raise train.steps to continue)")
        return trainer

    writer = tf.summary.create_file_writer(str(paths.logs))
    progress = keras.utils.Progbar(
        steps, stateful_metrics=["d_loss", "g_loss", "D(x)", "D(G(z))"], verbose=1 if verbose else 0,
        interval=0.1 if sys.stdout.isatty() else 15.0, unit_name="step",  # keep logs short off a terminal
    )
    progress.update(start)
    train = config.train
    batches = iter(data.dataset)
    started = time.time()
    try:
        for step in range(start + 1, steps + 1):
            metrics = {name: float(value) for name, value in trainer.train_step(next(batches)).items()}
            if not all(math.isfinite(value) for value in metrics.values()):
                raise UserError(f"training diverged at step {step} (non-finite loss {metrics}); "
                                f"the last good checkpoint is kept in {paths.checkpoints}")
            if step % train.log_every == 0 or step == steps:
                with writer.as_default(step=step):
                    for name, value in metrics.items():
                        tf.summary.scalar(name, value)
            if step % train.sample_every == 0 or step == steps:
                trainer.save_samples()
            if step % train.checkpoint_every == 0 or step == steps:
                trainer.save()
            progress.update(step, [("d_loss", metrics["d_loss"]), ("g_loss", metrics["g_loss"]),
                                   ("D(x)", metrics["d_real"]), ("D(G(z))", metrics["d_fake"])])
    except KeyboardInterrupt:
        trainer.save()
        print(f"\ninterrupted: saved a checkpoint at step {int(trainer.step.numpy())} in {paths.checkpoints}; "
              "run the same command to resume", file=sys.stderr)
        raise
    finally:
        writer.close()
    if data.skipped.count:
        print(f"warning: skipped {data.skipped.count} unreadable images, e.g. {min(data.skipped.paths)}",
              file=sys.stderr)
    if verbose:
        print(f"trained {steps - start} steps in {time.time() - started:.1f} s; "
              f"generator in {paths.generator_weights}, samples in {paths.latest_samples}")
    return trainer
