"""A full disk (ENOSPC, simulated) while checkpointing: one line, exit 2, earlier checkpoints and
results intact."""
import errno

import pytest
import tensorflow as tf

from conftest import latest_checkpoint_step, project_lines, tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.infra import io_utils
from dcgan_inversion.cli import invert_main, train_main
from dcgan_inversion.training.trainer import train


def _full_disk_after(monkeypatch, owner, name, calls):
    """`owner.name` works `calls` times, then fails as a full disk does."""
    original, made = getattr(owner, name), []

    def failing(*args, **kwargs):
        if len(made) == calls:
            raise OSError(errno.ENOSPC, "No space left on device", "ckpt-temp")
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def _one_line(capsys) -> str:
    lines = project_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_full_disk_while_training_keeps_the_previous_checkpoint(tmp_path, monkeypatch, capsys):
    config = config_lib.replace(tiny_config(), train={"steps": 8, "checkpoint_every": 2})
    config_file, run = tmp_path / "tiny.yaml", tmp_path / "run"
    config_lib.save_config(config, config_file)
    _full_disk_after(monkeypatch, tf.train.CheckpointManager, "save", 1)
    with pytest.raises(SystemExit) as exit_:
        train_main(["--config", str(config_file), "--run", str(run)])
    assert exit_.value.code == 2
    assert _one_line(capsys).startswith("error: no space left on the device writing ckpt-temp; the checkpoints")
    assert latest_checkpoint_step(run / "checkpoints") == 2  # the one saved before is still the newest
    monkeypatch.undo()
    train_main(["--config", str(config_file), "--run", str(run)])  # space again: resumes and finishes
    assert latest_checkpoint_step(run / "checkpoints") == 8


def test_full_disk_while_writing_results_keeps_the_previous_ones(tmp_path, monkeypatch, capsys):
    config = config_lib.replace(tiny_config(), invert={"steps": 10, "steps_per_call": 5},
                                experiments={"table1_latents": 2}, polish={"method": "none"})
    config_file, run = tmp_path / "tiny.yaml", tmp_path / "run"
    config_lib.save_config(config, config_file)
    train(config, run, verbose=False)
    invert_main(["--config", str(config_file), "--run", str(run), "--experiment", "table1"])
    before = (run / "results" / "table1.json").read_text()
    _full_disk_after(monkeypatch, io_utils, "atomic_write_bytes", 0)  # the NPZ, then the JSON, go through it
    with pytest.raises(SystemExit) as exit_:
        invert_main(["--config", str(config_file), "--run", str(run), "--experiment", "table1",
                     "--set", "invert.steps=12"])
    assert exit_.value.code == 2 and "no space left on the device" in _one_line(capsys)
    assert (run / "results" / "table1.json").read_text() == before
    assert not list((run / "results").glob("*.tmp*")) and not list((run / "results").glob(".*table1*"))
