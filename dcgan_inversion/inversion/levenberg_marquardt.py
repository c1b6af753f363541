"""Second-order polish: batched Levenberg-Marquardt on each row's least-squares problem.

First-order steps crawl near the solution because G's Jacobian is ill-conditioned. Per row,
LM solves (J^T J + lambda s I) dz = J^T r, with J the P x z_dim Jacobian of G at z', r the
pixel residual and s the mean diagonal of J^T J (so lambda is scale-free), and accepts the
step only if that row's loss drops (then lambda shrinks); otherwise z' stays and lambda grows.
Two ways to J, chosen by `polish.method`:
- `levenberg_marquardt`: forward-mode autodiff, one tangent per latent direction, batched as a
  single forward pass over `chunk_rows * z_dim` copies of z' (primal and tangent on every copy);
- `layerwise_lm`: the primal once per row and the tangents pushed through each layer's linear
  part (jacobian.py), the same J to float32 rounding at about a fifth of the cost on the demo
  generator; a generator jacobian.py cannot read falls back to autodiff.
Under a tf.distribute strategy each replica iterates its own chunk of rows.
"""
from __future__ import annotations

import functools
import time

import numpy as np
import tensorflow as tf

from dcgan_inversion.config import PolishConfig
from dcgan_inversion.inversion.cost import InversionCost
from dcgan_inversion.inversion.jacobian import layerwise_jacobian

MIN_DAMPING, MAX_DAMPING = 1e-12, 1e12  # keep lambda finite through long runs of accepts or rejects


