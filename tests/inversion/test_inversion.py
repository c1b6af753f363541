"""The driver end to end: rows in, an InversionResult out (batches, snapshots, early stop, polish)."""
import numpy as np
import pytest

from dcgan_inversion.config import InvertConfig, PolishConfig
from dcgan_inversion.inversion import latent_error

from conftest import run_invert

MODES = ["none", "standard", "stochastic"]


def _three_modes(z_true, targets, z_start):
    rows = len(z_true)
    return (np.tile(targets, (3, 1, 1, 1)), np.tile(z_start, (3, 1)), [m for m in MODES for _ in range(rows)],
            np.tile(z_true, (3, 1)))


def test_adam_closes_in_on_the_true_latents(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    result = run_invert(tiny_generator, InvertConfig(steps=300, steps_per_call=50, learning_rate=0.01, schedule="cosine"),
                    *_three_modes(*tiny_problem))
    start_error = latent_error(z_start, z_true)
    assert np.all(result.z_error < np.tile(start_error, 3) / 3)
    assert result.history_steps.tolist() == [50, 100, 150, 200, 250, 300]
    assert np.all(np.abs(result.z[len(z_true):]) <= 1.0)  # standard and stochastic rows stay in the box


def test_engine_plus_polish_recovers_to_1e_4_in_a_few_hundred_steps(tiny_generator, tiny_problem):
    result = run_invert(tiny_generator, InvertConfig(steps=200, learning_rate=0.01, schedule="cosine"),
                    *_three_modes(*tiny_problem), polish=PolishConfig(method="levenberg_marquardt", iterations=10))
    assert np.all(result.z_error < 1e-4)
    assert np.all(result.ever_below(1e-4)) and np.all(result.below(1e-4))
    assert result.polish_iterations <= 10 and result.step_equivalents > result.steps


def test_same_seed_same_numbers(tiny_generator, tiny_problem):
    config = InvertConfig(steps=60, steps_per_call=20, learning_rate=0.05)
    first = run_invert(tiny_generator, config, *_three_modes(*tiny_problem), seed=4)
    second = run_invert(tiny_generator, config, *_three_modes(*tiny_problem), seed=4)
    np.testing.assert_array_equal(first.z, second.z)


def test_snapshots_and_early_stop(tiny_generator, tiny_problem):
    z_true, targets, z_start = tiny_problem
    config = InvertConfig(steps=1000, steps_per_call=10, thresholds=(1.0,), early_stop=True)
    result = run_invert(tiny_generator, config, targets, z_start, ["stochastic"] * 8, z_true,
                    snapshot_steps=(0, 5), snapshot_rows=[0, 1])
    assert result.steps == 5  # every row is below 1.0 from the start: stops at the first check
    assert sorted(result.snapshots) == [0, 5] and result.snapshots[5].shape == (2, 16, 16, 3)


def test_rows_without_true_latents_still_invert(tiny_generator, tiny_problem):
    _, targets, z_start = tiny_problem
    result = run_invert(tiny_generator, InvertConfig(steps=20), targets, z_start, ["standard"] * 8)
    assert result.z_error is None and result.pixel_error.shape == (8,)


def test_rows_beyond_max_rows_run_in_batches_with_the_same_answer(tiny_generator, tiny_problem):
    config = InvertConfig(steps=20, steps_per_call=10, learning_rate=0.01)
    whole = run_invert(tiny_generator, config, *_three_modes(*tiny_problem))
    split = run_invert(tiny_generator, InvertConfig(steps=20, steps_per_call=10, learning_rate=0.01, max_rows=10),
                   *_three_modes(*tiny_problem))
    assert split.z.shape == whole.z.shape and split.history_z_error.shape == whole.history_z_error.shape
    standard = slice(8, 16)  # no random re-draws: rows are independent, so batching changes nothing
    np.testing.assert_allclose(split.z[standard], whole.z[standard], atol=1e-6)
    with pytest.raises(ValueError, match="snapshots of chosen rows need all rows in one batch"):
        run_invert(tiny_generator, InvertConfig(steps=5, max_rows=4), *_three_modes(*tiny_problem), snapshot_steps=(0,),
                   snapshot_rows=[0, 1])
    batched = run_invert(tiny_generator, InvertConfig(steps=5, max_rows=10), *_three_modes(*tiny_problem),
                         snapshot_steps=(0, 5))  # snapshots of every row are joined over the batches
    assert sorted(batched.snapshots) == [0, 5] and len(batched.snapshots[5]) == 24


def test_mixed_bfloat16_first_order_phase_then_float32_polish(tiny_generator, tiny_problem):
    from dcgan_inversion.gan.model import mixed_precision_copy

    z_true, targets, z_start = tiny_problem
    low = mixed_precision_copy(tiny_generator)
    assert low.get_layer("deconv1").compute_dtype == "bfloat16" and low(z_true).dtype == "float32"
    np.testing.assert_allclose(low(z_true).numpy(), targets, atol=2e-2 * np.abs(targets).max())
    result = run_invert(tiny_generator, InvertConfig(steps=50, precision="mixed_bfloat16"), targets, z_start,
                    ["stochastic"] * 8, z_true, polish=PolishConfig(method="levenberg_marquardt", iterations=10))
    assert np.all(result.z_error < 1e-8)  # the float32 polish removes what bfloat16 could not resolve
