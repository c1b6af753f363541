"""step.py: the paper's step (a gradient step on the summed pixel loss, then each row's clip op),
its optimizers and schedules, and the per-row tracking it keeps."""
import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.config import InvertConfig
from dcgan_inversion.gan.latents import LatentPrior
from dcgan_inversion.inversion import LatentInversion, learning_rate

from conftest import run_invert

MODES = ["none", "standard", "stochastic"]


def _gradient(generator, z, targets) -> np.ndarray:
    """d/dz of sum over rows of mean((G(z) - x)^2): each row's own gradient (rows are independent)."""
    z = tf.Variable(z)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.reduce_mean(tf.square(generator(z, training=False) - targets), axis=[1, 2, 3]))
    return tape.gradient(loss, z).numpy()


def test_one_step_is_plain_gradient_descent_then_each_rows_clip(tiny_generator, tiny_problem):
    z_true, targets, _ = tiny_problem
    z_start = np.tile(np.linspace(-0.99, 0.99, 100, dtype=np.float32), (3, 1))  # components next to the bounds
    gradient = _gradient(tiny_generator, z_start, np.repeat(targets[:1], 3, axis=0))
    rate = float(0.05 / np.median(np.abs(gradient)))  # a typical component moves 0.05: some leave [-1, 1]
    inversion = LatentInversion(tiny_generator, InvertConfig(optimizer="sgd", learning_rate=rate, steps=1),
                                np.repeat(targets[:1], 3, axis=0), z_start, MODES, np.repeat(z_true[:1], 3, axis=0))
    expected = z_start - rate * gradient
    inversion.run_steps(1)
    z = inversion.z.numpy()
    outside = np.abs(expected) >= 1.0
    assert outside[0].any() and (~outside[0]).any()
    np.testing.assert_allclose(z[0], expected[0], rtol=1e-5, atol=1e-6)  # none: the step as it is
    np.testing.assert_allclose(z[1], np.clip(expected[1], -1, 1), rtol=1e-5, atol=1e-6)  # standard: clamped
    inside = ~outside[2]
    np.testing.assert_allclose(z[2][inside], expected[2][inside], rtol=1e-5, atol=1e-6)
    redrawn = z[2][outside[2]]  # stochastic: re-drawn inside the box, not clamped to its edge
    assert np.all(np.abs(redrawn) < 1.0) and not np.allclose(np.abs(redrawn), 1.0)


def test_a_normal_priors_box_is_the_clip_box(tiny_generator, tiny_problem):
    z_true, targets, _ = tiny_problem
    prior = LatentPrior.normal(1.5)
    z_start = np.full((2, 100), 1.45, np.float32)
    rate = float(0.2 / np.median(np.abs(_gradient(tiny_generator, z_start, targets[:2]))))
    inversion = LatentInversion(tiny_generator, InvertConfig(optimizer="sgd", learning_rate=rate, steps=1),
                                targets[:2], z_start, ["standard", "stochastic"], z_true[:2], prior=prior)
    inversion.run_steps(1)
    z = inversion.z.numpy()
    assert np.abs(z).max() <= 1.5 and np.isclose(np.abs(z[0]), 1.5).any()  # standard: clamped to [-1.5, 1.5]
    assert np.all(np.abs(z[1]) < 1.5)


def test_the_first_step_below_a_threshold_is_recorded_once(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    config = InvertConfig(steps=100, steps_per_call=25, thresholds=(1.0, 1e-12))
    result = run_invert(tiny_generator, config, targets, z_start, ["standard"] * len(z_true), z_true)
    assert np.all(result.first_step[:, 0] == 1)  # start is already within 1.0: crossed at the first step
    assert np.all(result.first_step[:, 1] == -1)


@pytest.mark.parametrize("schedule, rates", [("constant", (0.5, 0.5, 0.5)), ("step", (0.5, 0.25, 0.125)),
                                             ("exponential", (0.5, 0.25, 0.125)), ("cosine", (0.5, 0.25, 0.0))])
def test_schedules_give_the_rate_they_name(schedule, rates):
    """At steps 0, 10 and 20 (decay_steps 10, rate 0.5, cosine over 20 steps)."""
    config = InvertConfig(schedule=schedule, learning_rate=0.5, decay_steps=10, decay_rate=0.5, steps=20)
    rate = learning_rate(config)
    at = [float(rate(step)) if callable(rate) else rate for step in (0, 10, 20)]
    np.testing.assert_allclose(at, rates, atol=1e-7)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_both_optimizers_lower_every_rows_loss(tiny_generator, tiny_problem, optimizer):
    z_true, targets, z_start = tiny_problem
    config = InvertConfig(optimizer=optimizer, learning_rate=0.5 if optimizer == "sgd" else 0.01, steps=30,
                          steps_per_call=10)
    inversion = LatentInversion(tiny_generator, config, targets, z_start, ["standard"] * 8, z_true)
    before = inversion.pixel_error().numpy()
    inversion.run_steps(30)
    assert int(inversion.step.numpy()) == 30 and np.all(inversion.pixel_error().numpy() < before)


def test_reset_moments_zeroes_adam_state_of_redrawn_components(tiny_generator, tiny_problem):
    z_true, targets, _ = (np.tile(array[:4], (2,) + (1,) * (array.ndim - 1)) for array in tiny_problem)
    z_start = np.full_like(z_true, 0.95)
    # Adam's first step is ~lr * sign(gradient) once epsilon is below the tiny gradients: half go out.
    config = InvertConfig(learning_rate=0.5, epsilon=1e-14, reset_moments=True, steps=1)
    modes = ["standard"] * 4 + ["stochastic"] * 4  # the same four problems under both modes
    inversion = LatentInversion(tiny_generator, config, targets, z_start, modes, z_true)
    inversion.run_steps(1)
    momentum, velocity = (moment.numpy() for moment in inversion._moments)
    left_the_box = np.abs(inversion.z.numpy()[:4]) >= 1.0  # standard rows show where the step went out
    assert left_the_box.any() and (~left_the_box).any()
    assert np.all(momentum[4:][left_the_box] == 0.0) and np.all(velocity[4:][left_the_box] == 0.0)
    # Same problems, other rows: oneDNN's convolutions differ in the last bits by row position (~1e-9 here).
    np.testing.assert_allclose(momentum[4:][~left_the_box], momentum[:4][~left_the_box], rtol=1e-4)
    assert np.count_nonzero(momentum[:4][left_the_box]) > 0  # standard rows keep their state


def test_a_rows_state_moves_to_another_shard_and_steps_on_the_same(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    config = InvertConfig(learning_rate=0.05, steps=20)
    straight = LatentInversion(tiny_generator, config, targets, z_start, ["standard"] * 8, z_true)
    straight.run_steps(20)
    first = LatentInversion(tiny_generator, config, targets, z_start, ["standard"] * 8, z_true)
    first.run_steps(10)
    moved = LatentInversion(tiny_generator, config, targets[2:5], z_start[2:5], ["standard"] * 3, z_true[2:5])
    moved.load({name: value[2:5] for name, value in first.row_state().items()}, 10,
               int(first.optimizer.iterations.numpy()))
    moved.run_steps(10)
    np.testing.assert_allclose(moved.z.numpy(), straight.z.numpy()[2:5], atol=1e-6)
