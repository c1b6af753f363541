"""Every experiment end to end at tiny scale, through the real command line where it matters."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcgan_inversion import config as config_lib
from dcgan_inversion.data.unseen import unseen_images
from dcgan_inversion.paper import experiments
from dcgan_inversion import run as rundir
from dcgan_inversion.training.trainer import train

from conftest import one_error_line, tiny_config

ROOT = Path(__file__).resolve().parents[2]
TINY_EXPERIMENTS = {
    "table1_latents": 4, "noise_latents": 2, "noise_variances": [0.0, 0.1], "uniqueness_images": 2,
    "uniqueness_restarts": 3, "trajectory_targets": 2, "trajectory_snapshots": [0, 5], "trajectory_steps": 12,
}


def _config(**polish):
    return config_lib.replace(
        tiny_config(), invert={"steps": 10, "steps_per_call": 5, "learning_rate": 0.03},
        experiments=TINY_EXPERIMENTS, polish=polish or {"method": "none"})


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    train(tiny_config(), run, verbose=False)
    return run


def test_all_experiments_write_valid_results(trained_run, tmp_path):
    config = _config(method="levenberg_marquardt", iterations=2, chunk_rows=4)
    generator = rundir.load_generator(trained_run, config.model)
    records = experiments.run_experiments(generator, config, tmp_path, progress=False)
    assert sorted(records) == ["noise", "table1", "trajectory", "uniqueness"]
    for name in records:
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        assert saved["seed"] == 0 and saved["config"]["model"]["image_size"] == 16
        assert saved["environment"]["tensorflow"] and saved["wall_seconds"] >= 0
        assert saved["polish_iterations"] <= 2 and saved["step_equivalents"] >= saved["steps"]
        assert (tmp_path / f"{name}.npz").exists()

    table1 = json.loads((tmp_path / "table1.json").read_text())
    for mode in ("none", "standard", "stochastic"):
        rates = table1["modes"][mode]["final"]
        assert all(0.0 <= rate <= 1.0 for rate in rates.values())
        assert rates["0.1"] >= rates["0.0001"]  # looser thresholds never recover fewer rows
    assert "before_polish" in table1["modes"]["stochastic"]

    noise = json.loads((tmp_path / "noise.json").read_text())
    assert len(noise["modes"]["stochastic"]["mean_z_error"]) == 2

    uniqueness = json.loads((tmp_path / "uniqueness.json").read_text())
    assert uniqueness["images"][0] == "held-out image 0"
    assert uniqueness["modes"]["none"]["mean_pairwise_distance"] > 0

    arrays = np.load(tmp_path / "trajectory.npz")
    assert arrays["snapshot_steps"].tolist() == [0, 5, 12, 14]  # init, 5, end of first order, after polish
    assert arrays["snapshots"].shape == (4, 3 * 2, 16, 16, 3)


def test_unseen_images_include_real_portraits():
    images, names = unseen_images(tiny_config())
    assert images.shape == (6, 16, 16, 3) and "astronaut (scikit-image)" in names
    assert -1.0 <= images.min() and images.max() <= 1.0


def _invert(*args):
    return subprocess.run([sys.executable, "invert/invert.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _write_config(tmp_path):
    path = tmp_path / "tiny.yaml"
    config_lib.save_config(_config(), path)
    return str(path)


def test_invert_without_generator_or_with_wrong_model(trained_run, tmp_path):
    assert "no trained generator" in one_error_line(_invert("--run", str(tmp_path / "empty")))
    result = _invert("--config", _write_config(tmp_path), "--run", str(trained_run), "--set", "model.gf_dim=16")
    assert "model config does not match" in one_error_line(result)
