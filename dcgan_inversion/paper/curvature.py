"""Why plain gradient descent needs so many steps on a generator: the curvature at the true latents.

Near its solution z the authors' per-image loss l(z') = mean_p (G(z')_p - G(z)_p)^2 is quadratic,
with the Gauss-Newton Hessian H = (2/P) J^T J (J = dG/dz at z, P pixels). Gradient descent at
rate eta shrinks the error along an eigenvector of H with eigenvalue lam by (1 - eta lam) per step,
so once the fast directions are gone the squared z error decays like exp(-2 eta lam_min k):
lam_min sets how many steps a protocol needs, lam_max how large a rate stays stable (2 / lam_max).

`measure` computes H's spectrum at Table 1's latents with the generator as the protocol inverts it
(under batch statistics: each row's own block, the batch's other rows held fixed) and puts it
beside what the protocol's Table 1 run measured: each row's decay rate over the last 40% of its
steps, and its final error. Run it after a protocol's table1:

    make invert RUN=runs/demo PROTOCOL=authors ARGS=--curvature
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dcgan_inversion.config import Config
from dcgan_inversion.infra.errors import UserError

WINDOW = 0.4        # decay rates are measured over the last 40% of the recorded steps
TARGET = 1e-4       # the paper's headline level, for the extrapolation
TINY = 1e-30        # keeps log() finite for rows that reached exactly zero error


def row_jacobians(generator, z: np.ndarray, group_rows: int | None) -> np.ndarray:
    """dG(z)_i / dz_i per row, (rows, P, z_dim) float64.

    Under batch statistics (`group_rows` rows generated together, as the protocol inverted them)
    the row's own block, the other rows of its batch held fixed; otherwise each row on its own.
    """
    from dcgan_inversion.inversion import uses_batch_statistics

    block = tf.function(_block_jacobian, reduce_retracing=True)
    size = group_rows if uses_batch_statistics(generator) and group_rows else 1
    blocks = []
    for first in range(0, len(z), size):
        batch = tf.constant(z[first:first + size], tf.float32)
        blocks += [block(generator, batch, tf.constant(row)).numpy() for row in range(len(batch))]
    return np.stack(blocks).astype(np.float64)


def _block_jacobian(generator, batch: tf.Tensor, row: tf.Tensor) -> tf.Tensor:
    rows, z_dim = batch.shape
    tangents = tf.one_hot(row, rows)[None, :, None] * tf.eye(z_dim)[:, None, :]  # (z_dim, rows, z_dim)

    def column(tangent):
        with tf.autodiff.ForwardAccumulator(batch, tangent) as accumulator:
            images = generator(batch, training=False)
        return tf.reshape(accumulator.jvp(images)[row], [-1])

    return tf.transpose(tf.vectorized_map(column, tangents))  # (P, z_dim)


def hessian_spectra(jacobians: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending, per row) of the per-image loss's Gauss-Newton Hessian (2/P) J^T J."""
    pixels = jacobians.shape[1]
    return np.linalg.eigvalsh(2.0 / pixels * np.einsum("rpi,rpj->rij", jacobians, jacobians))


def decay_rates(steps: np.ndarray, history: np.ndarray, window: float = WINDOW) -> np.ndarray:
    """Per row, -d ln(z error) / d step over the last `window` of the recorded steps."""
    first = window_start(steps, window)
    logs = np.log(np.maximum(history[[first, -1]].astype(np.float64), TINY))
    return (logs[0] - logs[1]) / float(steps[-1] - steps[first])


def window_start(steps: np.ndarray, window: float = WINDOW) -> int:
    """Index of the first recorded step in the last `window` of the run (at least two entries)."""
    return min(int(np.searchsorted(steps, (1.0 - window) * steps[-1])), len(steps) - 2)


