"""The start screen: each row starts from the best of several candidates after a few first-order steps.

On a real generator the inversion loss has local minima, and the start decides which basin a row ends
in; a short run already tells the basins apart. On the real face generator (an exploration on 16
targets, 4 candidates each) the candidate with the lowest pixel loss after 25 Adam steps was one that
went on to the true basin for each of the 15 targets where any candidate did; the benchmark measures
the setting (docs/your_gan.md). So with `search.screen_starts` K > 1, each row's candidates
(its own start first, then K - 1 draws of the prior) run `search.screen_steps` first-order steps
together, at the phase's first learning rate, and the row goes on from the candidate with the lowest
pixel loss, where that candidate got to. Every candidate's steps are paid in the row's cost.

With `search.screen_bank` B > 0 the candidates are chosen instead of drawn: the batch draws B latents
of the prior per row, G renders them once, and each row's candidates are the K draws whose images are
nearest its target (pixel MSE; K = 1: the row starts at its nearest draw, with no steps). The bank's
forward passes are paid too (B per row, a forward pass being half a first-order step, cost.py).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from dcgan_inversion.config import seeds
from dcgan_inversion.gan.sampling import generate
from dcgan_inversion.infra.fingerprints import ProblemKey
from dcgan_inversion.infra.io_utils import write_npz
from dcgan_inversion.inversion.metrics import squared_distances
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings
from dcgan_inversion.inversion.result import InversionResult

BANK_CHUNK = 512           # bank draws rendered at once
SAVED = "screen.npz"       # the screen a run keeps beside its checkpoints


@dataclasses.dataclass(frozen=True)
class Screened:
    """The screen's outcome: the rows' new starts and what the screen cost."""

    starts: np.ndarray     # (rows, z_dim): the best candidate's z' after the screen
    row_steps: float       # first-order steps summed over every candidate of every row, and the bank's cost
    seconds: float


def kept(key: ProblemKey, checkpoint_dir) -> Screened | None:
    """The screen a run kept in `checkpoint_dir` (`screen.npz`) under `key` (`screen_key`), so a resumed
    run goes on from the same starts; None where there is none (or it is another problem's)."""
    saved = None if checkpoint_dir is None else Path(checkpoint_dir) / SAVED
    if saved is None or not saved.exists():
        return None
    with np.load(saved) as kept_screen:
        if key.matches(kept_screen):
            return Screened(kept_screen["starts"], float(kept_screen["row_steps"]), float(kept_screen["seconds"]))
    return None


def chosen(problem: InversionProblem, result: InversionResult | None, bank_steps: float, seconds: float,
           candidates: InversionProblem) -> Screened:
    """Each row's start after the screen: the candidate with the lowest pixel loss, where it got to
    (`result`, the candidates' short run), or with one candidate (a bank) the candidate itself."""
    if result is None:
        return Screened(candidates.starts, bank_steps, seconds)
    count = candidates.rows // problem.rows
    pixel_error = result.pixel_error.reshape(problem.rows, count)
    z = result.z.reshape(problem.rows, count, -1)
    return Screened(z[np.arange(problem.rows), np.argmin(pixel_error, axis=1)], result.row_steps + bank_steps, seconds)


def keep(screened: Screened, key: ProblemKey, checkpoint_dir) -> None:
    """Keeps the screen under `key`, the fingerprint of what made it."""
    if checkpoint_dir is not None:
        write_npz(Path(checkpoint_dir) / SAVED, starts=screened.starts, row_steps=screened.row_steps,
                  seconds=screened.seconds, **key.saved())


def screen_key(problem: InversionProblem, settings: InversionSettings) -> ProblemKey:
    """What a screen depends on: the first-order and search settings, the targets, the starts, the modes,
    the seed."""
    return ProblemKey.of(problem.targets, (settings.invert, settings.search), problem.starts, list(problem.modes),
                       problem.seed)


def candidate_problem(generator, problem: InversionProblem, settings: InversionSettings) -> tuple[InversionProblem, float]:
    """Each row's `search.screen_starts` candidates as rows (same target and clip mode, a row's candidates
    together), and the bank's cost in first-order step-equivalents (0 without a bank)."""
    candidates, bank_steps = settings.search.screen_starts, 0.0
    rng = np.random.default_rng((problem.seed, seeds.SCREEN_CANDIDATES))
    if settings.search.screen_bank:
        starts, bank_steps = nearest_draws(generator, problem, settings)
    else:
        starts = drawn_candidates(problem, candidates, settings, rng)
    return InversionProblem(np.repeat(np.asarray(problem.targets), candidates, axis=0),
                            starts.reshape(-1, starts.shape[2]),
                            [mode for mode in problem.modes for _ in range(candidates)],
                            seed=int(rng.integers(2 ** 31))), bank_steps


def drawn_candidates(problem: InversionProblem, candidates: int, settings: InversionSettings, rng) -> np.ndarray:
    """(rows, candidates, z_dim): each row's own start, then draws of the prior from `rng`."""
    starts = np.asarray(problem.starts, np.float32)
    drawn = settings.prior.sample(rng, (problem.rows, candidates - 1, starts.shape[1])).astype(np.float32)
    return np.concatenate([starts[:, None], drawn], axis=1)


def nearest_draws(generator, problem: InversionProblem, settings: InversionSettings) -> tuple[np.ndarray, float]:
    """(rows, screen_starts, z_dim): for each row the draws of a bank of the prior whose images are nearest
    its target, nearest first; and the bank's cost in first-order step-equivalents (its forward passes)."""
    rng = np.random.default_rng((problem.seed, seeds.SCREEN_BANK))
    size = max(settings.search.screen_bank * problem.rows, settings.search.screen_starts)  # enough for every candidate
    bank = settings.prior.sample(rng, (size, np.shape(problem.starts)[1])).astype(np.float32)
    distances = np.concatenate([squared_distances(problem.targets, generate(generator, bank[first:first + BANK_CHUNK]))
                                for first in range(0, size, BANK_CHUNK)], axis=1)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :settings.search.screen_starts]
    return bank[nearest], size / 2.0  # a forward pass is half a first-order step (cost.py)


def screen_settings(settings: InversionSettings) -> InversionSettings:
    """The screen's first-order steps at the phase's first rate (a schedule over a few steps would end
    at zero), without the polish, snapshots or checkpoints."""
    invert = dataclasses.replace(settings.invert, steps=settings.search.screen_steps, schedule="constant")
    title = settings.progress and (f"{settings.progress.rstrip(':')}: screening {settings.search.screen_starts} "
                                   "starts per row")
    return InversionSettings(invert=invert, polish=None, progress=title, strategy=settings.strategy,
                             prior=settings.prior)
