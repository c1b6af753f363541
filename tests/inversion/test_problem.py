"""inversion/problem.py: the rows travel together; settings know their steps and phases."""
import numpy as np
import pytest

from dcgan_inversion.config import InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.inversion import InversionProblem, InversionSettings

from conftest import tiny_config


def _problem(rows=6, **extra):
    rng = np.random.default_rng(0)
    return InversionProblem(rng.uniform(-1, 1, (rows, 4, 4, 3)), rng.uniform(-1, 1, (rows, 5)),
                            ["none", "standard", "stochastic"] * (rows // 3), rng.uniform(-1, 1, (rows, 5)), **extra)


def test_a_part_is_a_problem_of_its_own():
    problem = _problem(seed=7, group_rows=3)
    part = problem.part(slice(3, 6), seed=8)
    assert part.rows == 3 and part.seed == 8 and part.group_rows == 3
    np.testing.assert_array_equal(part.starts, problem.starts[3:])
    np.testing.assert_array_equal(part.z_true, problem.z_true[3:])
    assert part.modes == ("none", "standard", "stochastic")


def test_rows_must_agree():
    with pytest.raises(ValueError, match="one entry per row"):
        InversionProblem(np.zeros((2, 4, 4, 3)), np.zeros((3, 5)), ["none"] * 3)
    with pytest.raises(ValueError, match="one entry per row"):
        InversionProblem(np.zeros((3, 4, 4, 3)), np.zeros((3, 5)), ["none"] * 3, z_true=np.zeros((2, 5)))


def test_settings_from_config_and_phases():
    config = tiny_config()
    settings = InversionSettings.from_config(config, steps=12)
    assert settings.invert is config.invert and settings.polish is config.polish and settings.search is config.search and settings.total_steps == 12
    assert InversionSettings(invert=InvertConfig(steps=30)).total_steps == 30
    assert not InversionSettings().polishing
    lm = PolishConfig(method="levenberg_marquardt", iterations=3)
    assert InversionSettings(polish=lm).polishing and not InversionSettings(polish=lm).switching
    stalled = SearchConfig(switch="stalled")
    assert InversionSettings(polish=lm, search=stalled).switching and not InversionSettings(search=stalled).switching
    assert not InversionSettings(polish=PolishConfig(method="levenberg_marquardt", iterations=0)).polishing
