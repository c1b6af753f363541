"""multistart.py: each image from K starts in one problem, the best kept, under the run's own search."""
import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.inversion.multistart import ROW_PATIENCE, best_of_starts, search_settings

from conftest import tiny_config

CONFIG = tiny_config(invert={"steps": 20, "steps_per_call": 10, "learning_rate": 0.05},
                     polish={"method": "levenberg_marquardt", "iterations": 2},
                     search={"screen_starts": 2, "screen_steps": 3, "switch": "stalled", "stall_window": 5})


def test_the_search_is_the_runs_own_with_a_patient_polish():
    settings = search_settings(CONFIG, None, None)
    assert settings.search == CONFIG.search and settings.screening and settings.switching
    assert settings.invert == CONFIG.invert and settings.polish.row_patience == ROW_PATIENCE
    assert settings.polish == config_lib.replace(CONFIG, polish={"row_patience": ROW_PATIENCE}).polish


def test_the_best_start_of_each_image_is_kept(tiny_generator, tiny_problem):
    z_true, targets, _ = tiny_problem
    found = best_of_starts(tiny_generator, CONFIG, targets[:2], 3, seed=4, mode="stochastic")
    assert found["all_errors"].shape == (2, 3) and len(found["spread"]) == 2
    np.testing.assert_array_equal(found["pixel_error"], found["all_errors"].min(axis=1))
    again = np.mean(np.square(tiny_generator(found["z"], training=False).numpy() - targets[:2]), axis=(1, 2, 3))
    np.testing.assert_allclose(again, found["pixel_error"], rtol=1e-3, atol=1e-12)
