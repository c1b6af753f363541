"""The inversion engine: recover z' with G(z') = x by gradient steps on z' (Sec. 2).

One `LatentInversion` optimises many rows at once. The generator runs in inference mode (BN
moving averages), so every row is an independent problem and rows with different clip modes
share each step's compute. `steps_per_call` steps run inside one compiled `tf.range` loop, so
Python only wakes between calls to report progress, take snapshots and stop early.
"""
from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion import distribute
from dcgan_inversion.clip import STOCHASTIC, clip_latents, keyed_redraws, mode_ids, out_of_bounds
from dcgan_inversion.config import InvertConfig, PolishConfig
from dcgan_inversion.model import mixed_precision_copy
from dcgan_inversion.polish import LevenbergMarquardt


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


def latent_error(z: np.ndarray, z_true: np.ndarray) -> np.ndarray:
    """||z - z'||_2^2 / z_dim per row: the success metric of Table 1."""
    return np.sum(np.square(np.asarray(z, np.float64) - z_true), axis=-1) / z.shape[-1]


@dataclass
class InversionResult:
    """What one inversion produced, per row; numpy arrays so experiments can save them."""

    z: np.ndarray                      # recovered z', (rows, z_dim)
    pixel_error: np.ndarray            # mean squared pixel error of G(z') vs the target, (rows,)
    z_error: np.ndarray | None         # ||z - z'||^2 / z_dim, when the true z is known
    first_step: np.ndarray | None      # first step each threshold was crossed, -1 if never, (rows, T)
    thresholds: tuple
    steps: int
    seconds: float
    first_order_seconds: float = 0.0
    seconds_per_step: float = 0.0                  # first-order cost, measured after the first (tracing) call
    history_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    history_z_error: np.ndarray | None = None      # (calls, rows) during the first-order phase
    snapshots: dict = field(default_factory=dict)  # step -> G(z') of `snapshot_rows`
    # Polish phase (polish.py), when it ran:
    polish_iterations: int = 0
    polish_seconds: float = 0.0
    polish_z_error: np.ndarray | None = None       # (iterations, rows)
    z_before_polish: np.ndarray | None = None
    z_error_before_polish: np.ndarray | None = None

    @property
    def step_equivalents(self) -> float:
        """First-order steps plus the polish's time counted in first-order steps of this batch."""
        if not self.steps:
            return float(self.polish_iterations)
        return self.steps + self.polish_seconds / self.seconds_per_step

    def below(self, threshold: float) -> np.ndarray:
        """Rows whose final z error is below `threshold`."""
        return self.z_error < threshold

    def ever_below(self, threshold: float) -> np.ndarray:
        """Rows that crossed `threshold` at some step ("sticky", as the authors counted)."""
        return self.first_step[:, self.thresholds.index(threshold)] >= 0


class LatentInversion:
    """State of one batched inversion: z', optimizer, step and per-row tracking.

    One shard of rows: `first_row` and `total_rows` place it in the whole batch, so its
    stochastic-clip draws (keyed by seed, step and row) are the same however rows are sharded.
    """

    def __init__(self, generator: keras.Model, config: InvertConfig, targets, z_init, modes,
                 z_true=None, seed: int = 0, first_row: int = 0, total_rows: int | None = None):
        self.generator = generator
        self.config = config
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
        self.seed, self.first_row = seed, first_row
        self.total_rows = rows if total_rows is None else total_rows
        self.optimizer = make_optimizer(config)
        self.optimizer.build([self.z])
        self._moments = [v for v in self.optimizer.variables if v.shape == self.z.shape]
        self._run_steps = tf.function(self._run_steps_eager, jit_compile=config.jit_compile)

    def state(self) -> dict:
        """What a checkpoint must hold to resume this shard exactly (clip draws are keyed by step)."""
        return {"z": self.z, "optimizer": self.optimizer, "step": self.step, "first_step": self.first_step}

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
        config = self.config
        if config.reset_moments:
            redrawn = out_of_bounds(updated, config.low, config.high) & (self.modes[:, None] == STOCHASTIC)
            for moment in self._moments:
                moment.assign(tf.where(redrawn, tf.zeros_like(moment), moment))
        redraws = keyed_redraws(self.seed, self.step, self.total_rows, updated.shape[1], self.first_row,
                                updated.shape[0], config.low, config.high)
        self.z.assign(clip_latents(updated, self.modes, redraws, config.low, config.high))
        self.step.assign_add(1)
        if self.z_true is not None:
            crossed = (self.z_error()[:, None] < self.thresholds[None, :]) & (self.first_step < 0)
            self.first_step.assign(tf.where(crossed, self.step, self.first_step))

    def _run_steps_eager(self, count):
        for _ in tf.range(count):
            self._step()

    def run_steps(self, count: int) -> None:
        """`count` steps in one compiled call (no retracing: the count is a tensor)."""
        self._run_steps(tf.constant(count, tf.int64))

    def images(self, rows=None) -> np.ndarray:
        z = self.z if rows is None else tf.gather(self.z, rows)
        return self.generator(z, training=False).numpy()


