"""A damaged newest checkpoint (short data file, as a full disk leaves it) is moved aside with one
warning and the run resumes from the newest one that reads completely."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import project_lines, tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.training.trainer import DCGANTrainer, train

ROOT = Path(__file__).resolve().parents[2]
CONFIG = config_lib.replace(tiny_config(), train={"steps": 6, "checkpoint_every": 2, "sample_every": 100})


def _truncate(run: Path, step: int) -> None:
    (data,) = (run / "checkpoints").glob(f"ckpt-{step}.data-*")
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])


def test_training_resumes_from_the_newest_intact_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    train(CONFIG, run, verbose=False)
    _truncate(run, 6)
    trainer = DCGANTrainer(CONFIG, run)
    assert trainer.restore() == 4
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "ckpt-6 is damaged (Read less bytes than requested)" in warning[0]
    assert sorted(p.name for p in (run / "checkpoints" / "damaged").iterdir())[0].startswith("ckpt-6.")
    straight = train(config_lib.replace(CONFIG, train={"steps": 4}), tmp_path / "straight", verbose=False)
    for expected, actual in zip(straight.generator.get_weights(), trainer.generator.get_weights()):
        np.testing.assert_array_equal(actual, expected)
    config_file = tmp_path / "tiny.yaml"
    config_lib.save_config(CONFIG, config_file)
    resumed = subprocess.run([sys.executable, str(ROOT / "train" / "train.py"), "--config", str(config_file),
                              "--run", str(run)], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at step 4" in resumed.stdout and "Traceback" not in resumed.stderr


def test_no_readable_checkpoint_is_one_clear_error(tmp_path):
    run = tmp_path / "run"
    train(CONFIG, run, verbose=False)
    for step in (2, 4, 6):
        _truncate(run, step)
    with pytest.raises(UserError, match="no checkpoint in .* can be read .* delete"):
        DCGANTrainer(CONFIG, run).restore()


def test_inversion_resumes_from_the_checkpoint_before_a_damaged_one(tiny_generator, tiny_problem, tmp_path,
                                                                    monkeypatch, capsys):
    from test_checkpoint import CONFIG as INVERT, _interrupt_after, _problem

    from conftest import run_invert

    problem = _problem(tiny_generator, tiny_problem)
    straight = run_invert(tiny_generator, INVERT, *problem, seed=2)
    _interrupt_after(monkeypatch, 5)  # checkpoints at steps 20 and 40, interrupted after step 50
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, INVERT, *problem, seed=2, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    batch = tmp_path / "batch0"
    (data,) = batch.glob("ckpt-40.data-*")
    data.write_bytes(data.read_bytes()[:10])
    capsys.readouterr()
    made = _interrupt_after(monkeypatch, 100)
    resumed = run_invert(tiny_generator, INVERT, *problem, seed=2, checkpoint_dir=tmp_path)
    assert "ckpt-40 is damaged" in capsys.readouterr().err
    assert sum(made) == 40  # from the step-20 checkpoint
    assert (batch / "damaged" / "log-40.npz").exists()
    np.testing.assert_array_equal(resumed.z, straight.z)
    np.testing.assert_array_equal(resumed.history_z_error, straight.history_z_error)


def test_a_damaged_generator_export_is_rebuilt_from_the_training_checkpoint(tmp_path, capsys):
    from dcgan_inversion.run import load_generator

    run = tmp_path / "run"
    trained = train(CONFIG, run, verbose=False)
    weights = run / "generator.weights.h5"
    weights.write_bytes(weights.read_bytes()[:100])
    generator = load_generator(run)
    lines = project_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "rebuilt it from" in lines[0] and lines[0].endswith("ckpt-6")
    for expected, actual in zip(trained.generator.get_weights(), generator.get_weights()):
        np.testing.assert_array_equal(actual, expected)
    for expected, actual in zip(trained.generator.get_weights(), load_generator(run).get_weights()):
        np.testing.assert_array_equal(actual, expected)  # the export was rewritten
    assert capsys.readouterr().err == ""
