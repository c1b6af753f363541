"""Amos's DCGAN training loop: one discriminator update, then two generator updates per step.

Everything a run produces lives in its run directory (see `rundir`): checkpoints that resume at
the right step with the same RNG state, fixed-z sample grids, TensorBoard scalars and the
exported generator that the inversion loads.
"""
from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time

import keras
import tensorflow as tf

from dcgan_inversion import run as rundir
from dcgan_inversion.infra import distribute, preemption
from dcgan_inversion.infra.checkpoints import restore_newest_intact
from dcgan_inversion.config import Config, seeds
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.data.pipeline import TrainingData, training_data
from dcgan_inversion.data.images import SAMPLE_GRID, image_grid
from dcgan_inversion.infra.errors import UserError, first_line
from dcgan_inversion.infra.io_utils import write_png
from dcgan_inversion.gan.model import make_discriminator, make_generator


class DCGANTrainer:
    """Holds the models, optimizers, RNG and checkpoint of one training run, under a strategy.

    Everything with state is created in `strategy.scope()`. Each step draws the global batch's
    z in cross-replica context (every worker's RNG holds the same state, so all draw the same z)
    and each replica takes its rows; per-example losses are averaged over the global batch,
    because Keras optimizers sum the replicas' gradients.
    """

    def __init__(self, config: Config, run_dir, strategy=None):
        self.config = config
        self.paths = rundir.RunPaths(run_dir)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = distribute.is_chief(self.strategy)
        replicas = self.strategy.num_replicas_in_sync
        if config.train.batch_size % replicas:
            raise UserError(f"train.batch_size={config.train.batch_size} does not split evenly over {replicas} replicas")
        model_config, train = config.model, config.train
        with self.strategy.scope():
            self.generator = make_generator(model_config, synchronized=replicas > 1)
            self.discriminator = make_discriminator(model_config, synchronized=replicas > 1)
            self.g_optimizer = keras.optimizers.Adam(train.learning_rate, beta_1=train.beta1, name="g_adam")
            self.d_optimizer = keras.optimizers.Adam(train.learning_rate, beta_1=train.beta1, name="d_adam")
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.rng = tf.random.Generator.from_seed(config.seed)
            self.prior = latent_prior(config)
            self.step = tf.Variable(0, dtype=tf.int64, name="step")
            self.sample_z = tf.Variable(
                self.prior.sample_tf(tf.random.Generator.from_seed(seeds.stream(config.seed, seeds.SAMPLE_GRID)),
                                     (SAMPLE_GRID**2, model_config.z_dim)),
                trainable=False, name="sample_z",
            )
            self.checkpoint = tf.train.Checkpoint(
                generator=self.generator, discriminator=self.discriminator,
                g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                rng=self.rng, step=self.step, sample_z=self.sample_z,
            )
        # Every worker saves (the save is collective); only the chief's copy is kept.
        self._scratch = None if self.chief else tempfile.mkdtemp(prefix="dcgan-worker-checkpoint-")
        self.manager = self._manager()
        self._cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)

    def _manager(self) -> tf.train.CheckpointManager:
        return tf.train.CheckpointManager(self.checkpoint, self._scratch or str(self.paths.checkpoints),
                                          max_to_keep=self.config.train.checkpoints_to_keep if self.chief else 1)

    def restore(self) -> int:
        """Resumes from the run's newest checkpoint, if any; returns the step reached."""
        try:
            restored = restore_newest_intact(self.checkpoint, self.paths.checkpoints)
        except (ValueError, AssertionError, tf.errors.OpError) as error:
            raise UserError(f"a checkpoint in {self.paths.checkpoints} does not match this model config: "
                            f"{first_line(error)}") from None
        if restored:
            self.manager = self._manager()  # re-reads the index, which no longer lists damaged checkpoints
        return int(self.step.numpy())

    def distribute(self, dataset: tf.data.Dataset):
        """The global-batch dataset split over the replicas (workers shard it element-wise)."""
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return self.strategy.experimental_distribute_dataset(dataset.with_options(options))

    @tf.function
    def train_step(self, real_images):
        """One D update on real vs G(z), then `g_updates_per_step` G updates on the same z."""
        z = self.prior.sample_tf(self.rng, (self.config.train.batch_size, self.config.model.z_dim))
        results = self.strategy.run(self._replica_step, args=(real_images, z))
        self.step.assign_add(1)
        return {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for name, value in results.items()}

    def _average(self, per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.config.train.batch_size)

    def _replica_step(self, real_images, global_z):
        rows = tf.shape(real_images)[0]
        first = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32) * rows
        z = global_z[first:first + rows]
        with tf.GradientTape() as tape:
            fake_images = self.generator(z, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self._average(self._cross_entropy(tf.ones_like(real_logits), real_logits)
                                   + self._cross_entropy(tf.zeros_like(fake_logits), fake_logits))
        gradients = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_variables))
        for _ in range(self.config.train.g_updates_per_step):
            with tf.GradientTape() as tape:
                fake_logits = self.discriminator(self.generator(z, training=True), training=True)
                g_loss = self._average(self._cross_entropy(tf.ones_like(fake_logits), fake_logits))
            gradients = tape.gradient(g_loss, self.generator.trainable_variables)
            self.g_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))
        return {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": self._average(tf.sigmoid(real_logits[:, 0])),
            "d_fake": self._average(tf.sigmoid(fake_logits[:, 0])),
        }

    def save_samples(self) -> None:
        images = self.generator(self.sample_z, training=False).numpy()
        step = int(self.step.numpy())
        grid = image_grid(images)
        write_png(self.paths.samples / f"step_{step:06d}.png", grid)
        write_png(self.paths.latest_samples, grid)

    def save(self) -> None:
        """Checkpoint (full state) plus the generator export the inversion loads (chief only)."""
        self.manager.save(checkpoint_number=int(self.step.numpy()))
        if self.chief:
            rundir.export_generator(self.generator, self.paths, int(self.step.numpy()))

    def close(self) -> None:
        """Removes a worker's scratch checkpoints."""
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _coordinated_on_preemption(trainer: DCGANTrainer):
    """The training step; across workers, wrapped in TensorFlow's PreemptionCheckpointHandler.

    SIGTERM may reach one worker of a cluster only, and a checkpoint is a collective save: the
    handler has every worker save at the same step, then exits. In one process the plain handler
    of preemption.py is enough (the loop checks it after each step).
    """
    if not isinstance(trainer.strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return trainer.train_step

    def stopped():
        print(f"stopped: SIGTERM in the cluster: every worker saved a checkpoint at step {int(trainer.step.numpy())}; "
              "run the same command on every worker to resume", file=sys.stderr, flush=True)
        sys.exit(preemption.EXIT_STATUS)

    handler = tf.distribute.experimental.PreemptionCheckpointHandler(
        trainer.strategy.cluster_resolver, trainer.manager,
        termination_config=tf.distribute.experimental.TerminationConfig(exit_fn=stopped))
    return lambda batch: handler.run(trainer.train_step, batch)


def total_steps(config: Config, data: TrainingData) -> int:
    if config.train.steps is not None:
        return config.train.steps
    return config.train.epochs * max(1, data.num_images // config.train.batch_size)


def train(config: Config, run_dir, verbose: bool = True) -> DCGANTrainer:
    """Trains (or resumes) the run in `run_dir` until `total_steps`; Ctrl-C checkpoints first.

    Under `distribute.strategy=multi_worker` every worker runs this with the same `run_dir`
    (shared storage); only the chief writes to it.
    """
    rundir.check_training_inputs(config, run_dir)
    strategy = distribute.make_strategy(config.distribute.strategy)  # first: collectives start before other ops
    chief = distribute.is_chief(strategy)
    paths = rundir.prepare_run(config, run_dir) if chief else rundir.RunPaths(run_dir)
    verbose = verbose and chief
    keras.utils.set_random_seed(config.seed)  # weights init, tf.data shuffles and flips, NumPy
    data = training_data(config)
    trainer = DCGANTrainer(config, paths.root, strategy)
    try:
        with preemption.interrupts_at_step_boundaries():
            _train(trainer, data, verbose)
    finally:
        trainer.close()
    return trainer


def _train(trainer: DCGANTrainer, data: TrainingData, verbose: bool) -> None:
    config, paths = trainer.config, trainer.paths
    start = trainer.restore()
    steps = total_steps(config, data)
    if verbose:
        action = f"resuming at step {start}" if start else "starting"
        replicas = trainer.strategy.num_replicas_in_sync
        on = f" on {replicas} replicas ({config.distribute.strategy})" if replicas > 1 else ""
        print(f"training {paths.root}: {data.description}, {steps} steps of batch "
              f"{config.train.batch_size}{on}, {action}", flush=True)
    if start >= steps:
        if not paths.generator_weights.exists():
            trainer.save()
        if verbose:
            print(f"already trained to step {start}: nothing to do (raise train.steps to continue)")
        return

    writer = tf.summary.create_file_writer(str(paths.logs)) if trainer.chief else tf.summary.create_noop_writer()
    progress = keras.utils.Progbar(
        steps, stateful_metrics=["d_loss", "g_loss", "D(x)", "D(G(z))"], verbose=1 if verbose else 0,
        interval=0.1 if sys.stdout.isatty() else 15.0, unit_name="step",  # keep logs short off a terminal
    )
    progress.update(start)
    train = config.train
    batches = iter(trainer.distribute(data.dataset))
    step_function = _coordinated_on_preemption(trainer)
    started = time.time()
    try:
        for step in range(start + 1, steps + 1):
            metrics = {name: float(value) for name, value in step_function(next(batches)).items()}
            if not all(math.isfinite(value) for value in metrics.values()):
                raise UserError(f"training diverged at step {step} (non-finite loss {metrics}); "
                                f"the last good checkpoint is kept in {paths.checkpoints}")
            if step % train.log_every == 0 or step == steps:
                with writer.as_default(step=step):
                    for name, value in metrics.items():
                        tf.summary.scalar(name, value)
            if trainer.chief and (step % train.sample_every == 0 or step == steps):
                trainer.save_samples()
            if step % train.checkpoint_every == 0 or step == steps:
                trainer.save()
            progress.update(step, [("d_loss", metrics["d_loss"]), ("g_loss", metrics["g_loss"]),
                                   ("D(x)", metrics["d_real"]), ("D(G(z))", metrics["d_fake"])])
            if preemption.interrupted() and step < steps:
                raise KeyboardInterrupt  # here, between steps: the handler below saves at this step
            if preemption.requested() and step < steps:
                if step % train.checkpoint_every:
                    trainer.save()
                raise preemption.Preempted(f"SIGTERM at step {step}: saved a checkpoint in {paths.checkpoints}; "
                                           "run the same command to resume")
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
