"""Levenberg-Marquardt on a Jacobian kept up to date by Broyden's rank-1 secant updates.

A full Jacobian costs about z_dim forward passes (a layer-wise LM iteration is ~53 first-order
step-equivalents on the demo generator); most of the polish's cost was that Jacobian, recomputed
every iteration, even after a rejected step at the same z'. Each row here keeps its Jacobian B
and B^T B between iterations. After every step s (accepted or not) the residual change
y = r(z' + s) - r(z') it has already paid for corrects B along s, Broyden's update
B += (y - B s) s^T / (s^T s), and B^T B is updated with it in O(P z_dim), so an iteration on B
costs one forward pass and a few matrix-vector products (~0.6 step-equivalents on the demo
generator). A row takes a fresh Jacobian only at its first iteration and after `refresh_patience`
iterations in a row that lowered its loss by less than `refresh_improvement` (measured on the
demo's Table 1 from encoder starts: 1.0 fresh Jacobian and 22 updated iterations per row, every
row below 1e-8).

Rows keep B on their replica's device, P x z_dim float32 each (1.2 MB at 32 px, 4.9 MB at
64 px); rows beyond `jacobian_memory_mb` are polished in consecutive waves. A row leaves for lack
of progress (`row_patience`) only by iterations taken on a fresh Jacobian: a secant step that
fails says that B is stale, not that the row is done.
"""
from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from dcgan_inversion.config import PolishConfig
from dcgan_inversion.inversion.cost import InversionCost
from dcgan_inversion.inversion.levenberg_marquardt import LayerwiseLevenbergMarquardt


UPDATE_CHUNK_MB = 256  # rows' Jacobians per update call: all active rows of the demo in one call, 11% faster than 16


