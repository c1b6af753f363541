"""The paper's metrics: recovery rates (Table 1) and pairwise distances (Table 2); the multi-start
search and the verdict use the same distance."""
from __future__ import annotations

import numpy as np

from dcgan_inversion.gan.latents import UNIFORM, LatentPrior


def success_rate(z_error: np.ndarray, threshold: float) -> float:
    """Share of rows with ||z - z'||^2 / 100 < threshold (Table 1)."""
    return float(np.mean(np.asarray(z_error) < threshold))


def rates_differ(a: float, b: float, rows: int) -> bool:
    """Whether two recovery rates over `rows` latents each differ by more than two standard errors
    of their difference (binomial, at least one row's worth): so claim (b)'s ordering is read
    from differences the sample can tell apart, not from a row or two."""
    error = np.sqrt((a * (1 - a) + b * (1 - b)) / rows)
    return abs(a - b) > max(2 * error, 1 / rows)


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)): ||a_i - b_j||^2 over flattened rows, as |a|^2 - 2 a.b + |b|^2 (one matrix product)."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    return np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T


def mean_pairwise_distance(z: np.ndarray) -> float:
    """E(||z'_i - z'_j||_2 / z_dim) over all pairs i < j (Table 2; not squared)."""
    z = np.asarray(z, np.float64)
    gram = squared_distances(z, z)
    upper = np.triu_indices(len(z), k=1)
    return float(np.mean(np.sqrt(np.maximum(gram[upper], 0.0))) / z.shape[1])


def random_baseline(count: int, z_dim: int, seed: int, prior: LatentPrior = UNIFORM) -> float:
    """The same distance for independent draws of the prior: ~0.0816 for U(-1, 1)^100 (paper: .0815)."""
    return mean_pairwise_distance(prior.sample(np.random.default_rng(seed), (count, z_dim), dtype=np.float64))


def first_crossing(first_step, crossed, step, where=np.where):
    """Each row's first step below each threshold (Table 1's convergence; -1: not yet): `first_step`
    where a row had already crossed (the sticky rule: a crossing, once made, stays), else `step`
    where it crosses now (`crossed`). The first-order step (`where=tf.where`, inside the compiled
    step), the polish and the restarts (whose crossings continue the earlier attempts' steps) all
    keep it this way."""
    return where(first_step >= 0, first_step, where(crossed, step, -1))


def steps_summary(first_step: np.ndarray) -> dict:
    """Distribution of the step at which rows first crossed a threshold (those that did)."""
    reached = first_step[first_step >= 0]
    if reached.size == 0:
        return {"reached": 0}
    quantiles = np.percentile(reached, [0, 25, 50, 75, 90, 100])
    return {"reached": int(reached.size), **{f"p{q}": float(v) for q, v in zip((0, 25, 50, 75, 90, 100), quantiles)}}


def restart_floor(targets, restart_above: float) -> np.ndarray:
    """Per row, `restart_above` x the target's mean square: a generated row whose pixel MSE is above it
    is in a wrong basin (the recovered rows end ~1e-13 x). The restarts (restarts.py) start such rows
    again; the polish (levenberg_marquardt.py) keeps spending on rows below it."""
    targets = np.asarray(targets, np.float64).reshape(len(targets), -1)
    return restart_above * np.mean(np.square(targets), axis=1)
