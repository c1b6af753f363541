"""The inversion engine: recover z' with G(z') = x by gradient steps on z' (Sec. 2).

One `LatentInversion` optimises many rows at once. The generator runs in inference mode (BN
moving averages), so every row is an independent problem and rows with different clip modes
share each step's compute. `steps_per_call` steps run inside one compiled `tf.range` loop, so
Python only wakes between calls to report progress, take snapshots and stop early.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dcgan_inversion import distribute
from dcgan_inversion.clip import STOCHASTIC, clip_latents, keyed_redraws, mode_ids, out_of_bounds
from dcgan_inversion.config import InvertConfig, PolishConfig
from dcgan_inversion.errors import UserError
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


def uses_batch_statistics(generator) -> bool:
    """True for a generator whose batch norm uses each batch's statistics (model.BatchStatisticsGenerator)."""
    return getattr(generator, "batch_statistics", False)


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
    row_steps: int = 0                             # first-order steps summed over rows (rows may switch early)
    switch_step: np.ndarray | None = None          # step at which each row left the first-order phase
    history_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    history_equivalents: np.ndarray = field(default_factory=lambda: np.zeros(0))  # row_steps / rows so far
    history_z_error: np.ndarray | None = None      # (calls, rows) during the first-order phase
    snapshots: dict = field(default_factory=dict)  # step -> G(z') of `snapshot_rows`
    # Polish phase (polish.py), when it ran:
    polish_iterations: int = 0
    polish_seconds: float = 0.0
    polish_z_error: np.ndarray | None = None       # (iterations, rows)
    z_before_polish: np.ndarray | None = None
    z_error_before_polish: np.ndarray | None = None

    @property
    def first_order_equivalents(self) -> float:
        """First-order steps per row on average: rows that switch to the polish early cost fewer."""
        return self.row_steps / len(self.z) if self.row_steps else float(self.steps)

    @property
    def step_equivalents(self) -> float:
        """First-order steps plus the polish's time counted in first-order steps of this batch."""
        if not self.steps:
            return float(self.polish_iterations)
        return self.first_order_equivalents + self.polish_seconds / self.seconds_per_step

    def below(self, threshold: float) -> np.ndarray:
        """Rows whose final z error is below `threshold`."""
        return self.z_error < threshold

    def ever_below(self, threshold: float) -> np.ndarray:
        """Rows that crossed `threshold` at some step ("sticky", as the authors counted)."""
        return self.first_step[:, self.thresholds.index(threshold)] >= 0


class LatentInversion:
    """State of one batched inversion: z', optimizer, step and per-row tracking.

    One shard of rows: `row_ids` (their indices in the whole batch of `total_rows`) key its
    stochastic-clip draws, so a row gets the same draws however rows are sharded or retired.
    """

    def __init__(self, generator: keras.Model, config: InvertConfig, targets, z_init, modes,
                 z_true=None, seed: int = 0, row_ids=None, total_rows: int | None = None):
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
        config = self.config
        if config.reset_moments:
            redrawn = out_of_bounds(updated, config.low, config.high) & (self.modes[:, None] == STOCHASTIC)
            for moment in self._moments:
                moment.assign(tf.where(redrawn, tf.zeros_like(moment), moment))
        redraws = keyed_redraws(self.seed, self.step, self.total_rows, updated.shape[1], self.row_ids,
                                config.low, config.high)
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
        if uses_batch_statistics(self.generator):  # a row's image depends on the whole batch
            images = self.generator(self.z, training=False).numpy()
            return images if rows is None else images[rows]
        z = self.z if rows is None else tf.gather(self.z, rows)
        return self.generator(z, training=False).numpy()


