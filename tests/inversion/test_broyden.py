"""inversion/broyden.py: the secant update keeps B and B^T B consistent, rows reach float
precision for less counted work than a fresh Jacobian every iteration, and rows beyond the
memory budget are polished in waves."""
import numpy as np
import tensorflow as tf

from dcgan_inversion.config import PolishConfig
from dcgan_inversion.inversion.broyden import BroydenLevenbergMarquardt
from dcgan_inversion.inversion.levenberg_marquardt import LayerwiseLevenbergMarquardt


def _latent_error(z, z_true):
    return np.sum((z - z_true) ** 2, axis=1) / z.shape[1]


def test_the_update_satisfies_the_secant_equation_and_keeps_the_normal_matrix(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    polisher = BroydenLevenbergMarquardt(tiny_generator, PolishConfig())
    z, x = tf.constant(z_start[:3]), tf.constant(targets[:3])
    jacobian, normal, residual = polisher._refresh_eager(z, x)
    damping, loss = tf.fill([3], 1e-3), tf.reduce_mean(tf.square(residual), axis=1)
    new_z, new_jacobian, new_normal, _, _, _ = polisher._update_eager(z, x, jacobian, normal, residual, damping, loss)
    # The step was tried whether accepted or not: recompute it from the proposal's residual.
    wide = tf.cast(jacobian, tf.float64)
    gradient = tf.linalg.matvec(wide, tf.cast(residual, tf.float64), transpose_a=True)
    scale = tf.reduce_mean(tf.linalg.diag_part(normal), axis=1)
    step = tf.linalg.solve(normal + (1e-3 * scale)[:, None, None] * tf.eye(100, dtype=tf.float64), gradient[:, :, None])
    proposal = tf.clip_by_value(z - tf.cast(step[:, :, 0], tf.float32), -1.0, 1.0)
    s = (proposal - z).numpy().astype(np.float64)
    y = (polisher.residual(proposal, x) - residual).numpy().astype(np.float64)
    b = new_jacobian.numpy().astype(np.float64)
    np.testing.assert_allclose(np.einsum("rpi,ri->rp", b, s), y, atol=1e-5 * np.abs(y).max())
    np.testing.assert_allclose(new_normal.numpy(), np.einsum("rpi,rpj->rij", b, b), rtol=1e-5,
                               atol=1e-6 * np.abs(new_normal.numpy()).max())
    assert np.all(np.mean(np.square(polisher.residual(new_z, x).numpy()), axis=1) <= loss.numpy())  # never worse


def test_rows_reach_float_precision_for_less_counted_work_than_layerwise_lm(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    z, info = BroydenLevenbergMarquardt(tiny_generator, PolishConfig(iterations=80, chunk_rows=4)).run(z_start, targets)
    _, every_time = LayerwiseLevenbergMarquardt(tiny_generator, PolishConfig(iterations=80, chunk_rows=4)).run(
        z_start, targets)
    assert np.all(_latent_error(z, z_true) < 1e-10)
    assert info["counted"].sum() < 0.8 * every_time["counted"].sum()
    assert info["row_iterations"] > every_time["row_iterations"]  # more, far cheaper, iterations


def test_rows_beyond_the_memory_budget_are_polished_in_waves(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    small = BroydenLevenbergMarquardt(tiny_generator, PolishConfig(iterations=80, chunk_rows=4, jacobian_memory_mb=1))
    assert small.rows_per_wave() == 2  # 16 px: 0.3 MB of Jacobian per row
    seen = []
    waves, wave_info = small.run(z_start, targets, on_iteration=lambda i, z, counted: seen.append((i, z.copy())))
    assert np.all(wave_info["counted"] > 0) and np.all(_latent_error(waves, z_true) < 1e-10)
    numbers = [i for i, _ in seen]
    assert numbers == list(range(1, len(numbers) + 1)) and wave_info["iterations"] == len(numbers)
    assert np.all(seen[0][1][2:] == np.clip(z_start[2:], -1, 1))  # wave 1 leaves the other rows alone
