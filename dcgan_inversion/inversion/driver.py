"""The driver: `invert(generator, problem, settings)` runs Sec. 2 of the paper on every row.

Rows are split into batches (at most `invert.max_rows`, or one group each under batch
statistics). Each batch screens its starts (if configured: screening.py), then runs the first-order
phase (gradient steps on z', the clip op after every step) as a short loop of named steps between
stops: run to the stop, retire the rows that stalled, record, checkpoint. Then the polish, if
configured, takes each row to float32 precision.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dcgan_inversion.infra import preemption
from dcgan_inversion.config import InvertConfig, SearchConfig
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.fingerprints import ProblemKey
from dcgan_inversion.inversion.checkpoint import FirstOrderLog, load_finished, save_finished
from dcgan_inversion.inversion.polishing import polish
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings
from dcgan_inversion.inversion.progress import progress_bar, progress_values
from dcgan_inversion.inversion import restarts
from dcgan_inversion.inversion.result import InversionResult, concatenate, latent_error
from dcgan_inversion.inversion import screening
from dcgan_inversion.inversion.shards import COMPACT_WHEN_IDLE, ShardedInversion
from dcgan_inversion.inversion.switch import StallSwitch
from dcgan_inversion.gan.model import mixed_precision_copy


def invert(generator, problem: InversionProblem, settings: InversionSettings) -> InversionResult:
    """Inverts every row of `problem`, batch after batch, as `settings` say.

    `settings.checkpoint_dir` makes the run resumable: an interrupted run continues from its last
    checkpoint to the same result. Under batch statistics (`invert.batch_norm: batch`, the
    authors' way) each run of `problem.group_rows` rows is one batch, so only the rows of one
    group (e.g. one clip mode) share statistics.
    """
    batch_rows = _batch_rows(settings.invert, problem.rows, problem.group_rows)
    batches = _batches(problem, batch_rows)
    if len(batches) == 1:
        return _in_class(_invert_batch, generator, problem, settings, _batch_dir(settings, 0))
    if settings.snapshot_steps and settings.snapshot_rows is not None:
        raise ValueError(f"snapshots of chosen rows need all rows in one batch: {problem.rows} rows > {batch_rows}")
    parts = []
    for index, rows in enumerate(batches):
        part = problem.part(rows, problem.seed + index)
        title = settings.progress and (f"{settings.progress} (rows {rows.start + 1}-{rows.stop} "
                                       f"of {problem.rows}{_mode_note(part.modes)})")
        part_settings = dataclasses.replace(settings, snapshot_rows=None, progress=title)
        parts.append(_in_class(_invert_batch, generator, part, part_settings, _batch_dir(settings, index)))
    return concatenate(parts)


def _batches(problem: InversionProblem, batch_rows: int) -> list[slice]:
    """Rows per batch: runs of `batch_rows`, or on a conditional generator runs of one class each cut
    at `batch_rows` (the generator is set to one class per batch)."""
    if problem.classes is None:
        return [slice(first, min(first + batch_rows, problem.rows)) for first in range(0, problem.rows, batch_rows)]
    from dcgan_inversion.gan.labels import class_runs

    groups = problem.group_rows or problem.rows  # under batch statistics a batch stays within its group
    return [slice(group.start + run.start, group.start + run.stop)
            for group in (slice(first, first + groups) for first in range(0, problem.rows, groups))
            for run in class_runs(problem.classes[group], batch_rows)]


def _in_class(invert_batch, generator, problem: InversionProblem, settings: InversionSettings, checkpoint_dir):
    """`invert_batch` with the generator set to the batch's class (one class per batch), then set back."""
    if problem.classes is None:
        return invert_batch(generator, problem, settings, checkpoint_dir)
    if settings.class_rows is None:
        raise ValueError("problem.classes needs settings.class_rows to set the generator's class")
    with settings.class_rows.kept(generator):
        settings.class_rows.select(generator, problem.classes[0])
        return invert_batch(generator, problem, settings, checkpoint_dir)


def _batch_dir(settings: InversionSettings, index: int):
    return None if settings.checkpoint_dir is None else Path(settings.checkpoint_dir) / f"batch{index}"


def _mode_note(modes) -> str:
    """', stochastic' when a batch holds one clip mode (one batch per mode under batch statistics)."""
    return f", {modes[0]}" if len(set(modes)) == 1 else ""


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


def _stall_checks(search: SearchConfig, steps: int) -> set:
    """The steps at which rows may switch: every stall_window steps, from stall_min_steps on."""
    window = search.stall_window
    first = max(window, -(-search.stall_min_steps // window) * window)
    return set(range(first, steps, window))


class _ExpectedRetracing(logging.Filter):
    """Each batch builds new variables, so its step function is traced anew: expected, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_ExpectedRetracing())


def _invert_batch(generator, problem: InversionProblem, settings: InversionSettings, checkpoint_dir) -> InversionResult:
    """One attempt at every row of a batch, then (if configured) new attempts at its stuck rows.

    With checkpoints a finished batch is kept whole, so a resumed run of many batches does not
    polish and restart the batches it had finished again."""
    key = checkpoint_dir and _batch_fingerprint(problem, settings)
    finished = load_finished(checkpoint_dir, key)
    if finished is not None:
        if settings.progress:
            print(f"{settings.progress.rstrip(':')}: finished before, kept in {checkpoint_dir}", flush=True)
        return finished
    result = dataclasses.replace(_attempt(generator, problem, settings, checkpoint_dir),
                                 restarts=np.zeros(problem.rows, np.int64))
    if settings.restarting and problem.generated.any():
        result = _restart_stuck_rows(generator, problem, settings, result, checkpoint_dir)
    save_finished(checkpoint_dir, key, result)
    return result


def _restart_stuck_rows(generator, problem: InversionProblem, settings: InversionSettings, result: InversionResult,
                        checkpoint_dir) -> InversionResult:
    """New attempts at the rows left in a wrong basin, round after round (restarts.py): a better fit
    replaces the row, every attempt is paid."""
    ran = np.full(problem.rows, result.steps + result.polish_iterations)  # each row's steps and iterations so far
    for round_ in range(1, settings.search.restarts + 1):
        planned = restarts.restart_round(problem, result, settings, round_, checkpoint_dir)
        if planned is None:
            break
        rows, again, again_settings, directory = planned
        again_result = _attempt(generator, again, again_settings, directory)
        result = restarts.fold(result, rows, again_result, ran[rows])
        ran[rows] += again_result.steps + again_result.polish_iterations
    return result


def _batch_fingerprint(problem: InversionProblem, settings: InversionSettings) -> ProblemKey:
    """Everything a batch's result depends on: its rows, seed, the configs, the steps, the prior."""
    return ProblemKey.of(problem.targets, (settings.invert, settings.search, settings.polish), problem.starts,
                       list(problem.modes), problem.z_true, problem.seed, problem.generated, settings.total_steps,
                       settings.snapshot_steps, settings.snapshot_rows, settings.prior)


def _attempt(generator, problem: InversionProblem, settings: InversionSettings, checkpoint_dir) -> InversionResult:
    """The start screen (if any), the first-order phase, then the polish (if any) on one batch of rows."""
    screened = None
    if settings.screening:
        screened = screened_starts(generator, problem, settings, checkpoint_dir)
        problem = dataclasses.replace(problem, starts=screened.starts)
    phase = FirstOrderPhase(generator, problem, settings, checkpoint_dir)
    result = phase.run()
    if screened is not None:
        result = dataclasses.replace(result, screen_row_steps=screened.row_steps, screen_seconds=screened.seconds,
                                     seconds=result.seconds + screened.seconds)
    if settings.polishing:
        result = polish(generator, settings, phase.inversion, result, problem.z_true)
    return result


def screened_starts(generator, problem: InversionProblem, settings: InversionSettings, checkpoint_dir) -> screening.Screened:
    """The start screen (screening.py): each row's candidates run a few first-order steps together, the
    best goes on; a resumed run reads the screen it kept."""
    key = screening.screen_key(problem, settings) if checkpoint_dir is not None else None
    kept = screening.kept(key, checkpoint_dir)
    if kept is not None:
        return kept
    began = time.perf_counter()
    candidates, bank_steps = screening.candidate_problem(generator, problem, settings)
    result = invert(generator, candidates, screening.screen_settings(settings)) \
        if settings.search.screen_starts > 1 else None
    screened = screening.chosen(problem, result, bank_steps, time.perf_counter() - began, candidates)
    screening.keep(screened, key, checkpoint_dir)
    return screened


class FirstOrderPhase:
    """Gradient steps on z' with the clip op, from the start (or the last checkpoint) to the end.

    With `search.switch: stalled` each row leaves for the polish as soon as its loss stalls, and
    leaves the batch at the next compaction.
    """

    def __init__(self, generator, problem: InversionProblem, settings: InversionSettings, checkpoint_dir):
        self.generator, self.problem, self.settings = generator, problem, settings
        self.config, self.steps = settings.invert, settings.total_steps
        self.strategy = settings.strategy or tf.distribute.get_strategy()
        self.inversion = ShardedInversion(self._first_order_generator(), self.config, problem.targets, problem.starts,
                                          list(problem.modes), problem.z_true, problem.seed, self.strategy,
                                          settings.prior)
        self.switch = StallSwitch(self.inversion.stepping_pixel_error(), settings.search.stall_improvement) \
            if settings.switching else None
        key = self._fingerprint() if checkpoint_dir is not None else None  # only checkpoints are keyed
        self.log = FirstOrderLog(self.inversion, checkpoint_dir, key, self.switch)
        self.every = self.config.checkpoint_every if checkpoint_dir is not None else 0
        self.checks = _stall_checks(settings.search, self.steps) if settings.switching else set()
        self.bar = None

    def _first_order_generator(self):
        if self.config.precision == "float32":
            return self.generator
        with self.strategy.scope():
            return mixed_precision_copy(self.generator, self.config.precision)

    def _fingerprint(self) -> ProblemKey:
        problem, settings, search = self.problem, self.settings, self.settings.search
        return ProblemKey.of(problem.targets, self.config, problem.starts, list(problem.modes), problem.z_true,
                           problem.seed, self.steps, settings.snapshot_steps, settings.snapshot_rows,
                           self.inversion.slices,  # another sharding (strategy) starts afresh
                           settings.switching and (search.stall_window, search.stall_improvement,
                                                   search.stall_min_steps),
                           settings.prior)

    def _stops(self) -> list[int]:
        """Steps at which Python wakes: calls, snapshots, checkpoints, stall checks, the end."""
        steps, every, config = self.steps, self.every, self.config
        return sorted({s for s in self.settings.snapshot_steps if 0 < s < steps}
                      | set(range(0, steps, config.steps_per_call)[1:])
                      | (set(range(every, steps, every)) if every else set()) | self.checks | {steps})

    def run(self) -> InversionResult:
        stops = self._resume_or_start(self._stops())
        for stop in stops:
            self.log.run(stop)
            self._retire_stalled(stop)
            finished = self._record(stop, stop == stops[-1])
            self._checkpoint(stop, finished)
            if finished:
                break
            self._stop_if_preempted(stop)
        return self._result()

    def _resume_or_start(self, stops: list[int]) -> list[int]:
        """The stops still to run: all of them, or those after the last checkpoint."""
        progress, log = self.settings.progress, self.log
        if log.restore():
            stops = [stop for stop in stops if stop > log.done] if not log.finished else []
            if progress:
                print(f"{progress.rstrip(':')}: resuming from step {log.done}", flush=True)
        elif 0 in self.settings.snapshot_steps:
            log.snapshots[0] = self.inversion.images(self.settings.snapshot_rows)
        self.bar = progress_bar(progress, self.steps, self.problem.z_true is not None)
        if self.bar and log.done:
            self.bar.update(log.done)
        return stops

    def _retire_stalled(self, stop: int) -> None:
        """At a stall check: rows whose loss stalled leave; the shards shrink once enough have."""
        if stop not in self.checks:
            return
        inversion = self.inversion
        inversion.retire(self.switch.stalled(inversion.stepping_pixel_error()), stop)
        if inversion.stepping.any() and inversion.idle_share() >= COMPACT_WHEN_IDLE:
            inversion.compact()
            self.log.rebuilt()

    def _record(self, stop: int, last: bool) -> bool:
        """Snapshot, error history and progress at `stop`; True when the phase is over."""
        log, inversion, z_true = self.log, self.inversion, self.problem.z_true
        if stop in self.settings.snapshot_steps:
            log.snapshots[stop] = inversion.images(self.settings.snapshot_rows)
        values = []
        if z_true is not None:
            log.history_steps.append(stop)
            log.history_equivalents.append(log.row_steps / self.problem.rows)
            log.history.append(inversion.z_error())
            values = progress_values(log.history[-1])
        finished = last or not inversion.stepping.any() or (
            self.config.early_stop and z_true is not None and all_recovered(self.config, log.history[-1], inversion))
        if self.bar:
            self._update_bar(stop, values, finished)
        return finished

    def _update_bar(self, stop: int, values: list, finished: bool) -> None:
        """An early end completes the bar at `stop` (no ETA left hanging) and says why it ended there."""
        early = finished and stop < self.steps
        if early:
            self.bar.target = stop
        self.bar.update(stop, values, finalize=finished or None)
        if early:
            why = "every row left for the polish" if not self.inversion.stepping.any() else "every row is recovered"
            print(f"  first-order phase over at step {stop} of at most {self.steps}: {why}", flush=True)

    def _checkpoint(self, stop: int, finished: bool) -> None:
        if self.every and (stop % self.every == 0 or finished):
            self.log.save(finished)

    def _stop_if_preempted(self, stop: int) -> None:
        """After SIGTERM: checkpoint at this stop (a consistent state) and leave."""
        if not preemption.requested():
            return
        if not self.every:
            raise preemption.Preempted(f"SIGTERM at step {stop}: this inversion keeps no checkpoints")
        if stop % self.every:
            self.log.save(False)
        raise preemption.Preempted(f"SIGTERM at step {stop}: saved the inversion's state in {self.log.directory}; "
                                   "run the same command to resume")

    def _result(self) -> InversionResult:
        """Final errors and images always come from the float32 generator."""
        log, inversion, z_true = self.log, self.inversion, self.problem.z_true
        inversion.set_generator(self.generator)
        if self.settings.snapshot_steps:
            log.snapshots[log.done] = inversion.images(self.settings.snapshot_rows)
        z = inversion.z()
        return InversionResult(
            z=z, pixel_error=inversion.pixel_error(),
            z_error=None if z_true is None else latent_error(z, z_true),
            first_step=None if z_true is None else inversion.first_step(),
            thresholds=tuple(self.config.thresholds), steps=log.done, seconds=log.seconds,
            first_order_seconds=log.seconds, seconds_per_step=log.seconds_per_step(), row_steps=log.row_steps,
            switch_step=np.where(inversion.stepping, log.done, inversion.retired_at),
            history_steps=np.asarray(log.history_steps, np.int64),
            history_equivalents=np.asarray(log.history_equivalents, np.float64),
            history_z_error=np.stack(log.history) if log.history else None,
            snapshots=log.snapshots,
        )


def all_recovered(config: InvertConfig, z_error: np.ndarray, inversion: ShardedInversion) -> bool:
    """The early stop: every row is below the stop threshold now ("final"), or has been ("sticky").

    The authors' loop broke once every row had crossed every level of their accuracy matrix
    (down to 1e-5) at some step, whatever its error later: the sticky rule.
    """
    threshold = config.early_stop_threshold if config.early_stop_threshold is not None else min(config.thresholds)
    if config.early_stop_rule == "sticky":
        return bool(np.all(inversion.first_step()[:, config.thresholds.index(threshold)] >= 0))
    return bool(np.all(z_error < threshold))
