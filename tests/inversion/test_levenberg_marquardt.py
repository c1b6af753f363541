import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.config import PolishConfig
from dcgan_inversion.inversion.broyden import BroydenLevenbergMarquardt
from dcgan_inversion.inversion.levenberg_marquardt import LayerwiseLevenbergMarquardt, LevenbergMarquardt

EVERY_METHOD = pytest.mark.parametrize("method", [LevenbergMarquardt, LayerwiseLevenbergMarquardt,
                                                  BroydenLevenbergMarquardt])


def test_forward_mode_jacobian_matches_reverse_mode(tiny_generator, tiny_problem):
    z = tf.constant(tiny_problem[0][:2])
    jacobian = LevenbergMarquardt(tiny_generator, PolishConfig()).jacobian(z).numpy()
    with tf.GradientTape() as tape:
        tape.watch(z)
        images = tf.reshape(tiny_generator(z, training=False), [2, -1])
    reverse = tape.jacobian(images, z).numpy()  # (2, P, 2, z_dim): rows are independent
    np.testing.assert_allclose(jacobian[0], reverse[0, :, 0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(jacobian[1], reverse[1, :, 1], rtol=1e-4, atol=1e-6)
    assert np.abs(reverse[0, :, 1]).max() == 0.0


@EVERY_METHOD
def test_polish_reaches_float_precision_and_never_increases_loss(tiny_generator, tiny_problem, method):
    z_true, targets, z_start = tiny_problem
    polisher = method(tiny_generator, PolishConfig(iterations=80, chunk_rows=3))
    losses = []
    z, info = polisher.run(z_start, targets, on_iteration=lambda i, z, counted: losses.append(
        np.mean(np.square(tiny_generator(z, training=False).numpy() - targets), axis=(1, 2, 3))))
    assert np.all(np.diff(np.stack(losses), axis=0) <= 0)
    assert np.all(np.sum((z - z_true) ** 2, axis=1) / 100 < 1e-10)
    assert np.all(np.abs(z) <= 1.0)


@EVERY_METHOD
def test_polish_respects_the_bounds(method):
    """A target outside the generator's range pulls z' against the box; it must stay inside."""
    import keras

    from dcgan_inversion.config import ModelConfig
    from dcgan_inversion.gan.model import make_generator

    keras.utils.set_random_seed(1)
    generator = make_generator(ModelConfig(image_size=16, gf_dim=4, df_dim=4))
    targets = np.ones((2, 16, 16, 3), np.float32)
    z, _ = method(generator, PolishConfig(iterations=5), low=-1.0, high=1.0).run(
        np.zeros((2, 100), np.float32), targets)
    assert np.all(np.abs(z) <= 1.0)


@EVERY_METHOD
def test_converged_rows_are_left_alone(tiny_generator, tiny_problem, method):
    z_true, targets, z_start = tiny_problem
    start = np.concatenate([z_true[:4], z_start[4:]])  # four rows start exactly at the solution
    z, info = method(tiny_generator, PolishConfig(iterations=4)).run(start, targets)
    np.testing.assert_array_equal(z[:4], z_true[:4])
    assert info["row_iterations"] <= 4 * info["iterations"]


@EVERY_METHOD
def test_rows_outside_the_box_start_from_their_projection(tiny_generator, tiny_problem, method):
    """An unclipped warm-up can leave z' outside [-1, 1], even at an exact pre-image out there
    (where no clipped step could be accepted); the polish returns z' inside the box."""
    z_true, _, _ = tiny_problem
    outside = (z_true[:3] * 1.5).astype(np.float32)
    targets = tiny_generator(outside, training=False).numpy()
    z, info = method(tiny_generator, PolishConfig(iterations=3)).run(outside, targets)
    assert np.all(np.abs(z) <= 1.0) and info["iterations"] == 3


@EVERY_METHOD
def test_rows_that_stop_improving_leave_the_polish(tiny_generator, tiny_problem, method):
    """Targets G cannot draw stall far above the floor: with row_patience they stop paying; rows
    of generated targets still reach float precision."""
    z_true, targets, z_start = tiny_problem
    unreachable = np.random.default_rng(1).uniform(-1, 1, targets[:4].shape).astype(np.float32)
    mixed = np.concatenate([targets[:4], unreachable])
    starts = np.concatenate([z_start[:4], z_start[4:]])
    config = PolishConfig(iterations=80, chunk_rows=4, row_patience=2)
    z, info = method(tiny_generator, config).run(starts, mixed)
    assert info["row_iterations"] < 8 * info["iterations"]  # the unreachable rows left early
    assert np.all(np.sum((z[:4] - z_true[:4]) ** 2, axis=1) / 100 < 1e-10)
    _, always = method(tiny_generator, PolishConfig(iterations=80, chunk_rows=4)).run(starts, mixed)
    assert info["row_iterations"] < always["row_iterations"]
    assert np.all(info["pixel_error"][4:] <= 1.05 * always["pixel_error"][4:])  # stopping early cost little


@EVERY_METHOD
def test_rows_that_spent_their_budget_leave_the_polish(tiny_generator, tiny_problem, method):
    """With row_budget a row stops once its counted cost reaches it: rows that cannot reach the floor stop
    paying, and no row goes on past the iteration that crossed the budget."""
    z_true, targets, z_start = tiny_problem
    unreachable = np.random.default_rng(1).uniform(-1, 1, targets[:4].shape).astype(np.float32)
    mixed = np.concatenate([targets[:4], unreachable])
    polisher = method(tiny_generator, PolishConfig(iterations=60, chunk_rows=4))
    _, unlimited = polisher.run(z_start, mixed)
    budget = float(np.max(unlimited["counted"][:4])) + 1.0  # enough for every reachable row
    assert np.all(unlimited["counted"][4:] > budget)  # the unreachable rows pay more than that without a budget
    z, info = method(tiny_generator, PolishConfig(iterations=60, chunk_rows=4, row_budget=budget)).run(z_start, mixed)
    from dcgan_inversion.inversion.cost import InversionCost

    cost = InversionCost.of(tiny_generator)  # no method's iteration costs more than autodiff LM's
    most_per_iteration = cost.polish_iteration_steps("levenberg_marquardt") + cost.broyden_update_flops / cost.step_flops
    assert np.all(info["counted"][4:] < budget + most_per_iteration)
    assert np.all(np.sum((z[:4] - z_true[:4]) ** 2, axis=1) / 100 < 1e-10)
    # A budget far too small stops no row that is already below the restart floor: those finish.
    near = method(tiny_generator, PolishConfig(iterations=60, chunk_rows=4)).run(z_start[:4], targets[:4], 3)[0]
    floor = np.mean(np.square(targets[:4]).reshape(4, -1), axis=1)  # restart_above 1: every row is below it
    z, info = method(tiny_generator, PolishConfig(iterations=60, chunk_rows=4, row_budget=1e-3)).run(
        near, targets[:4], floor=floor)
    assert np.all(np.sum((z - z_true[:4]) ** 2, axis=1) / 100 < 1e-10)
    _, cut = method(tiny_generator, PolishConfig(iterations=60, chunk_rows=4, row_budget=1e-3)).run(
        near, targets[:4], floor=1e-30 * floor)
    assert cut["row_iterations"] == 4 < info["row_iterations"]  # above that floor: one iteration, then out


def test_layerwise_polish_agrees_with_autodiff_polish(tiny_generator, tiny_problem):
    """Same steps, same solution: the two Jacobians differ only by float32 rounding."""
    z_true, targets, z_start = tiny_problem
    config = PolishConfig(iterations=8, chunk_rows=3)
    z_autodiff, _ = LevenbergMarquardt(tiny_generator, config).run(z_start, targets)
    z_layerwise, info = LayerwiseLevenbergMarquardt(tiny_generator, config).run(z_start, targets)
    # 1e-5: oneDNN (on by default on AVX-512 VNNI/BF16 CPUs) reorders sums; seen 1.2e-6 after 8 iterations
    np.testing.assert_allclose(z_layerwise, z_autodiff, rtol=0, atol=1e-5)
    assert info["iterations"] >= 2


def test_layerwise_polish_falls_back_to_autodiff_for_other_generators(tiny_problem, capsys):
    import keras

    z_true, _, _ = tiny_problem
    inputs = keras.Input((100,))
    outputs = keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(48, activation="sigmoid")(inputs))
    generator = keras.Model(inputs, outputs)
    targets = generator(z_true[:2], training=False).numpy()
    z, _ = LayerwiseLevenbergMarquardt(generator, PolishConfig(iterations=3)).run(np.zeros((2, 100), np.float32),
                                                                                   targets)
    assert "forward-mode autodiff" in capsys.readouterr().out
    assert np.all(np.abs(z) <= 1.0)