class LevenbergMarquardt:
    """Polishes many rows at once; rows are split into chunks to bound the Jacobian's memory."""

    counted_as = "levenberg_marquardt"  # how cost.py counts one iteration's FLOPs

    def __init__(self, generator, config: PolishConfig, low: float = -1.0, high: float = 1.0, strategy=None):
        self.generator = generator
        self.config = config
        self.low, self.high = low, high
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self._iterate = tf.function(self._iterate_replicas, reduce_retracing=True)  # active rows vary in number

    def jacobian(self, z: tf.Tensor) -> tf.Tensor:
        """dG/dz per row, shape (rows, P, z_dim), by forward-mode differentiation."""
        rows, z_dim = tf.shape(z)[0], z.shape[1]
        repeated = tf.repeat(z, z_dim, axis=0)                      # (rows * z_dim, z_dim)
        tangents = tf.tile(tf.eye(z_dim, dtype=z.dtype), [rows, 1])  # one basis direction per copy
        with tf.autodiff.ForwardAccumulator(repeated, tangents) as accumulator:
            images = self.generator(repeated, training=False)
        pixels = int(np.prod(images.shape[1:]))  # static, so a replica with no rows still reshapes
        columns = tf.reshape(accumulator.jvp(images), [rows, z_dim, pixels])  # (rows, z_dim, P)
        return tf.transpose(columns, [0, 2, 1])

    def linearize(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """G(z) and dG/dz at the rows' current z'."""
        return self.generator(z, training=False), self.jacobian(z)

    def residual(self, z: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        return self._flat(self.generator(z, training=False) - targets)

    @staticmethod
    def _flat(images: tf.Tensor) -> tf.Tensor:
        return tf.reshape(images, [tf.shape(images)[0], -1])

    def _iterate_replicas(self, z, targets, damping, loss):
        """One iteration on every replica, each on its own chunk of rows (distributed values)."""
        return self.strategy.run(self._iterate_eager, args=(z, targets, damping, loss))

    def _iterate_eager(self, z, targets, damping, loss):
        """One damped Gauss-Newton step per row; returns the new (z, damping, loss)."""
        images, jacobian = self.linearize(z)
        jacobian = tf.cast(jacobian, tf.float64)
        residual = tf.cast(self._flat(images - targets), tf.float64)
        normal = tf.linalg.matmul(jacobian, jacobian, transpose_a=True)          # (rows, z_dim, z_dim)
        gradient = tf.linalg.matvec(jacobian, residual, transpose_a=True)       # (rows, z_dim)
        proposal = self._proposal(z, normal, gradient, damping)
        proposal_loss = tf.reduce_mean(tf.square(self.residual(proposal, targets)), axis=1)
        return self._judged(z, proposal, damping, loss, proposal_loss)

    def _proposal(self, z, normal, gradient, damping):
        """z' minus the damped Gauss-Newton step (float64 normal equations), clipped to the box."""
        # Damping is relative to the mean curvature, so one setting fits any generator's scale.
        scale = tf.reduce_mean(tf.linalg.diag_part(normal), axis=1)
        eye = tf.eye(z.shape[1], dtype=tf.float64)
        damped = normal + (tf.cast(damping, tf.float64) * scale)[:, None, None] * eye
        step = tf.linalg.cholesky_solve(tf.linalg.cholesky(damped), gradient[:, :, None])[:, :, 0]
        return tf.clip_by_value(z - tf.cast(step, tf.float32), self.low, self.high)

    def _judged(self, z, proposal, damping, loss, proposal_loss):
        """Per row, the proposal if it lowers the loss (lambda shrinks), else z' as it was (lambda
        grows): the new (z, damping, loss)."""
        accept = proposal_loss < loss  # False for NaN from a failed factorisation: keep z, raise damping
        config = self.config
        return (
            tf.where(accept[:, None], proposal, z),
            tf.clip_by_value(tf.where(accept, damping * config.damping_down, damping * config.damping_up),
                             MIN_DAMPING, MAX_DAMPING),
            tf.where(accept, proposal_loss, loss),
        )

    def run(self, z, targets, iterations: int | None = None, on_iteration=None,
            floor=None) -> tuple[np.ndarray, dict]:
        """Polishes every row for `iterations`; `on_iteration(i, z, counted)` sees z' and each row's
        counted step-equivalents so far (cost.py) after each one.

        Rows whose pixel MSE is below `converged_relative_error` times the target's mean square
        (float32's floor is ~1e-14 on faces) are left alone, so later iterations cost only what
        is still converging; with `row_patience`, so are rows whose loss stopped falling (a real
        photo outside G's range never reaches the floor), and with `row_budget` rows that have spent it
        while still above their `floor` (per row; the search's restart floor, metrics.restart_floor: a
        row in a wrong basin creeps on for many iterations, one in the true basin gets below it in a
        few; None: no row is spared the budget). The polish works inside the
        box: rows start from z' projected into [low, high] (a row left outside by an unclipped first-order phase would otherwise stay
        there, every clipped step rejected) and every step is clipped to it.
        """
        iterations = self.config.iterations if iterations is None else iterations
        z = np.clip(np.array(z, np.float32), self.low, self.high)
        targets = np.asarray(targets, np.float32)
        damping = np.full(len(z), self.config.initial_damping, np.float32)
        loss = np.mean(np.square(self.residual(tf.constant(z), tf.constant(targets)).numpy()), axis=1)
        mean_square = np.mean(np.square(targets.reshape(len(z), -1)), axis=1)
        converged = self.config.converged_relative_error * mean_square
        floor = np.zeros(len(z)) if floor is None else np.asarray(floor)  # below it a row is in the true basin
        self._begin(len(z))
        started, done, row_iterations = time.time(), 0, 0
        counted = np.zeros(len(z))  # per row, in first-order step-equivalents
        stalled = np.zeros(len(z), np.int64)  # iterations in a row without progress
        for iteration in range(1, iterations + 1):
            active = np.flatnonzero((loss > converged) & self._still_improving(stalled)
                                    & self._within_budget(counted, loss, floor))
            if active.size == 0:
                break
            before = loss.copy()
            cost, judged = self._advance(active, z, targets, damping, loss)
            counted[active] += cost
            progress = loss[active] < (1 - self.config.row_tolerance) * before[active]
            stalled[active] = np.where(progress, 0, np.where(judged, stalled[active] + 1, stalled[active]))
            self._after_iteration(active, before[active], loss[active])
            done, row_iterations = iteration, row_iterations + active.size
            if on_iteration is not None and on_iteration(iteration, z, counted):
                break
        self._begin(0)  # let go of per-row state
        return z, {"iterations": done, "row_iterations": row_iterations, "seconds": time.time() - started,
                   "pixel_error": loss, "damping": damping, "counted": counted}

    def _begin(self, rows: int) -> None:
        """Per-row state for `rows` rows (LM keeps none between iterations)."""

    def _after_iteration(self, active: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Per-row bookkeeping after an iteration (LM keeps none)."""

    def _advance(self, active, z, targets, damping, loss) -> tuple[np.ndarray, np.ndarray]:
        """One iteration of the `active` rows, in place; returns each row's counted cost and which
        rows' stall counters the iteration may advance (here: all)."""
        chunk = self.config.chunk_rows
        chunks = [active[first:first + chunk] for first in range(0, active.size, chunk)]
        for first in range(0, len(chunks), self.replicas):  # one chunk per replica at a time
            self._step_chunks(chunks[first:first + self.replicas], z, targets, damping, loss)
        return np.full(active.size, self.iteration_steps), np.ones(active.size, bool)

    @functools.cached_property
    def iteration_steps(self) -> float:
        """One row's iteration in counted step-equivalents (cost.py)."""
        return InversionCost.of(self.generator).polish_iteration_steps(self.counted_as)

    def _within_budget(self, counted: np.ndarray, loss: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """Rows that have not spent `row_budget` counted step-equivalents yet (0: no budget), or that are below
        the restart floor: in the true basin by the restarts' own test, so worth finishing."""
        budget = self.config.row_budget
        if not budget:
            return np.ones(len(counted), bool)
        return (counted < budget) | (loss <= floor)

    def _still_improving(self, stalled: np.ndarray) -> np.ndarray:
        patience = self.config.row_patience
        return stalled < patience if patience else np.ones(len(stalled), bool)

    def _step_chunks(self, chunks, z, targets, damping, loss) -> None:
        """Iterates each chunk of rows on its own replica; updates the arrays in place."""
        self._on_replicas(self._iterate, chunks, (z, targets, damping, loss), (z, damping, loss))

    def _on_replicas(self, function, chunks, inputs, outputs, leading=()) -> None:
        """`function` (a strategy.run of per-row tensors, after any `leading` distributed values) on
        each chunk of rows, one chunk per replica; its results are written back into the rows of
        `outputs` (host arrays)."""
        chunks = chunks + [np.zeros(0, np.int64)] * (self.replicas - len(chunks))  # idle replicas get no rows

        def per_replica(array):
            return self.strategy.experimental_distribute_values_from_function(
                lambda context: tf.constant(array[chunks[context.replica_id_in_sync_group]]))

        results = function(*leading, *(per_replica(array) for array in inputs))
        for array, value in zip(outputs, results):
            for part, local in zip(chunks, self.strategy.experimental_local_results(value)):
                array[part] = local.numpy()


class LayerwiseLevenbergMarquardt(LevenbergMarquardt):
    """The same Levenberg-Marquardt, its Jacobian from jacobian.LayerwiseJacobian."""

    def __init__(self, generator, config: PolishConfig, low: float = -1.0, high: float = 1.0, strategy=None):
        super().__init__(generator, config, low, high, strategy)
        self.layerwise = layerwise_jacobian(generator)
        if self.layerwise is None:
            print("note: the generator is not a chain of layers the layer-wise Jacobian knows; the polish uses "
                  "forward-mode autodiff for dG/dz (5x the layer-wise cost on the demo generator: jacobian.py)", flush=True)

    @property
    def counted_as(self) -> str:
        return "levenberg_marquardt" if self.layerwise is None else "layerwise_lm"

    def linearize(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return super().linearize(z) if self.layerwise is None else self.layerwise(z)
