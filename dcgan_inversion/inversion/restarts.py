"""Restarts of stuck rows: a row whose target G drew, left far above the floor, starts again.

On a real generator the loss has local minima: a row can end the polish with pixel MSE 1e-4 to
1e-2 and a z' as far from the true z as a random latent, while the recovered rows reach ~1e-13
(docs/your_gan.md). For a target G drew an exact fit exists, so a row above
`search.restart_above` x mean(target^2) is stuck, not finished: it runs again (first-order phase
and polish) from a new draw of the prior, at most `search.restarts` times, and keeps whichever
attempt fits its target better. Targets G may not draw (noisy images, photos) have no such floor,
so only rows the problem marks `generated` restart. An attempt screens its new starts as the first one
did (screening.py). Every attempt is counted in the row's cost.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from dcgan_inversion.config import seeds
from dcgan_inversion.inversion.metrics import first_crossing, restart_floor
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings
from dcgan_inversion.inversion.result import InversionResult, replaced_fields


def stuck_rows(problem: InversionProblem, result: InversionResult, restart_above: float) -> np.ndarray:
    """Generated rows whose pixel MSE is above their restart floor."""
    return problem.generated & (result.pixel_error > restart_floor(problem.targets, restart_above))


def restart_round(problem: InversionProblem, result: InversionResult, settings: InversionSettings, round_: int,
                  checkpoint_dir) -> tuple[np.ndarray, InversionProblem, InversionSettings, Path | None] | None:
    """Round `round_` of restarts: the stuck rows, their problem with new starts, the settings (a progress
    title of its own) and checkpoint folder of the attempt; None when no row is stuck."""
    rows = np.flatnonzero(stuck_rows(problem, result, settings.search.restart_above))
    if not rows.size:
        return None
    title = settings.progress and (f"{settings.progress.rstrip(':')}: restart {round_} of at most "
                                   f"{settings.search.restarts} ({rows.size} stuck rows)")
    directory = None if checkpoint_dir is None else Path(checkpoint_dir) / f"restart{round_}"
    return (rows, restarted_problem(problem, rows, settings, round_), dataclasses.replace(settings, progress=title),
            directory)


def restarted_problem(problem: InversionProblem, rows: np.ndarray, settings: InversionSettings,
                       round_: int) -> InversionProblem:
    """The stuck rows with new starts from the prior and a new key for the clip's draws."""
    rng = np.random.default_rng((problem.seed, seeds.RESTART_STARTS, round_))
    starts = settings.prior.sample(rng, (rows.size, np.shape(problem.starts)[1]))
    return InversionProblem(np.asarray(problem.targets)[rows], starts, [problem.modes[i] for i in rows],
                            None if problem.z_true is None else np.asarray(problem.z_true)[rows],
                            seed=int(rng.integers(2 ** 31)), generated=True)


def fold(result: InversionResult, rows: np.ndarray, again: InversionResult, ran: np.ndarray) -> InversionResult:
    """`result` with a restart folded in: rows whose new attempt fits better take it; the cost of every
    attempt is added. `ran`: the steps and polish iterations the rows ran before this attempt (its step
    counts continue them)."""
    better = again.pixel_error < result.pixel_error[rows]
    taken, source = rows[better], np.flatnonzero(better)
    replaced = {}
    for name in replaced_fields():
        mine, theirs = getattr(result, name), getattr(again, name)
        if mine is not None and theirs is not None:
            replaced[name] = mine.copy()
            replaced[name][taken] = theirs[source]
    first_step = result.first_step
    if first_step is not None:  # a crossing in an earlier attempt still counts (the sticky rule)
        first_step = first_step.copy()
        crossed = again.first_step[source]  # its steps continue the `ran` steps of the attempts before
        first_step[taken] = first_crossing(first_step[taken], crossed >= 0, crossed + ran[better][:, None])
    restarted = result.restarts.copy()
    restarted[rows] += 1
    return dataclasses.replace(
        result, **replaced, first_step=first_step, restarts=restarted,
        restart_row_steps=result.restart_row_steps + again.screen_row_steps + again.row_steps + again.polish_row_steps,
        restart_seconds=result.restart_seconds + again.seconds, seconds=result.seconds + again.seconds)
