"""inversion/polishing.py: every polish method the config offers is registered, and the phase
folds the method's outcome into the result."""
import dataclasses
import typing

import numpy as np

from dcgan_inversion.config import PolishConfig
from dcgan_inversion.inversion.polishing import METHODS, TITLES

from conftest import run_invert


def test_every_configurable_method_is_registered():
    choices = dict((f.name, f) for f in dataclasses.fields(PolishConfig))["method"].metadata["choices"]
    assert set(choices) - {"none"} == set(METHODS) == set(TITLES)
    for method in METHODS.values():
        assert callable(getattr(method, "run", None)) and isinstance(typing.get_type_hints(method.__init__), dict)


def test_the_polish_phase_keeps_the_first_order_state_beside_the_polished_one(tiny_generator, tiny_problem):
    from dcgan_inversion.config import InvertConfig

    z_true, targets, z_start = tiny_problem
    result = run_invert(tiny_generator, InvertConfig(steps=10, steps_per_call=5), targets, z_start,
                        ["stochastic"] * len(z_true), z_true,
                        polish=PolishConfig(method="levenberg_marquardt", iterations=3))
    assert 1 <= result.polish_iterations <= 3 and result.polish_z_error.shape[1] == len(z_true)
    assert np.median(result.z_error) < np.median(result.z_error_before_polish)
    assert np.all(result.first_step[result.z_error < 0.1, 0] >= 0)  # the thresholds' tracking goes on in the polish
