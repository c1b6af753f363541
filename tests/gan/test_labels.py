"""A conditional generator as one unconditional generator per class: the experiments draw a class per
row, and the engine inverts each class's rows with the generator set to that class."""
import json

import numpy as np
import pytest

from conftest import tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.gan.labels import FIRST_LAYER, ClassRows, class_runs
from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert
from dcgan_inversion.paper import experiments

CONFIG = config_lib.replace(tiny_config(), invert={"steps": 30, "steps_per_call": 10, "learning_rate": 0.05},
                            polish={"method": "levenberg_marquardt", "iterations": 12},
                            search={"restarts": 0, "screen_starts": 1},
                            experiments={"table1_latents": 6, "modes": ("none", "stochastic")})


@pytest.fixture
def generator():
    """A tiny generator of this module's own: the tests set its class (first-layer bias), so the session's
    shared one is left alone."""
    import keras

    from dcgan_inversion.gan.model import make_generator

    keras.utils.set_random_seed(0)
    return make_generator(tiny_config().model)


@pytest.fixture
def class_rows(generator):
    units = generator.get_layer(FIRST_LAYER).get_weights()[1].shape[0]
    rng = np.random.default_rng(3)
    return ClassRows(rng.normal(0, 1.0, (3, units)).astype(np.float32), np.zeros(units, np.float32))


def test_class_runs_cut_at_each_change_of_class_and_at_the_limit():
    assert class_runs(np.array([0, 0, 0, 2, 2, 1])) == [slice(0, 3), slice(3, 5), slice(5, 6)]
    assert class_runs(np.array([1, 1, 1, 1, 1]), limit=2) == [slice(0, 2), slice(2, 4), slice(4, 5)]


def _bias(generator):
    return generator.get_layer(FIRST_LAYER).get_weights()[1].copy()


def test_each_row_is_inverted_given_its_own_class(generator, class_rows, tiny_problem):
    z_true, _, starts = tiny_problem
    classes = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    targets = class_rows.generate(generator, z_true, classes)
    class_rows.select(generator, 1)
    np.testing.assert_allclose(targets[3:5], generator(z_true[3:5], training=False).numpy(), atol=1e-6)
    before = _bias(generator)
    settings = InversionSettings.from_config(CONFIG, class_rows=class_rows)

    def pixel_error(row_classes):
        problem = InversionProblem(targets, starts, ["none"] * 8, z_true, classes=row_classes)
        return invert(generator, problem, settings).pixel_error

    assert np.all(pixel_error(classes) < 1e-8)
    assert np.all(pixel_error(np.array([1, 1, 1, 2, 2, 0, 0, 0])) > 1e-6)  # another class: G cannot draw the target
    np.testing.assert_array_equal(_bias(generator), before)  # set back after every batch


def test_table1_on_a_conditional_generator_draws_a_class_per_latent_and_keeps_them(generator, class_rows, tmp_path):
    run = experiments.Experiment(generator, CONFIG, tmp_path, progress=False, class_rows=class_rows)
    record = experiments.table1(run)
    with np.load(tmp_path / "table1.npz") as saved:
        classes, z_error = saved["classes"], saved["z_error"]
    per_mode = classes.reshape(2, 6)  # a class per row, the same latents' in each clip mode
    np.testing.assert_array_equal(per_mode[0], per_mode[1])
    assert len(set(classes.tolist())) > 1 and np.all(np.diff(per_mode[0]) >= 0)
    assert np.all(z_error < 1e-6)  # every row recovered given its class
    assert record["modes"]["none"]["final"]["0.0001"] == 1.0
    assert json.loads((tmp_path / "table1.json").read_text())["config"]["experiments"]["label"] is None