class ShardedInversion:
    """The rows of one batch split over a strategy's replicas, one `LatentInversion` each.

    Each shard's variables live on its replica's device and `strategy.run` steps all shards
    at once; nothing is exchanged between them. With the default strategy there is one shard.
    Results come back as numpy arrays in the original row order.
    """

    def __init__(self, generator, config: InvertConfig, targets, z_init, modes, z_true=None, seed: int = 0,
                 strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.generator = generator
        rows = len(z_init)
        devices = distribute.replica_devices(self.strategy)
        self.slices = distribute.shard_slices(rows, len(devices))
        self.shards = []
        modes = list(modes)
        for device, part in zip(devices, self.slices):
            if part.start == part.stop:
                self.shards.append(None)  # fewer rows than replicas
                continue
            with tf.device(device) if device else contextlib.nullcontext():
                self.shards.append(LatentInversion(
                    generator, config, np.asarray(targets)[part], np.asarray(z_init)[part], modes[part],
                    None if z_true is None else np.asarray(z_true)[part], seed, part.start, rows))
        self._replica_ids = distribute.replica_ids(self.strategy)
        self._run = tf.function(self._run_eager)

    @property
    def live(self) -> list[LatentInversion]:
        return [shard for shard in self.shards if shard is not None]

    def set_generator(self, generator) -> None:
        self.generator = generator
        for shard in self.live:
            shard.generator = generator

    def _run_eager(self, count):
        def replica(index):
            if self.shards[index] is not None:
                self.shards[index]._run_steps(count)

        self.strategy.run(replica, args=(self._replica_ids,))

    def run_steps(self, count: int) -> None:
        self._run(tf.constant(count, tf.int64))

    def _gather(self, values) -> np.ndarray:
        return np.concatenate([np.asarray(value) for value in values])

    def z(self) -> np.ndarray:
        return self._gather(shard.z.numpy() for shard in self.live)

    def z_error(self) -> np.ndarray:
        return self._gather(shard.z_error().numpy() for shard in self.live)

    def pixel_error(self) -> np.ndarray:
        return self._gather(shard.pixel_error().numpy() for shard in self.live)

    def first_step(self) -> np.ndarray:
        return self._gather(shard.first_step.numpy() for shard in self.live)

    def targets(self) -> np.ndarray:
        return self._gather(shard.targets.numpy() for shard in self.live)

    def images(self, rows=None, z=None) -> np.ndarray:
        z = self.z() if z is None else z
        return self.generator(tf.constant(z if rows is None else z[rows]), training=False).numpy()

    def state(self) -> dict:
        return {f"shard{index}": tf.train.Checkpoint(**shard.state()) for index, shard in enumerate(self.live)}


def invert(generator, config: InvertConfig, targets, z_init, modes, z_true=None, seed: int = 0,
           steps: int | None = None, snapshot_steps=(), snapshot_rows=None, progress: str | None = None,
           polish: PolishConfig | None = None, strategy=None, checkpoint_dir=None) -> InversionResult:
    """Inverts every row: batches of at most `config.max_rows`, one after the other.

    `strategy` (a tf.distribute strategy) shards each batch's rows over its replicas.
    `checkpoint_dir` makes the run resumable: the state is saved every `config.checkpoint_every`
    steps and an interrupted run continues from there to the same result.
    """
    rows = len(z_init)
    batch_dir = (lambda index: None) if checkpoint_dir is None else (lambda index: Path(checkpoint_dir) / f"batch{index}")
    if rows <= config.max_rows:
        return _invert_batch(generator, config, targets, z_init, modes, z_true, seed, steps, snapshot_steps,
                             snapshot_rows, progress, polish, strategy, batch_dir(0))
    if snapshot_steps:
        raise ValueError(f"snapshots need all rows in one batch: {rows} rows > invert.max_rows={config.max_rows}")
    parts = []
    for index, first in enumerate(range(0, rows, config.max_rows)):
        part = slice(first, first + config.max_rows)
        label = progress and f"{progress} (rows {first + 1}-{min(rows, first + config.max_rows)} of {rows})"
        parts.append(_invert_batch(generator, config, np.asarray(targets)[part], np.asarray(z_init)[part],
                                   list(modes)[part], None if z_true is None else np.asarray(z_true)[part],
                                   seed + index, steps, (), None, label, polish, strategy, batch_dir(index)))
    return _concatenate(parts)


def _concatenate(parts: list[InversionResult]) -> InversionResult:
    """One result from batches run one after the other (histories padded with their last values)."""
    def rows(name):
        values = [getattr(part, name) for part in parts]
        return None if values[0] is None else np.concatenate(values)

    def padded(name):
        values = [getattr(part, name) for part in parts]
        if values[0] is None:
            return None
        length = max(len(v) for v in values)
        return np.concatenate([np.concatenate([v, np.repeat(v[-1:], length - len(v), axis=0)]) for v in values], axis=1)

    longest = max(parts, key=lambda part: len(part.history_steps))
    return InversionResult(
        z=rows("z"), pixel_error=rows("pixel_error"), z_error=rows("z_error"), first_step=rows("first_step"),
        thresholds=parts[0].thresholds, steps=max(part.steps for part in parts),
        seconds=sum(part.seconds for part in parts),
        first_order_seconds=sum(part.first_order_seconds for part in parts),
        seconds_per_step=sum(part.seconds_per_step for part in parts),
        history_steps=longest.history_steps, history_z_error=padded("history_z_error"),
        polish_iterations=max(part.polish_iterations for part in parts),
        polish_seconds=sum(part.polish_seconds for part in parts),
        polish_z_error=padded("polish_z_error") if all(part.polish_z_error is not None for part in parts) else None,
        z_before_polish=rows("z_before_polish"), z_error_before_polish=rows("z_error_before_polish"),
    )


def _invert_batch(generator, config, targets, z_init, modes, z_true, seed, steps, snapshot_steps, snapshot_rows,
                  progress, polish, strategy, checkpoint_dir) -> InversionResult:
    """First-order phase to `steps` (default config.steps), then the optional polish phase."""
    steps = config.steps if steps is None else steps
    strategy = strategy or tf.distribute.get_strategy()
    first_order_generator = generator
    if config.precision != "float32":
        with strategy.scope():
            first_order_generator = mixed_precision_copy(generator, config.precision)
    inversion = ShardedInversion(first_order_generator, config, targets, z_init, modes, z_true, seed, strategy)
    problem = _fingerprint(config, targets, z_init, modes, z_true, seed, steps, snapshot_steps, snapshot_rows,
                           inversion.slices)  # another sharding (strategy) starts afresh
    log = _FirstOrderLog(inversion, checkpoint_dir, problem)
    every = config.checkpoint_every if checkpoint_dir is not None else 0
    stops = sorted({s for s in snapshot_steps if 0 < s < steps} | set(range(0, steps, config.steps_per_call)[1:])
                   | (set(range(every, steps, every)) if every else set()) | {steps})
    if log.restore():
        stops = [stop for stop in stops if stop > log.done] if not log.finished else []
        if progress:
            print(f"{progress.rstrip(':')}: resuming from step {log.done}", flush=True)
    elif 0 in snapshot_steps:
        log.snapshots[0] = inversion.images(snapshot_rows)
    bar = _progress_bar(progress, steps, z_true is not None)
    if bar and log.done:
        bar.update(log.done)
    for stop in stops:
        log.run(stop)
        if stop in snapshot_steps:
            log.snapshots[stop] = inversion.images(snapshot_rows)
        values = []
        if z_true is not None:
            log.history_steps.append(stop)
            log.history.append(inversion.z_error())
            values = _progress_values(log.history[-1])
        finished = stop == stops[-1] or (config.early_stop and z_true is not None
                                         and np.all(log.history[-1] < min(config.thresholds)))
        if bar:
            bar.update(stop, values, finalize=finished or None)  # an early stop still ends the bar's line
        if every and (stop % every == 0 or finished):
            log.save(finished)
        if finished:
            break
    inversion.set_generator(generator)  # final errors and images always come from the float32 generator
    if snapshot_steps:
        log.snapshots[log.done] = inversion.images(snapshot_rows)
    z = inversion.z()
    result = InversionResult(
        z=z,
        pixel_error=inversion.pixel_error(),
        z_error=None if z_true is None else latent_error(z, z_true),
        first_step=None if z_true is None else inversion.first_step(),
        thresholds=tuple(config.thresholds),
        steps=log.done,
        seconds=log.seconds,
        first_order_seconds=log.seconds,
        seconds_per_step=log.seconds_per_step(),
        history_steps=np.asarray(log.history_steps, np.int64),
        history_z_error=np.stack(log.history) if log.history else None,
        snapshots=log.snapshots,
    )
    if polish is not None and polish.method != "none" and polish.iterations > 0:
        _polish(generator, config, polish, inversion, result, z_true, snapshot_rows, progress, strategy)
    return result


def _fingerprint(config, *inputs) -> str:
    """Identifies an inversion problem, so a checkpoint is only resumed by the run that wrote it."""
    digest = hashlib.sha256(repr(config).encode())
    for value in inputs:
        value = value.numpy() if hasattr(value, "numpy") else value
        digest.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


class _FirstOrderLog:
    """Steps run, timing, error history and snapshots of the first-order phase, and its checkpoints.

    A checkpoint is the shards' state (tf.train.CheckpointManager) plus `log-<step>.npz` with
    everything else; the NPZ is written first, so the newest checkpoint always has its log.
    """

    def __init__(self, inversion: ShardedInversion, checkpoint_dir, problem: str):
        self.inversion, self.problem = inversion, problem
        self.done, self.finished = 0, False
        self.seconds, self.warm_seconds, self.warm_steps = 0.0, 0.0, 0
        self._traced = False  # the first call of a process traces the step function
        self.history_steps, self.history, self.snapshots = [], [], {}
        self.directory = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.manager = None
        if self.directory is not None:
            self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(**inversion.state()), str(self.directory),
                                                      max_to_keep=1)

    def run(self, stop: int) -> None:
        """Steps to `stop`; the first call of a process includes tracing, so it is timed apart."""
        started = time.time()
        self.inversion.run_steps(stop - self.done)
        elapsed = time.time() - started
        if self._traced:
            self.warm_seconds += elapsed
            self.warm_steps += stop - self.done
        self._traced = True
        self.seconds += elapsed
        self.done = stop

    def seconds_per_step(self) -> float:
        if self.warm_steps:
            return self.warm_seconds / self.warm_steps
        return self.seconds / max(self.done, 1)  # one call only: includes tracing, overstates the cost

    def save(self, finished: bool) -> None:
        from dcgan_inversion.io_utils import write_npz

        self.finished = finished
        write_npz(self.directory / f"log-{self.done}.npz", problem=self.problem, done=self.done, finished=finished,
                  seconds=[self.seconds, self.warm_seconds, self.warm_steps],
                  history_steps=np.asarray(self.history_steps, np.int64),
                  history=np.stack(self.history) if self.history else np.zeros((0, 0)),
                  snapshot_steps=np.asarray(sorted(self.snapshots), np.int64),
                  **{f"snapshot{step}": images for step, images in self.snapshots.items()})
        self.manager.save(checkpoint_number=self.done)
        for old in self.directory.glob("log-*.npz"):
            if old.name != f"log-{self.done}.npz":
                old.unlink(missing_ok=True)

    def restore(self) -> bool:
        """Continues from the newest checkpoint, if there is one; True if it did."""
        if self.manager is None or not self.manager.latest_checkpoint:
            return False
        step = int(self.manager.latest_checkpoint.rsplit("-", 1)[1])
        log_file = self.directory / f"log-{step}.npz"
        if not log_file.exists():
            return False
        with np.load(log_file) as saved:
            if str(saved["problem"]) != self.problem:  # another config, other inputs or shards: start afresh
                return False
            self.manager.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
            self.done, self.finished = int(saved["done"]), bool(saved["finished"])
            seconds, warm_seconds, warm_steps = saved["seconds"]
            self.seconds, self.warm_seconds, self.warm_steps = float(seconds), float(warm_seconds), int(warm_steps)
            self.history_steps = list(saved["history_steps"])
            self.history = list(saved["history"])
            self.snapshots = {int(step): saved[f"snapshot{step}"] for step in saved["snapshot_steps"]}
        return True


