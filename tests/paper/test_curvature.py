"""The curvature analysis: per-row Jacobian blocks, the Hessian spectrum, and the claim it rests on,
that gradient descent's z error decays at 2 eta lambda_min once the fast directions are gone."""
import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion import config as config_lib
from dcgan_inversion.paper.curvature import (decay_rates, extra_steps, hessian_spectra, rank_correlation, rate_at,
                                       row_jacobians)
from dcgan_inversion.gan.model import BatchStatisticsGenerator

from conftest import run_invert, tiny_config


def test_row_jacobians_are_each_rows_own_block(tiny_generator, tiny_problem):
    z_true = tiny_problem[0][:3]
    for generator in (tiny_generator, BatchStatisticsGenerator(tiny_generator)):
        z = tf.constant(z_true)
        with tf.GradientTape() as tape:
            tape.watch(z)
            images = generator(z, training=False)
        full = tape.jacobian(images, z).numpy().reshape(3, -1, 3, z.shape[1])  # (row, P, row', z_dim)
        blocks = row_jacobians(generator, z_true, group_rows=3)
        for row in range(3):
            np.testing.assert_allclose(blocks[row], full[row, :, row], rtol=1e-4, atol=1e-6)
        if generator is not tiny_generator:  # batch statistics couple the rows: the blocks are not the whole story
            assert np.abs(full[0, :, 1]).max() > 1e-3 * np.abs(full[0, :, 0]).max()


def test_spectrum_is_the_gauss_newton_hessian_of_the_per_image_loss(tiny_generator, tiny_problem):
    z_true, targets, _ = tiny_problem
    z = tf.Variable(z_true[:1])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_mean(tf.square(tiny_generator(z, training=False) - targets[:1]))
        gradient = inner.gradient(loss, z)
    hessian = outer.jacobian(gradient, z).numpy().reshape(100, 100)  # at the solution: residual 0, so GN = exact
    expected = np.linalg.eigvalsh(hessian.astype(np.float64))
    spectrum = hessian_spectra(row_jacobians(tiny_generator, z_true[:1], None))[0]
    np.testing.assert_allclose(spectrum[-10:], expected[-10:], rtol=1e-3)
    assert spectrum[0] > 0 and np.all(np.diff(spectrum) >= 0)


def test_gradient_descent_decays_at_two_eta_lambda_min(tiny_generator):
    """The engine's own GD, started near the truth: the measured decay matches the prediction."""
    rng = np.random.default_rng(0)
    z_true = rng.uniform(-0.5, 0.5, (4, 100)).astype("float32")
    spectra = hessian_spectra(row_jacobians(tiny_generator, z_true, None))
    rate = 1.0 / spectra[:, -1].max()
    config = config_lib.InvertConfig(optimizer="sgd", learning_rate=float(rate), schedule="constant", steps=4000,
                                     steps_per_call=100, early_stop=False)
    starts = np.clip(z_true + rng.uniform(-0.05, 0.05, z_true.shape), -1, 1).astype("float32")
    result = run_invert(tiny_generator, config, tiny_generator(z_true).numpy(), starts, ["none"] * 4, z_true)
    ratio = decay_rates(result.history_steps, result.history_z_error) / (2 * rate * spectra[:, 0])
    assert np.all((ratio > 0.8) & (ratio < 1.1)), ratio


def test_decay_rate_of_an_exponential_history():
    steps = np.arange(100, 10_001, 100)
    history = np.stack([np.exp(-1e-3 * steps), 0.5 * np.exp(-2e-4 * steps)], axis=1)
    np.testing.assert_allclose(decay_rates(steps, history), [1e-3, 2e-4], rtol=1e-9)


def test_extra_steps_extrapolate_each_row_at_its_own_rate():
    final = np.array([5e-5, 1e-3, 1e-2, 1e-2])
    rates = np.array([1e-4, np.log(10) / 1000, 0.0, -1e-5])
    needed = extra_steps(final, rates, 1e-4)
    np.testing.assert_allclose(needed[:2], [0.0, 1000.0])
    assert np.all(np.isinf(needed[2:]))  # not decaying: never, at this rate


def test_rank_correlation():
    values = np.array([3.0, 1.0, 2.0, 5.0])
    assert rank_correlation(values, values ** 3) == pytest.approx(1.0)
    assert rank_correlation(values, -values) == pytest.approx(-1.0)


def test_rate_at_follows_the_protocols_schedule():
    from dcgan_inversion.paper.protocols import protocol_config

    authors = protocol_config("authors", tiny_config())
    assert rate_at(authors, 10_000) == pytest.approx(1.0)
    assert rate_at(authors, 80_000) == pytest.approx(0.5)
    assert rate_at(protocol_config("amos", tiny_config()), 80_000) is None  # Adam: no such prediction