def rate_at(config: Config, step: int) -> float | None:
    """Gradient descent's learning rate at `step`; None for other optimizers (no such prediction)."""
    if config.invert.optimizer != "sgd":
        return None
    from dcgan_inversion.inversion.step import learning_rate

    rate = learning_rate(config.invert)
    return float(rate(step)) if callable(rate) else float(rate)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho (ties are rare in float errors and not averaged)."""
    ranks = [np.argsort(np.argsort(values)) for values in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def extra_steps(final: np.ndarray, rates: np.ndarray, level: float = TARGET) -> np.ndarray:
    """Further steps each row needs to go below `level` at its measured rate (0 if there, inf if not decaying)."""
    needed = np.full(final.shape, np.inf)
    needed[final < level] = 0.0
    decaying = (final >= level) & (rates > 0)
    needed[decaying] = np.log(final[decaying] / level) / rates[decaying]
    return needed


def measure(generator, config: Config, results_dir: Path, progress: bool = True) -> dict:
    """Spectrum at Table 1's latents, and each mode's measured decay beside it; writes curvature.json/npz."""
    from dcgan_inversion.gan.sampling import inversion_generator
    from dcgan_inversion.paper.experiments import generated_latents, mode_rows
    from dcgan_inversion.records import save_results

    started = time.time()
    table1, arrays = _table1(results_dir)
    modes, count = list(table1["modes"]), table1["latents_per_mode"]
    z_true, _ = generated_latents(config, count)
    _check_same_latents(arrays, z_true, len(modes), results_dir)
    if progress:
        print(f"curvature: dG/dz at {count} latents ({'batch statistics' if config.invert.batch_norm == 'batch' else 'moving averages'})",
              flush=True)
    spectra = hessian_spectra(row_jacobians(inversion_generator(generator, config), z_true, count))
    steps, history = arrays["history_steps"], arrays["history_z_error"]
    first = float(steps[window_start(steps)])
    rate = rate_at(config, int(round((first + steps[-1]) / 2)))
    rates = decay_rates(steps, history)
    lam_min, lam_max = spectra[:, 0], spectra[:, -1]
    numbers = {
        "latents": count, "steps": int(steps[-1]), "window": [first, float(steps[-1])],
        "learning_rate_in_window": rate, "optimizer": config.invert.optimizer,
        "spectrum": {"lambda_min": _quantiles(lam_min), "lambda_max": _quantiles(lam_max),
                     "condition_median": float(np.median(lam_max / lam_min)),
                     "largest_stable_rate": float(2.0 / lam_max.max())},
        "modes": {mode: _mode_numbers(mode_rows(arrays["z_error"], modes, index).astype(np.float64),
                                      mode_rows(rates, modes, index), lam_min, rate, int(steps[-1]))
                  for index, mode in enumerate(modes)},
    }
    return save_results(results_dir, "curvature", config, time.time() - started, numbers,
                        spectra=spectra, decay_rates=rates, z_error=arrays["z_error"])


def _mode_numbers(final: np.ndarray, rates: np.ndarray, lam_min: np.ndarray, rate: float | None, steps: int) -> dict:
    needed = extra_steps(final, rates)
    numbers = {"measured_rate_median": float(np.median(rates)),
               "rank_correlation_lambda_min_final_error": rank_correlation(lam_min, final),
               "below_target_now": float(np.mean(final < TARGET)),
               "extra_steps_to_target_median": float(np.median(needed)),
               "below_target_after_2x_steps": float(np.mean(needed <= steps)),
               "below_target_after_5x_steps": float(np.mean(needed <= 4 * steps))}
    if rate is not None:
        predicted = 2.0 * rate * lam_min
        numbers.update(predicted_rate_median=float(np.median(predicted)),
                       measured_over_predicted_median=float(np.median(rates / predicted)),
                       steps_per_e_fold_median=float(np.median(1.0 / predicted)))
    return numbers


def _quantiles(values: np.ndarray) -> dict:
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def _table1(results_dir: Path) -> tuple[dict, dict]:
    import json
    import zipfile

    record_path, arrays_path = Path(results_dir) / "table1.json", Path(results_dir) / "table1.npz"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        with np.load(arrays_path) as loaded:
            arrays = dict(loaded)
        if not isinstance(record, dict) or record.get("experiment") != "table1":
            raise ValueError("not a table1 record")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # missing, truncated, emptied, not an npz
        raise UserError(f"the curvature analysis compares with a finished table1: {record_path} and {arrays_path} "
                        "are missing or unreadable (run the experiment table1 first)") from None
    if arrays.get("history_z_error") is None or arrays["history_z_error"].ndim != 2 or len(arrays["history_steps"]) < 2:
        raise UserError(f"{arrays_path} holds no first-order history to measure decay rates from")
    return record, arrays


def _check_same_latents(arrays: dict, z_true: np.ndarray, modes: int, results_dir: Path) -> None:
    """The recorded final z error must be the distance to the latents this config generates."""
    recomputed = np.sum(np.square(arrays["z"] - np.tile(z_true, (modes, 1))), axis=1) / z_true.shape[1]
    if not np.allclose(recomputed, arrays["z_error"], rtol=1e-3, atol=1e-9):
        raise UserError(f"{Path(results_dir) / 'table1.npz'} was not made with this config's latents "
                        "(seed or sizes differ): run table1 again with this config")