class ShardedInversion:
    """The rows of one batch split over a strategy's replicas, one `LatentInversion` each.

    Each shard's variables live on its replica's device and `strategy.run` steps all shards
    at once; nothing is exchanged between them. With the default strategy there is one shard.

    Rows can leave the first-order phase one by one (`retire`): their z' and tracking are kept as
    they were at that step, and `compact` later rebuilds the shards without them, so retired rows
    stop costing steps. Results come back as numpy arrays over all rows in the original order.
    """

    def __init__(self, generator, config: InvertConfig, targets, z_init, modes, z_true=None, seed: int = 0,
                 strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.generator, self.config, self.seed = generator, config, seed
        self.all_targets = np.asarray(targets, np.float32)
        self.all_modes = list(modes)
        self.z_true = None if z_true is None else np.asarray(z_true, np.float32)
        rows = len(z_init)
        self.retired_at = np.full(rows, -1, np.int64)   # step at which each row left, -1 while it steps
        self._retired_z = np.array(z_init, np.float32)
        self._retired_first_step = -np.ones((rows, len(config.thresholds)), np.int64)
        self._devices = distribute.replica_devices(self.strategy)
        if uses_batch_statistics(generator) and len(self._devices) > 1:
            raise UserError("invert.batch_norm=batch normalises over the whole batch: it runs on one device "
                            "(distribute.strategy=default)")
        self.slices = distribute.shard_slices(rows, len(self._devices))  # the initial sharding
        self._replica_ids = distribute.replica_ids(self.strategy)
        self._build(np.arange(rows), np.asarray(z_init, np.float32))

    def _build(self, present: np.ndarray, z_init: np.ndarray) -> None:
        """One shard per replica over the rows `present` (indices into the whole batch)."""
        self.present = present
        self.shards = []
        for device, part in zip(self._devices, distribute.shard_slices(len(present), len(self._devices))):
            if part.start == part.stop:
                self.shards.append(None)  # fewer rows than replicas
                continue
            rows = present[part]
            with tf.device(device) if device else contextlib.nullcontext():
                self.shards.append(LatentInversion(
                    self.generator, self.config, self.all_targets[rows], z_init[part],
                    [self.all_modes[row] for row in rows], None if self.z_true is None else self.z_true[rows],
                    self.seed, rows, len(self.retired_at)))
        self._run = tf.function(self._run_eager)  # a new set of shards needs a new trace

    @property
    def live(self) -> list[LatentInversion]:
        return [shard for shard in self.shards if shard is not None]

    @property
    def stepping(self) -> np.ndarray:
        """Rows still in the first-order phase."""
        return self.retired_at < 0

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
        if self.live:
            self._run(tf.constant(count, tf.int64))

    def _present(self, values) -> np.ndarray:
        """Per-shard arrays of the present rows, concatenated in `present` order."""
        values = [np.asarray(value) for value in values]
        return np.concatenate(values) if values else np.zeros(0)

    def _overlay(self, retired: np.ndarray, present: np.ndarray) -> np.ndarray:
        """All rows: present rows that still step from the shards, retired rows as they left."""
        full = retired.copy()
        stepping = self.stepping[self.present]
        full[self.present[stepping]] = present[stepping]
        return full

    def z(self) -> np.ndarray:
        return self._overlay(self._retired_z, self._present(shard.z.numpy() for shard in self.live))

    def first_step(self) -> np.ndarray:
        return self._overlay(self._retired_first_step, self._present(shard.first_step.numpy() for shard in self.live))

    def z_error(self) -> np.ndarray:
        return latent_error(self.z(), self.z_true)

    def stepping_pixel_error(self) -> np.ndarray:
        """Pixel error of every row still stepping (others: NaN), from the shards' generator."""
        errors = np.full(len(self.retired_at), np.nan, np.float32)
        present = self._present(shard.pixel_error().numpy() for shard in self.live)
        stepping = self.stepping[self.present]
        errors[self.present[stepping]] = present[stepping]
        return errors

    def pixel_error(self, chunk: int = 256) -> np.ndarray:
        """Pixel error of G(z') for all rows (chunked to bound the generator's memory).

        Under batch statistics the batch is one chunk: splitting it would change every image.
        """
        z = self.z()
        chunk = len(z) if uses_batch_statistics(self.generator) else chunk
        return np.concatenate([
            tf.reduce_mean(tf.square(self.generator(z[first:first + chunk], training=False)
                                     - self.all_targets[first:first + chunk]), axis=[1, 2, 3]).numpy()
            for first in range(0, len(z), chunk)])

    def targets(self) -> np.ndarray:
        return self.all_targets

    def images(self, rows=None, z=None) -> np.ndarray:
        z = self.z() if z is None else z
        if uses_batch_statistics(self.generator):  # a row's image depends on the whole batch
            images = self.generator(tf.constant(z), training=False).numpy()
            return images if rows is None else images[rows]
        return self.generator(tf.constant(z if rows is None else z[rows]), training=False).numpy()

    def retire(self, rows: np.ndarray, step: int) -> None:
        """Rows (a mask over all rows) leave the first-order phase as they are at `step`."""
        rows = rows & self.stepping
        z, first_step = self.z(), self.first_step()
        self._retired_z[rows], self._retired_first_step[rows] = z[rows], first_step[rows]
        self.retired_at[rows] = step

    def idle_share(self) -> float:
        """Share of the shards' rows that are retired but still computed."""
        return 0.0 if not len(self.present) else float(np.mean(~self.stepping[self.present]))

    def compact(self) -> None:
        """Rebuilds the shards with only the rows still stepping, carrying their exact state."""
        if not self.live:
            return
        keep = self.stepping[self.present]
        states = [shard.row_state() for shard in self.live]
        rows = {name: np.concatenate([state[name] for state in states])[keep] for name in states[0]}
        step, iterations = int(self.live[0].step.numpy()), int(self.live[0].optimizer.iterations.numpy())
        self._build(self.present[keep], rows["z"])
        for shard, part in zip(self.shards, distribute.shard_slices(int(keep.sum()), len(self._devices))):
            if shard is not None:
                shard.load({name: values[part] for name, values in rows.items()}, step, iterations)

    def layout(self) -> dict:
        """What, besides the shards' checkpoint, describes where the rows are (see `restore_layout`)."""
        return {"present": self.present, "retired_at": self.retired_at, "retired_z": self._retired_z,
                "retired_first_step": self._retired_first_step}

    def restore_layout(self, layout: dict) -> None:
        """Rebuilds the shards a checkpoint was written from, before its state is restored into them."""
        self.retired_at = np.array(layout["retired_at"], np.int64)
        self._retired_z = np.array(layout["retired_z"], np.float32)
        self._retired_first_step = np.array(layout["retired_first_step"], np.int64)
        present = np.array(layout["present"], np.int64)
        if not np.array_equal(present, self.present):
            self._build(present, self._retired_z[present])

    def state(self) -> dict:
        return {f"shard{index}": tf.train.Checkpoint(**shard.state()) for index, shard in enumerate(self.live)}


def invert(generator, config: InvertConfig, targets, z_init, modes, z_true=None, seed: int = 0,
           steps: int | None = None, snapshot_steps=(), snapshot_rows=None, progress: str | None = None,
           polish: PolishConfig | None = None, strategy=None, checkpoint_dir=None,
           group_rows: int | None = None) -> InversionResult:
    """Inverts every row: batches of at most `config.max_rows`, one after the other.

    `strategy` (a tf.distribute strategy) shards each batch's rows over its replicas.
    `checkpoint_dir` makes the run resumable: the state is saved every `config.checkpoint_every`
    steps and an interrupted run continues from there to the same result.
    `group_rows`: with `config.batch_norm == "batch"` (batch norm over the batch, as the authors
    ran it) each run of `group_rows` consecutive rows is one batch, e.g. one clip mode, so that
    only rows of one group share statistics; ignored otherwise, since rows are independent.
    """
    rows = len(z_init)
    batch_rows = _batch_rows(config, rows, group_rows)
    batch_dir = (lambda index: None) if checkpoint_dir is None else (lambda index: Path(checkpoint_dir) / f"batch{index}")
    if rows <= batch_rows:
        return _invert_batch(generator, config, targets, z_init, modes, z_true, seed, steps, snapshot_steps,
                             snapshot_rows, progress, polish, strategy, batch_dir(0))
    if snapshot_steps and snapshot_rows is not None:
        raise ValueError(f"snapshots of chosen rows need all rows in one batch: {rows} rows > {batch_rows}")
    parts = []
    for index, first in enumerate(range(0, rows, batch_rows)):
        part = slice(first, first + batch_rows)
        label = progress and f"{progress} (rows {first + 1}-{min(rows, first + batch_rows)} of {rows}{_mode_note(modes[part])})"
        parts.append(_invert_batch(generator, config, np.asarray(targets)[part], np.asarray(z_init)[part],
                                   list(modes)[part], None if z_true is None else np.asarray(z_true)[part],
                                   seed + index, steps, snapshot_steps, None, label, polish, strategy,
                                   batch_dir(index)))
    return _concatenate(parts)


def _mode_note(modes) -> str:
    """', stochastic' when a batch holds one clip mode (one batch per mode under batch statistics)."""
    return f", {modes[0]}" if len(set(modes)) == 1 else ""


class _ExpectedRetracing(logging.Filter):
    """Each batch builds new variables, so its step function is traced anew: expected, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_ExpectedRetracing())


def _batch_rows(config: InvertConfig, rows: int, group_rows: int | None) -> int:
    """Rows per batch: up to max_rows, or exactly one group under batch statistics."""
    if config.batch_norm != "batch":
        return config.max_rows
    group_rows = group_rows or rows
    if rows % group_rows:
        raise ValueError(f"{rows} rows do not split into groups of {group_rows}")
    if group_rows > config.max_rows:
        raise UserError(f"invert.batch_norm=batch normalises over one group of rows, but a group of {group_rows} "
                        f"rows exceeds invert.max_rows={config.max_rows}: raise invert.max_rows")
    return group_rows


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
    weights = np.array([len(part.z) for part in parts], np.float64)
    equivalents = [np.concatenate([part.history_equivalents,
                                   np.repeat(part.history_equivalents[-1:], len(longest.history_steps)
                                             - len(part.history_equivalents))]) for part in parts]
    return InversionResult(
        z=rows("z"), pixel_error=rows("pixel_error"), z_error=rows("z_error"), first_step=rows("first_step"),
        thresholds=parts[0].thresholds, steps=max(part.steps for part in parts),
        seconds=sum(part.seconds for part in parts),
        first_order_seconds=sum(part.first_order_seconds for part in parts),
        seconds_per_step=sum(part.seconds_per_step for part in parts),
        row_steps=sum(part.row_steps for part in parts), switch_step=rows("switch_step"),
        history_steps=longest.history_steps, history_z_error=padded("history_z_error"),
        history_equivalents=weights @ np.stack(equivalents) / weights.sum() if len(longest.history_steps) else
        longest.history_equivalents,
        polish_iterations=max(part.polish_iterations for part in parts),
        polish_seconds=sum(part.polish_seconds for part in parts),
        polish_z_error=padded("polish_z_error") if all(part.polish_z_error is not None for part in parts) else None,
        snapshots={step: np.concatenate([part.snapshots[step] for part in parts])
                   for step in set.intersection(*(set(part.snapshots) for part in parts))},
        z_before_polish=rows("z_before_polish"), z_error_before_polish=rows("z_error_before_polish"),
    )


COMPACT_WHEN_IDLE = 0.25  # rebuild the shards once this share of their rows has retired (each rebuild retraces)


def _invert_batch(generator, config, targets, z_init, modes, z_true, seed, steps, snapshot_steps, snapshot_rows,
                  progress, polish, strategy, checkpoint_dir) -> InversionResult:
    """First-order phase to `steps` (default config.steps), then the optional polish phase.

    With `polish.switch: stalled` each row leaves the first-order phase for the polish as soon
    as its loss stalls, and leaves the batch at the next compaction.
    """
    steps = config.steps if steps is None else steps
    strategy = strategy or tf.distribute.get_strategy()
    polishing = polish is not None and polish.method != "none" and polish.iterations > 0
    switching = polishing and polish.switch == "stalled"
    first_order_generator = generator
    if config.precision != "float32":
        with strategy.scope():
            first_order_generator = mixed_precision_copy(generator, config.precision)
    inversion = ShardedInversion(first_order_generator, config, targets, z_init, modes, z_true, seed, strategy)
    problem = _fingerprint(config, targets, z_init, modes, z_true, seed, steps, snapshot_steps, snapshot_rows,
                           inversion.slices,  # another sharding (strategy) starts afresh
                           switching and (polish.stall_window, polish.stall_improvement))
    switch = _StallSwitch(inversion.stepping_pixel_error(), polish.stall_improvement) if switching else None
    log = _FirstOrderLog(inversion, checkpoint_dir, problem, switch)
    every = config.checkpoint_every if checkpoint_dir is not None else 0
    checks = set(range(polish.stall_window, steps, polish.stall_window)) if switching else set()
    stops = sorted({s for s in snapshot_steps if 0 < s < steps} | set(range(0, steps, config.steps_per_call)[1:])
                   | (set(range(every, steps, every)) if every else set()) | checks | {steps})
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
        if stop in checks:
            inversion.retire(switch.stalled(inversion.stepping_pixel_error()), stop)
            if inversion.stepping.any() and inversion.idle_share() >= COMPACT_WHEN_IDLE:
                inversion.compact()
                log.rebuilt()
        if stop in snapshot_steps:
            log.snapshots[stop] = inversion.images(snapshot_rows)
        values = []
        if z_true is not None:
            log.history_steps.append(stop)
            log.history_equivalents.append(log.row_steps / len(z_init))
            log.history.append(inversion.z_error())
            values = _progress_values(log.history[-1])
        finished = stop == stops[-1] or not inversion.stepping.any() or (
            config.early_stop and z_true is not None and _all_recovered(config, log.history[-1], inversion))
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
        row_steps=log.row_steps,
        switch_step=np.where(inversion.stepping, log.done, inversion.retired_at),
        history_steps=np.asarray(log.history_steps, np.int64),
        history_equivalents=np.asarray(log.history_equivalents, np.float64),
        history_z_error=np.stack(log.history) if log.history else None,
        snapshots=log.snapshots,
    )
    if polishing:
        _polish(generator, config, polish, inversion, result, z_true, snapshot_rows, progress, strategy)
    return result


def _all_recovered(config: InvertConfig, z_error: np.ndarray, inversion: ShardedInversion) -> bool:
    """The early stop: every row is below the stop threshold now ("final"), or has been ("sticky").

    The authors' loop broke once every row had crossed every level of their accuracy matrix
    (down to 1e-5) at some step, whatever its error later: the sticky rule.
    """
    threshold = config.early_stop_threshold if config.early_stop_threshold is not None else min(config.thresholds)
    if config.early_stop_rule == "sticky":
        return bool(np.all(inversion.first_step()[:, config.thresholds.index(threshold)] >= 0))
    return bool(np.all(z_error < threshold))


def _fingerprint(config, *inputs) -> str:
    """Identifies an inversion problem, so a checkpoint is only resumed by the run that wrote it."""
    digest = hashlib.sha256(repr(config).encode())
    for value in inputs:
        value = value.numpy() if hasattr(value, "numpy") else value
        digest.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


class _StallSwitch:
    """Decides when each row leaves the first-order phase for the polish.

    The first-order loss keeps creeping down long after a row is close enough for the polish,
    so a fixed warm-up must be tuned per generator. Instead a row switches once its best pixel
    loss, checked every `stall_window` steps, fell by less than `improvement` since the last check.
    """

    def __init__(self, initial_loss: np.ndarray, improvement: float):
        self.best = np.array(initial_loss, np.float32)
        self.improvement = improvement

    def stalled(self, loss: np.ndarray) -> np.ndarray:
        """Rows (mask) that stalled; `loss` is NaN for rows that no longer step."""
        stepping = ~np.isnan(loss)
        best = np.where(stepping, np.minimum(self.best, loss), self.best)
        stalled = stepping & (best > (1 - self.improvement) * self.best)
        self.best = best
        return stalled


class _FirstOrderLog:
    """Steps run, timing, error history and snapshots of the first-order phase, and its checkpoints.

    A checkpoint is the shards' state (tf.train.CheckpointManager) plus `log-<step>.npz` with
    everything else, including which rows have retired; the NPZ is written first, so the newest
    checkpoint always has its log.
    """

    def __init__(self, inversion: ShardedInversion, checkpoint_dir, problem: str, switch: _StallSwitch | None):
        self.inversion, self.problem, self.switch = inversion, problem, switch
        self.done, self.finished, self.row_steps = 0, False, 0
        self.seconds, self.warm_seconds, self.warm_row_steps = 0.0, 0.0, 0
        self._traced = False  # the first call of a process, or after a rebuild, traces the step function
        self.history_steps, self.history_equivalents, self.history, self.snapshots = [], [], [], {}
        self.directory = None if checkpoint_dir is None else Path(checkpoint_dir)
        self._manager, self._managed_shards = None, None

    def run(self, stop: int) -> None:
        """Steps to `stop`; a call that traces is timed apart from the per-step cost."""
        started = time.time()
        self.inversion.run_steps(stop - self.done)
        elapsed = time.time() - started
        row_steps = (stop - self.done) * len(self.inversion.present)
        if self._traced:
            self.warm_seconds += elapsed
            self.warm_row_steps += row_steps
        self._traced = True
        self.seconds += elapsed
        self.row_steps += row_steps
        self.done = stop

    def rebuilt(self) -> None:
        """The shards were rebuilt: their next call traces again."""
        self._traced = False

    def seconds_per_step(self) -> float:
        """Seconds of one first-order step of the whole batch (cost taken as proportional to rows)."""
        rows = len(self.inversion.retired_at)
        if self.warm_row_steps:
            return self.warm_seconds / self.warm_row_steps * rows
        return self.seconds / max(self.row_steps, 1) * rows  # one call only: includes tracing, overstates the cost

    def _manager_for_shards(self) -> tf.train.CheckpointManager:
        if self._managed_shards is not self.inversion.shards:  # after a compaction the shards are new objects
            self._manager = tf.train.CheckpointManager(tf.train.Checkpoint(**self.inversion.state()),
                                                       str(self.directory), max_to_keep=1)
            self._managed_shards = self.inversion.shards
        return self._manager

    def save(self, finished: bool) -> None:
        from dcgan_inversion.io_utils import write_npz

        self.finished = finished
        switch = {} if self.switch is None else {"switch_best": self.switch.best}
        write_npz(self.directory / f"log-{self.done}.npz", problem=self.problem, done=self.done, finished=finished,
                  seconds=[self.seconds, self.warm_seconds], row_steps=[self.row_steps, self.warm_row_steps],
                  history_steps=np.asarray(self.history_steps, np.int64),
                  history_equivalents=np.asarray(self.history_equivalents, np.float64),
                  history=np.stack(self.history) if self.history else np.zeros((0, 0)),
                  snapshot_steps=np.asarray(sorted(self.snapshots), np.int64),
                  **{f"layout_{name}": value for name, value in self.inversion.layout().items()}, **switch,
                  **{f"snapshot{step}": images for step, images in self.snapshots.items()})
        self._manager_for_shards().save(checkpoint_number=self.done)
        for old in self.directory.glob("log-*.npz"):
            if old.name != f"log-{self.done}.npz":
                old.unlink(missing_ok=True)

    def restore(self) -> bool:
        """Continues from the newest checkpoint, if there is one; True if it did."""
        latest = None if self.directory is None else tf.train.latest_checkpoint(str(self.directory))
        if not latest:
            return False
        log_file = self.directory / f"log-{int(latest.rsplit('-', 1)[1])}.npz"
        if not log_file.exists():
            return False
        with np.load(log_file) as saved:
            if str(saved["problem"]) != self.problem:  # another config, other inputs or shards: start afresh
                return False
            self.inversion.restore_layout({name[len("layout_"):]: saved[name] for name in saved.files
                                           if name.startswith("layout_")})
            tf.train.Checkpoint(**self.inversion.state()).restore(latest).assert_existing_objects_matched()
            if self.switch is not None:
                self.switch.best = saved["switch_best"]
            self.done, self.finished = int(saved["done"]), bool(saved["finished"])
            self.seconds, self.warm_seconds = (float(value) for value in saved["seconds"])
            self.row_steps, self.warm_row_steps = (int(value) for value in saved["row_steps"])
            self.history_steps = list(saved["history_steps"])
            self.history_equivalents = list(saved["history_equivalents"])
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