def _progress_bar(progress, total, tracked):
    if not progress:
        return None
    print(progress, flush=True)
    return keras.utils.Progbar(total, unit_name="step", stateful_metrics=["median z err", "below 1e-4"] if tracked else None)


def _progress_values(z_error):
    return [("median z err", float(np.median(z_error))), ("below 1e-4", float(np.mean(z_error < 1e-4)))]


def _polish(generator, config, polish, inversion, result, z_true, snapshot_rows, progress, strategy) -> None:
    """Runs the LM polish on the first-order result and folds its outcome into `result`."""
    polisher = LevenbergMarquardt(generator, polish, config.low, config.high, strategy)
    bar = _progress_bar(progress and f"{progress.rstrip(':')}: Levenberg-Marquardt polish", polish.iterations, z_true is not None)
    history = []
    thresholds = np.asarray(config.thresholds)
    first_step = result.first_step

    def on_iteration(iteration, z):
        if z_true is None:
            return bar.update(iteration) if bar else False
        z_error = latent_error(z, z_true)
        history.append(z_error)
        crossed = (z_error[:, None] < thresholds[None, :]) & (first_step < 0)
        first_step[crossed] = result.steps + iteration  # polish iterations continue the step count
        if bar:
            bar.update(iteration, _progress_values(z_error))
        return config.early_stop and bool(np.all(z_error < thresholds.min()))

    z, info = polisher.run(result.z, inversion.targets(), on_iteration=on_iteration)
    if bar and info["iterations"] < polish.iterations:
        bar.update(info["iterations"], finalize=True)  # stopped early: end the bar's line
    result.z_before_polish, result.z_error_before_polish = result.z, result.z_error
    result.z = z
    result.pixel_error = info["pixel_error"]
    result.z_error = None if z_true is None else latent_error(z, z_true)
    result.polish_iterations = info["iterations"]
    result.polish_seconds = info["seconds"]
    result.seconds += info["seconds"]
    result.polish_z_error = np.stack(history) if history else None
    if result.snapshots:
        result.snapshots[result.steps + info["iterations"]] = inversion.images(snapshot_rows, z)
