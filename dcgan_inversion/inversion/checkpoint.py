"""Checkpoint and resume: of the first-order phase, with its step count, timing and history, and of
whole batches once they are finished.

A checkpoint is the shards' state (tf.train.CheckpointManager) plus `log-<step>.npz` holding
everything else; a finished batch (screen, first-order phase, polish, restarts) is its result in
`finished.npz`. The fingerprint of the problem makes sure only the run that wrote a checkpoint
resumes it.
"""
from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from dcgan_inversion.infra.checkpoints import DAMAGED, set_aside
from dcgan_inversion.infra.fingerprints import ProblemKey
from dcgan_inversion.infra.io_utils import write_npz
from dcgan_inversion.inversion.result import InversionResult
from dcgan_inversion.inversion.shards import ShardedInversion
from dcgan_inversion.inversion.switch import StallSwitch

KEEP = 2  # the newest checkpoint and the one before it, in case the newest is damaged


class FirstOrderLog:
    """Steps run, timing, error history and snapshots of the first-order phase, and its checkpoints.

    A checkpoint is the shards' state (tf.train.CheckpointManager) plus `log-<step>.npz` with
    everything else, including which rows have retired; the NPZ is written first, so the newest
    checkpoint always has its log.
    """

    def __init__(self, inversion: ShardedInversion, checkpoint_dir, problem: ProblemKey | None,
                 switch: StallSwitch | None):
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
                                                       str(self.directory), max_to_keep=KEEP)
            self._managed_shards = self.inversion.shards
        return self._manager

    def save(self, finished: bool) -> None:
        self.finished = finished
        switch = {} if self.switch is None else {"switch_best": self.switch.best}
        write_npz(self.directory / f"log-{self.done}.npz", **self.problem.saved(), done=self.done, finished=finished,
                  seconds=[self.seconds, self.warm_seconds], row_steps=[self.row_steps, self.warm_row_steps],
                  history_steps=np.asarray(self.history_steps, np.int64),
                  history_equivalents=np.asarray(self.history_equivalents, np.float64),
                  history=np.stack(self.history) if self.history else np.zeros((0, 0)),
                  snapshot_steps=np.asarray(sorted(self.snapshots), np.int64),
                  **{f"layout_{name}": value for name, value in self.inversion.layout().items()}, **switch,
                  **{f"snapshot{step}": images for step, images in self.snapshots.items()})
        manager = self._manager_for_shards()
        manager.save(checkpoint_number=self.done)
        kept = {_log_file(self.directory, path).name for path in manager.checkpoints}
        for old in self.directory.glob("log-*.npz"):
            if old.name not in kept:
                old.unlink(missing_ok=True)

    def restore(self) -> bool:
        """Continues from the newest checkpoint that reads completely, if any; True if it did.

        A damaged one (short file) is moved aside with a warning and the one before it is used.
        """
        state = None if self.directory is None else tf.train.get_checkpoint_state(str(self.directory))
        for path in reversed(list(state.all_model_checkpoint_paths) if state else []):
            if not Path(f"{path}.index").exists():  # set aside earlier, still named in the index
                continue
            try:
                return self._restore_from(path)
            except DAMAGED + (zipfile.BadZipFile, EOFError) as error:
                set_aside(path, error, _log_file(self.directory, path))
        return False

    def _restore_from(self, path: str) -> bool:
        log_file = _log_file(self.directory, path)
        if not log_file.exists():
            return False
        with np.load(log_file) as saved:
            if not self.problem.matches(saved):  # another config, other inputs or shards: start afresh
                return False
            self.inversion.restore_layout({name[len("layout_"):]: saved[name] for name in saved.files
                                           if name.startswith("layout_")})
            tf.train.Checkpoint(**self.inversion.state()).restore(path).assert_existing_objects_matched()
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


def _log_file(directory: Path, checkpoint_path: str) -> Path:
    """`log-<step>.npz` beside checkpoint `.../ckpt-<step>`."""
    return Path(directory) / f"log-{int(str(checkpoint_path).rsplit('-', 1)[1])}.npz"


FINISHED = "finished.npz"


def save_finished(checkpoint_dir, problem: ProblemKey, result: InversionResult) -> None:
    """Keeps a finished batch's result, so a resumed run skips the batch (its polish and restarts too)."""
    if checkpoint_dir is not None:
        write_npz(Path(checkpoint_dir) / FINISHED, **problem.saved(), **result.to_arrays())


def load_finished(checkpoint_dir, problem: ProblemKey) -> InversionResult | None:
    """The result `save_finished` kept for this problem; None if there is none (or it is another problem's).

    A damaged file is moved aside with a warning and the batch runs again.
    """
    path = None if checkpoint_dir is None else Path(checkpoint_dir) / FINISHED
    if path is None or not path.exists():
        return None
    try:
        with np.load(path) as saved:
            return InversionResult.from_arrays(saved) if problem.matches(saved) else None
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as error:
        set_aside(path, error, then="the batch runs again")
        return None