class BroydenLevenbergMarquardt(LayerwiseLevenbergMarquardt):
    """Layer-wise LM whose rows reuse their Jacobian through Broyden updates (module docstring)."""

    def __init__(self, generator, config: PolishConfig, low: float = -1.0, high: float = 1.0, strategy=None):
        super().__init__(generator, config, low, high, strategy)
        cost = InversionCost.of(generator)
        self.pixels, self.z_dim = cost.pixels, cost.z_dim
        self.fresh_steps, self.updated_steps = cost.broyden_iteration_steps(super().counted_as)
        self._refresh = tf.function(lambda *args: self.strategy.run(self._refresh_rows, args=args), reduce_retracing=True)
        self._update = tf.function(lambda *args: self.strategy.run(self._update_rows, args=args), reduce_retracing=True)
        self._begin(0)

    @property
    def counted_as(self) -> str:
        return "broyden_lm"

    @property
    def bytes_per_row(self) -> int:
        return 4 * self.pixels * self.z_dim + 8 * self.z_dim ** 2 + 4 * self.pixels

    def rows_per_wave(self) -> int:
        """How many rows' Jacobians fit in `jacobian_memory_mb` (at least one)."""
        return max(1, int(self.config.jacobian_memory_mb * 2**20 // self.bytes_per_row))

    @property
    def update_rows(self) -> int:
        """Rows per update call: far more than a Jacobian pass's (its z_dim tangents per row), bounded
        by the copy of their B that the call gathers."""
        return max(self.config.chunk_rows, UPDATE_CHUNK_MB * 2**20 // self.bytes_per_row)

    def run(self, z, targets, iterations: int | None = None, on_iteration=None,
            floor=None) -> tuple[np.ndarray, dict]:
        """As LevenbergMarquardt.run, in waves of rows_per_wave() rows when the rows' Jacobians do not
        fit in memory together; `on_iteration` then sees each wave's iterations in turn, numbered
        on from the waves before (so a history indexed by iteration stays one timeline)."""
        wave = self.rows_per_wave()
        if len(z) <= wave:
            return super().run(z, targets, iterations, on_iteration, floor)
        z, targets = np.clip(np.array(z, np.float32), self.low, self.high), np.asarray(targets, np.float32)
        counted, infos, stop, before = np.zeros(len(z)), [], False, 0
        for first in range(0, len(z), wave):
            rows = slice(first, first + wave)

            def wave_iteration(iteration, wave_z, wave_counted):
                nonlocal stop
                z[rows], counted[rows] = wave_z, wave_counted
                stop = bool(on_iteration and on_iteration(before + iteration, z, counted))
                return stop

            z[rows], info = super().run(z[rows], targets[rows], iterations, wave_iteration,
                                        None if floor is None else np.asarray(floor)[rows])
            infos.append(info)
            before += info["iterations"]
            if stop:
                break
        pixel_error = np.mean(np.square(self.residual(tf.constant(z), tf.constant(targets)).numpy()), axis=1)
        return z, {"iterations": before,
                   "row_iterations": sum(info["row_iterations"] for info in infos),
                   "seconds": sum(info["seconds"] for info in infos), "pixel_error": pixel_error,
                   "damping": np.concatenate([info["damping"] for info in infos]),
                   "counted": np.concatenate([info["counted"] for info in infos])}

    def _begin(self, rows: int) -> None:
        self.needs_fresh = np.ones(rows, bool)
        self.failures = np.zeros(rows, np.int64)  # iterations without progress since the last fresh Jacobian
        self.state = self._replica_state(rows) if rows else None

    def _replica_state(self, rows: int) -> tuple:
        """Each row's B, B^T B and residual, kept on its replica's device between iterations (no
        host round trip: measured, copying them in and out every iteration was ~30% of the polish's
        time). Row i lives on replica i % replicas, at index i // replicas."""
        devices = self.strategy.extended.worker_devices if self.replicas > 1 else [None]
        local_rows = -(-rows // self.replicas)
        shapes = ((local_rows, self.pixels, self.z_dim), (local_rows, self.z_dim, self.z_dim), (local_rows, self.pixels))
        dtypes = (tf.float32, tf.float64, tf.float32)
        states = []
        for device in devices:
            with tf.device(device) if device else contextlib.nullcontext():
                states.append([tf.Variable(tf.zeros(shape, dtype), trainable=False) for shape, dtype in zip(shapes, dtypes)])
        return tuple(self.strategy.experimental_distribute_values_from_function(
            lambda context, part=part: states[context.replica_id_in_sync_group][part]) for part in range(3))

    def _advance(self, active, z, targets, damping, loss) -> tuple[np.ndarray, np.ndarray]:
        fresh = self.needs_fresh[active]
        if fresh.any():
            self._in_chunks(self._refresh, active[fresh], self.config.chunk_rows, (z, targets), ())
        self._in_chunks(self._update, active, self.update_rows, (z, targets, damping, loss), (z, damping, loss))
        self.failures[active[fresh]] = 0
        return np.where(fresh, self.fresh_steps, self.updated_steps), fresh

    def _after_iteration(self, active: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        progress = after < (1 - self.config.refresh_improvement) * before
        self.failures[active] = np.where(progress, 0, self.failures[active] + 1)
        self.needs_fresh[active] = self.failures[active] >= self.config.refresh_patience

    def _in_chunks(self, function, rows, chunk: int, inputs, outputs) -> None:
        """`function` on `rows`, each on the replica that keeps its state, `chunk` rows per call."""
        replicas = self.replicas
        own = [rows[rows % replicas == replica] for replica in range(replicas)]
        parts = [[mine[first:first + chunk] for first in range(0, mine.size, chunk)] for mine in own]
        for call in range(max(len(part) for part in parts)):
            chunks = [part[call] if call < len(part) else np.zeros(0, np.int64) for part in parts]
            local = self.strategy.experimental_distribute_values_from_function(
                lambda context: tf.constant(chunks[context.replica_id_in_sync_group] // replicas))
            self._on_replicas(function, chunks, inputs, outputs, leading=(*self.state, local))

    def _refresh_rows(self, jacobians, normals, residuals, local, z, targets):
        """A fresh Jacobian for the chunk's rows, stored in place of their state."""
        for variable, value in zip((jacobians, normals, residuals), self._refresh_eager(z, targets)):
            variable.scatter_update(tf.IndexedSlices(value, local))
        return ()

    def _update_rows(self, jacobians, normals, residuals, local, z, targets, damping, loss):
        """An iteration on the chunk's stored B; returns the new (z, damping, loss)."""
        state = [tf.gather(variable, local) for variable in (jacobians, normals, residuals)]
        z, *updated, damping, loss = self._update_eager(z, targets, *state, damping, loss)
        for variable, value in zip((jacobians, normals, residuals), updated):
            variable.scatter_update(tf.IndexedSlices(value, local))
        return z, damping, loss

    def _refresh_eager(self, z, targets):
        """A fresh Jacobian, its normal matrix (float64) and the residual at each row's z'."""
        images, jacobian = self.linearize(z)
        wide = tf.cast(jacobian, tf.float64)
        return jacobian, tf.linalg.matmul(wide, wide, transpose_a=True), self._flat(images - targets)

    def _update_eager(self, z, targets, jacobian, normal, residual, damping, loss):
        """One damped Gauss-Newton step on B per row, then Broyden's update of B and B^T B with it.

        The P x z_dim products run in float32 like the Jacobian itself; the z_dim x z_dim normal
        matrix and the solve in float64, as in LM."""
        gradient = tf.cast(tf.linalg.matvec(jacobian, residual, transpose_a=True), tf.float64)
        proposal = self._proposal(z, normal, gradient, damping)
        proposal_residual = self.residual(proposal, targets)
        proposal_loss = tf.reduce_mean(tf.square(proposal_residual), axis=1)
        # Broyden: B += u s^T / (s^T s), u = y - B s; B^T B follows exactly in O(P z_dim).
        s = proposal - z
        u = proposal_residual - residual - tf.linalg.matvec(jacobian, s)
        length = tf.reduce_sum(tf.square(tf.cast(s, tf.float64)), axis=1)
        usable = (length > 0) & tf.reduce_all(tf.math.is_finite(u), axis=1) & tf.reduce_all(tf.math.is_finite(s), axis=1)
        inverse = tf.where(usable, 1.0 / tf.where(usable, length, 1.0), 0.0)
        s, u = tf.where(usable[:, None], s, 0.0), tf.where(usable[:, None], u, 0.0)
        wide_s = tf.cast(s, tf.float64)
        bu = tf.cast(tf.linalg.matvec(jacobian, u, transpose_a=True), tf.float64)
        cross = bu[:, :, None] * wide_s[:, None, :]
        outer = wide_s[:, :, None] * wide_s[:, None, :]
        squared_u = tf.reduce_sum(tf.square(tf.cast(u, tf.float64)), axis=1)
        new_normal = (normal + (cross + tf.linalg.matrix_transpose(cross)) * inverse[:, None, None]
                      + outer * (squared_u * tf.square(inverse))[:, None, None])
        new_jacobian = jacobian + u[:, :, None] * (s * tf.cast(inverse, tf.float32)[:, None])[:, None, :]
        z, damping, new_loss = self._judged(z, proposal, damping, loss, proposal_loss)
        accept = new_loss < loss  # the rows _judged took the proposal for: their residual moves too
        return z, new_jacobian, new_normal, tf.where(accept[:, None], proposal_residual, residual), damping, new_loss
