"""The polish phase: a second-order method takes the first-order z' to float32 precision.

Methods live behind one small interface, chosen by `polish.method`: a class built as
`Method(generator, polish_config, low, high, strategy)` (the prior's box) whose
`run(z, targets, on_iteration, floor)` (`floor`: the rows' restart floor, below which polish.row_budget
spares a row) returns the polished z' and a dict with `iterations`, `row_iterations` (summed over
rows), `seconds`, `pixel_error` and `counted` (each row's counted step-equivalents, cost.py), calling
`on_iteration(iteration, z, counted)` after each iteration (True stops it). A new method is one
module and one line in `METHODS`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from dcgan_inversion.infra import preemption
from dcgan_inversion.inversion.broyden import BroydenLevenbergMarquardt
from dcgan_inversion.inversion.progress import progress_bar, progress_values
from dcgan_inversion.inversion.result import InversionResult, latent_error
from dcgan_inversion.inversion.shards import ShardedInversion
from dcgan_inversion.inversion.levenberg_marquardt import LayerwiseLevenbergMarquardt, LevenbergMarquardt
from dcgan_inversion.inversion.metrics import first_crossing, restart_floor

METHODS = {"levenberg_marquardt": LevenbergMarquardt, "layerwise_lm": LayerwiseLevenbergMarquardt,
           "broyden_lm": BroydenLevenbergMarquardt}
TITLES = {"levenberg_marquardt": "Levenberg-Marquardt polish",
          "layerwise_lm": "Levenberg-Marquardt polish (layer-wise Jacobian)",
          "broyden_lm": "Levenberg-Marquardt polish (Broyden-updated Jacobian)"}


def polish(generator, settings, inversion: ShardedInversion, result: InversionResult, z_true) -> InversionResult:
    """The polish on the first-order result: a new result with the polished rows, the first-order
    state kept beside them (`result` itself is left as it was)."""
    config, polish_config = settings.invert, settings.polish
    polisher = METHODS[polish_config.method](generator, polish_config, *settings.prior.box, settings.strategy)
    title = settings.progress and f"{settings.progress.rstrip(':')}: {TITLES[polish_config.method]}"
    bar = progress_bar(title, polish_config.iterations, z_true is not None)
    history, counted_history = [], []
    thresholds = np.asarray(config.thresholds)
    first_step = None if result.first_step is None else result.first_step.copy()

    def on_iteration(iteration, z, counted):
        if preemption.requested():  # the first-order phase is saved as finished: a resume redoes the polish
            raise preemption.Preempted(f"SIGTERM in the polish (iteration {iteration}); the first-order phase is "
                                       "saved: run the same command to resume")
        counted_history.append(counted.copy())
        if z_true is None:
            return bar.update(iteration) if bar else False
        z_error = latent_error(z, z_true)
        history.append(z_error)
        # polish iterations continue the step count
        first_step[:] = first_crossing(first_step, z_error[:, None] < thresholds[None, :], result.steps + iteration)
        if bar:
            bar.update(iteration, progress_values(z_error))
        return config.early_stop and bool(np.all(z_error < thresholds.min()))

    targets = inversion.targets()
    z, info = polisher.run(result.z, targets, on_iteration=on_iteration,
                           floor=restart_floor(targets, settings.search.restart_above))
    if bar and info["iterations"] < polish_config.iterations:
        bar.update(info["iterations"], finalize=True)  # stopped early: end the bar's line
    snapshots = dict(result.snapshots)
    if snapshots:
        snapshots[result.steps + info["iterations"]] = inversion.images(settings.snapshot_rows, z)
    return dataclasses.replace(
        result, z=z, pixel_error=info["pixel_error"], z_error=None if z_true is None else latent_error(z, z_true),
        first_step=first_step, z_before_polish=result.z, z_error_before_polish=result.z_error,
        polish_iterations=info["iterations"], polish_row_iterations=info["row_iterations"],
        polish_row_steps=float(np.sum(info["counted"])), polish_seconds=info["seconds"],
        seconds=result.seconds + info["seconds"], polish_z_error=np.stack(history) if history else None,
        polish_counted=np.stack(counted_history) if counted_history else None, snapshots=snapshots)
