"""The rows of one batch over a strategy's replicas, and rows leaving the batch (retire, compact)."""
from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from dcgan_inversion.infra import distribute
from dcgan_inversion.config import InvertConfig
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.inversion.result import latent_error
from dcgan_inversion.gan.latents import UNIFORM
from dcgan_inversion.gan.sampling import uses_batch_statistics
from dcgan_inversion.inversion.step import LatentInversion

COMPACT_WHEN_IDLE = 0.25  # rebuild the shards once this share of their rows has retired (each rebuild retraces)


class ShardedInversion:
    """The rows of one batch split over a strategy's replicas, one `LatentInversion` each.

    Each shard's variables live on its replica's device and `strategy.run` steps all shards
    at once; nothing is exchanged between them. With the default strategy there is one shard.

    Rows can leave the first-order phase one by one (`retire`): their z' and tracking are kept as
    they were at that step, and `compact` later rebuilds the shards without them, so retired rows
    stop costing steps. Results come back as numpy arrays over all rows in the original order.
    """

    def __init__(self, generator, config: InvertConfig, targets, z_init, modes, z_true=None, seed: int = 0,
                 strategy=None, prior=UNIFORM):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.generator, self.config, self.seed, self.prior = generator, config, seed, prior
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
                    self.seed, rows, len(self.retired_at), self.prior))
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
