"""The start screen: each row starts from the best of several candidates after a few first-order steps.

On a real generator the inversion loss has local minima, and the start decides which basin a row ends
in; a short run already tells the basins apart. On the real face generator (an exploration on 16
targets, 4 candidates each) the candidate with the lowest pixel loss after 25 Adam steps was one that
went on to the true basin for each of the 15 targets where any candidate did; the benchmark measures
the setting (docs/your_gan.md). So with `polish.screen_starts` K > 1, each row's candidates
(its own start first, then K - 1 draws of the prior) run `polish.screen_steps` first-order steps
together, at the phase's first learning rate, and the row goes on from the candidate with the lowest
pixel loss, where that candidate got to. Every candidate's steps are paid in the row's cost.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from dcgan_inversion.infra.io_utils import write_npz
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings

SCREEN_STREAM = 1_000_033  # the screen of a batch seeded s draws its candidates from (s, SCREEN_STREAM)


@dataclasses.dataclass(frozen=True)
class Screened:
    """The screen's outcome: the rows' new starts and what the screen cost."""

    starts: np.ndarray     # (rows, z_dim): the best candidate's z' after the screen
    row_steps: int         # first-order steps summed over every candidate of every row
    seconds: float


def screen(invert, problem: InversionProblem, settings: InversionSettings, checkpoint_dir) -> Screened:
    """Runs the screen with `invert(problem, settings) -> InversionResult` (the engine, first-order only).

    With `checkpoint_dir` the outcome is kept there (`screen.npz`), so a resumed run goes on from the
    same starts as the run that wrote it.
    """
    saved = None if checkpoint_dir is None else Path(checkpoint_dir) / "screen.npz"
    if saved is not None and saved.exists():
        with np.load(saved) as kept:
            return Screened(kept["starts"], int(kept["row_steps"]), float(kept["seconds"]))
    candidates = settings.polish.screen_starts
    result = invert(candidate_problem(problem, candidates, settings), screen_settings(settings))
    pixel_error = result.pixel_error.reshape(problem.rows, candidates)
    z = result.z.reshape(problem.rows, candidates, -1)
    screened = Screened(z[np.arange(problem.rows), np.argmin(pixel_error, axis=1)], result.row_steps, result.seconds)
    if saved is not None:
        write_npz(saved, starts=screened.starts, row_steps=screened.row_steps, seconds=screened.seconds)
    return screened


def candidate_problem(problem: InversionProblem, candidates: int, settings: InversionSettings) -> InversionProblem:
    """Each row's `candidates` rows: its own start, then draws of the prior; same target and clip mode."""
    rng = np.random.default_rng((problem.seed, SCREEN_STREAM))
    starts = np.asarray(problem.starts, np.float32)
    drawn = settings.prior.sample(rng, (problem.rows, candidates - 1, starts.shape[1])).astype(np.float32)
    every = np.concatenate([starts[:, None], drawn], axis=1).reshape(-1, starts.shape[1])
    return InversionProblem(np.repeat(np.asarray(problem.targets), candidates, axis=0), every,
                            [mode for mode in problem.modes for _ in range(candidates)],
                            seed=int(rng.integers(2 ** 31)))


def screen_settings(settings: InversionSettings) -> InversionSettings:
    """The screen's first-order steps at the phase's first rate (a schedule over a few steps would end
    at zero), without the polish, snapshots or checkpoints."""
    invert = dataclasses.replace(settings.invert, steps=settings.polish.screen_steps, schedule="constant")
    title = settings.progress and (f"{settings.progress.rstrip(':')}: screening {settings.polish.screen_starts} "
                                   "starts per row")
    return InversionSettings(invert=invert, polish=None, progress=title, strategy=settings.strategy,
                             prior=settings.prior)
