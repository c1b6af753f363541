"""Restarts of stuck rows: generated rows left above the floor start again, every attempt paid."""
from dataclasses import replace

import numpy as np
import pytest

from dcgan_inversion.config import InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.gan.latents import UNIFORM
from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert
from dcgan_inversion.inversion.restarts import stuck_rows

# Too short to recover anything: every row ends far above the floor, so every generated row is stuck.
SHORT = InvertConfig(learning_rate=0.05, steps=20, steps_per_call=10, early_stop=False)
ONE_ITERATION = PolishConfig(method="levenberg_marquardt", iterations=1)


@pytest.fixture(scope="module")
def far_rows(tiny_generator):
    rng = np.random.default_rng(3)
    z_true = rng.uniform(-0.9, 0.9, (6, 100)).astype(np.float32)
    starts = UNIFORM.sample(rng, z_true.shape)
    return tiny_generator(z_true, training=False).numpy(), starts, ["none", "standard", "stochastic"] * 2, z_true


def _invert(generator, rows, generated, restarts, checkpoint_dir=None, restart_above=1e-6):
    targets, starts, modes, z_true = rows
    problem = InversionProblem(targets, starts, modes, z_true, seed=5, generated=generated)
    search = SearchConfig(restarts=restarts, restart_above=restart_above)
    return invert(generator, problem, InversionSettings(invert=SHORT, polish=ONE_ITERATION, search=search,
                                                        checkpoint_dir=checkpoint_dir))


def test_stuck_generated_rows_start_again_and_keep_their_better_fit(tiny_generator, far_rows):
    once = _invert(tiny_generator, far_rows, generated=True, restarts=0)
    assert stuck_rows(InversionProblem(*far_rows[:3], generated=True), once, 1e-6).all()
    restarted = _invert(tiny_generator, far_rows, generated=True, restarts=2)
    np.testing.assert_array_equal(restarted.restarts, 2)  # still stuck after the first restart: a second one
    assert np.all(restarted.pixel_error <= once.pixel_error)
    assert np.any(restarted.pixel_error < once.pixel_error)
    changed = restarted.pixel_error < once.pixel_error
    np.testing.assert_array_equal(restarted.z[~changed], once.z[~changed])
    # Every attempt is paid: two more rounds of both phases on all six rows.
    assert restarted.restart_row_steps > 0
    assert restarted.counted_step_equivalents == pytest.approx(
        once.counted_step_equivalents + restarted.restart_row_steps / 6)
    assert restarted.counted_step_equivalents > 2.5 * once.counted_step_equivalents


def test_rows_not_drawn_by_g_and_fitted_rows_never_restart(tiny_generator, far_rows):
    once = _invert(tiny_generator, far_rows, generated=False, restarts=0)
    half = np.array([True, False] * 3)
    restarted = _invert(tiny_generator, far_rows, generated=half, restarts=1)
    np.testing.assert_array_equal(restarted.restarts, half.astype(int))
    np.testing.assert_array_equal(restarted.z[~half], once.z[~half])
    # A floor above every row's error: nothing is stuck, the result is the single attempt's.
    lenient = _invert(tiny_generator, far_rows, generated=True, restarts=3, restart_above=1e9)
    np.testing.assert_array_equal(lenient.restarts, 0)
    np.testing.assert_array_equal(lenient.z, once.z)
    assert lenient.counted_step_equivalents == once.counted_step_equivalents


def test_restarts_resume_from_their_checkpoints_to_the_same_result(tiny_generator, far_rows, tmp_path):
    straight = _invert(tiny_generator, far_rows, generated=True, restarts=1)
    first = _invert(tiny_generator, far_rows, generated=True, restarts=1, checkpoint_dir=tmp_path)
    assert (tmp_path / "batch0" / "restart1").is_dir()
    (tmp_path / "batch0" / "finished.npz").unlink()  # resume from the phases' checkpoints, not the kept result
    again = _invert(tiny_generator, far_rows, generated=True, restarts=1, checkpoint_dir=tmp_path)
    for result in (first, again):
        np.testing.assert_allclose(result.z, straight.z, atol=1e-6)
        np.testing.assert_array_equal(result.restarts, straight.restarts)
