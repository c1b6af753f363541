"""Long runs lose nothing: a killed training resumes, an interrupted inversion resumes exactly."""
import dataclasses
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_checkpoint_is_a_run_stopped_there, latest_checkpoint_step, run_invert, tiny_config, training_command
from dcgan_inversion import config as config_lib
from dcgan_inversion.paper import experiments
from dcgan_inversion.inversion import ShardedInversion
from dcgan_inversion.training.trainer import DCGANTrainer

ROOT = Path(__file__).resolve().parents[2]
CONFIG = config_lib.InvertConfig(learning_rate=0.05, steps=60, steps_per_call=10, checkpoint_every=20, early_stop=False)


def _problem(tiny_generator, tiny_problem):
    z_true, _, _ = tiny_problem
    z_init = np.random.default_rng(5).uniform(-1, 1, z_true.shape).astype(np.float32)
    modes = ["stochastic", "standard", "none", "stochastic"] * 2
    return tiny_generator(z_true, training=False).numpy(), z_init, modes, z_true


def _interrupt_after(monkeypatch, calls):
    """Makes the engine raise KeyboardInterrupt (as Ctrl-C or a kill would end it) after `calls` calls."""
    run_steps, made = ShardedInversion.run_steps, []

    def counted(self, count):
        if len(made) == calls:
            raise KeyboardInterrupt
        made.append(count)
        run_steps(self, count)

    monkeypatch.setattr(ShardedInversion, "run_steps", counted)
    return made


def test_interrupted_inversion_resumes_to_the_same_result(tiny_generator, tiny_problem, tmp_path, monkeypatch):
    problem = _problem(tiny_generator, tiny_problem)
    straight = run_invert(tiny_generator, CONFIG, *problem, seed=2)
    _interrupt_after(monkeypatch, 3)  # steps 10, 20 (checkpoint), 30, then interrupted
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    made = _interrupt_after(monkeypatch, 100)
    resumed = run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 40  # resumed at the step-20 checkpoint: lost less than one interval
    np.testing.assert_array_equal(resumed.z, straight.z)
    np.testing.assert_array_equal(resumed.first_step, straight.first_step)
    np.testing.assert_array_equal(resumed.history_steps, straight.history_steps)
    np.testing.assert_array_equal(resumed.history_z_error, straight.history_z_error)


def test_a_checkpoint_of_another_problem_is_not_resumed(tiny_generator, tiny_problem, tmp_path, monkeypatch):
    problem = _problem(tiny_generator, tiny_problem)
    run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    made = _interrupt_after(monkeypatch, 100)
    other_seed = run_invert(tiny_generator, CONFIG, *problem, seed=3, checkpoint_dir=tmp_path)
    assert sum(made) == 60 and other_seed.steps == 60


def test_a_checkpoint_resumes_on_targets_rounded_by_another_cpu_but_not_on_other_targets(
        tiny_generator, tiny_problem, tmp_path, monkeypatch):
    targets, z_init, modes, z_true = _problem(tiny_generator, tiny_problem)
    _interrupt_after(monkeypatch, 3)  # checkpoint at step 20
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, CONFIG, targets, z_init, modes, z_true, seed=2, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    made = _interrupt_after(monkeypatch, 100)
    rounded = np.nextafter(targets, np.float32(2.0))  # G(z) again, with another CPU's kernels: last bits differ
    run_invert(tiny_generator, CONFIG, rounded, z_init, modes, z_true, seed=2, checkpoint_dir=tmp_path / "kept")
    assert sum(made) == 60
    made.clear()
    shutil.rmtree(tmp_path / "kept")
    run_invert(tiny_generator, CONFIG, rounded, z_init, modes, z_true, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 40  # resumed at step 20
    made.clear()
    noisy = targets + np.random.default_rng(0).normal(0, 0.01, targets.shape).astype(np.float32)
    run_invert(tiny_generator, CONFIG, noisy, z_init, modes, z_true, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 60  # other images (a noisy copy): started afresh


def test_a_checkpoint_of_another_sharding_is_not_resumed(tiny_generator, tiny_problem, tmp_path, monkeypatch):
    from dcgan_inversion.infra.distribute import make_strategy

    problem = _problem(tiny_generator, tiny_problem)
    _interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path, strategy=make_strategy("mirrored"))
    monkeypatch.undo()
    made = _interrupt_after(monkeypatch, 100)
    run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 60


def _count_polishes(monkeypatch):
    from dcgan_inversion.inversion import driver

    polished, polish = [], driver.polish

    def counted(generator, settings, inversion, result, z_true):
        polished.append(len(result.z))
        return polish(generator, settings, inversion, result, z_true)

    monkeypatch.setattr(driver, "polish", counted)
    return polished


def test_a_resumed_run_of_batches_keeps_the_batches_it_had_finished(tiny_generator, tiny_problem, tmp_path, monkeypatch):
    problem = _problem(tiny_generator, tiny_problem)
    config = dataclasses.replace(CONFIG, max_rows=4)  # two batches of four rows
    polish = config_lib.PolishConfig(method="levenberg_marquardt", iterations=2)
    straight = run_invert(tiny_generator, config, *problem, seed=2, polish=polish)
    _interrupt_after(monkeypatch, 8)  # batch 0's six calls, then batch 1's steps 10 and 20 (checkpoint)
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, config, *problem, seed=2, polish=polish, checkpoint_dir=tmp_path)
    assert (tmp_path / "batch0" / "finished.npz").exists() and not (tmp_path / "batch1" / "finished.npz").exists()
    monkeypatch.undo()
    made, polished = _interrupt_after(monkeypatch, 100), _count_polishes(monkeypatch)
    resumed = run_invert(tiny_generator, config, *problem, seed=2, polish=polish, checkpoint_dir=tmp_path)
    assert sum(made) == 40 and polished == [4]  # only batch 1 steps on and is polished
    np.testing.assert_allclose(resumed.z, straight.z, atol=1e-6)
    np.testing.assert_array_equal(resumed.first_step, straight.first_step)
    assert resumed.polish_row_steps == straight.polish_row_steps


def test_a_kept_batch_of_another_problem_or_damaged_runs_again(tiny_generator, tiny_problem, tmp_path, monkeypatch, capsys):
    problem = _problem(tiny_generator, tiny_problem)
    run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    kept = tmp_path / "batch0" / "finished.npz"
    for name in ("log-60.npz", "checkpoint"):  # leave only the kept result, so a re-run must step
        (tmp_path / "batch0" / name).unlink()
    made = _interrupt_after(monkeypatch, 100)
    run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 0  # the kept result
    kept.write_bytes(kept.read_bytes()[:100])
    run_invert(tiny_generator, CONFIG, *problem, seed=2, checkpoint_dir=tmp_path)
    assert sum(made) == 60 and "finished.npz is damaged" in capsys.readouterr().err
    assert (tmp_path / "batch0" / "damaged" / "finished.npz").exists()
    run_invert(tiny_generator, CONFIG, *problem, seed=3, checkpoint_dir=tmp_path)
    assert sum(made) == 120  # another seed: another problem


def test_fingerprints_ignore_opt_in_options_at_their_default_and_nothing_else():
    """A run made before an opt-in option existed stays resumable; any other setting counts."""
    from dcgan_inversion.infra.fingerprints import fingerprint, settings_text

    search = config_lib.SearchConfig()
    opt_in = [f.name for f in dataclasses.fields(search) if f.metadata.get("opt_in")]
    assert "screen_bank" in opt_in
    shown = settings_text((CONFIG, search))
    assert all(f"{name}=" not in shown for name in opt_in)
    assert shown == repr((CONFIG, search)).replace(f", screen_bank={search.screen_bank}", "")
    assert settings_text((CONFIG,)) == repr((CONFIG,)) and settings_text([1, 2]) == repr([1, 2])
    key = fingerprint((CONFIG, search), np.ones(3))
    assert fingerprint((CONFIG, dataclasses.replace(search, screen_bank=8)), np.ones(3)) != key
    assert fingerprint((CONFIG, dataclasses.replace(search, stall_min_steps=7)), np.ones(3)) != key
    assert fingerprint((dataclasses.replace(CONFIG, steps=61), search), np.ones(3)) != key
    assert fingerprint((CONFIG, search), np.zeros(3)) != key


def test_experiments_are_reproducible_and_drop_their_checkpoints(tiny_generator, tmp_path):
    config = config_lib.replace(tiny_config(), invert={"steps": 20, "steps_per_call": 5, "checkpoint_every": 10},
                                experiments={"table1_latents": 3}, polish={"method": "levenberg_marquardt", "iterations": 2})
    first = experiments.table1(experiments.Experiment(tiny_generator, config, tmp_path / "a", progress=False))
    second = experiments.table1(experiments.Experiment(tiny_generator, config, tmp_path / "b", progress=False))
    assert first["modes"] == second["modes"] and first["seed"] == 0
    assert {"tensorflow", "dcgan_inversion", "device"} <= set(first["environment"])
    assert not (tmp_path / "a" / ".state").exists()


def test_training_killed_with_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    config = config_lib.replace(tiny_config(), train={"steps": 400, "checkpoint_every": 5, "sample_every": 1000})
    command, run_dir = training_command(tmp_path, config)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while latest_checkpoint_step(run_dir / "checkpoints") < 10 and time.time() < deadline and process.poll() is None:
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    killed_at = latest_checkpoint_step(run_dir / "checkpoints")
    assert 10 <= killed_at < 400, "training should have been killed mid-run"
    # Its last checkpoint is exactly a run that stopped there: same weights, same RNG state.
    assert_checkpoint_is_a_run_stopped_there(config, run_dir, killed_at, tmp_path / "straight")
    shorter = config_lib.replace(config, train={"steps": killed_at + 5})
    config_lib.save_config(shorter, command[command.index("--config") + 1])
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert f"resuming at step {killed_at}" in result.stdout
    trainer = DCGANTrainer(shorter, run_dir)
    assert trainer.restore() == killed_at + 5


def test_finished_experiments_are_not_run_again_unless_the_config_changed(tiny_generator, tmp_path, capsys):
    config = config_lib.replace(tiny_config(), invert={"steps": 10, "steps_per_call": 5},
                                experiments={"table1_latents": 2}, polish={"method": "none"})
    experiments.run_experiments(tiny_generator, config, tmp_path, ["table1"], progress=False)
    written = (tmp_path / "table1.json").stat().st_mtime_ns
    again = experiments.run_experiments(tiny_generator, config, tmp_path, ["table1"])
    assert "table1: already done with this config" in capsys.readouterr().out
    assert (tmp_path / "table1.json").stat().st_mtime_ns == written and again["table1"]["seed"] == 0
    experiments.run_experiments(tiny_generator, config_lib.replace(config, seed=1), tmp_path, ["table1"], progress=False)
    assert (tmp_path / "table1.json").stat().st_mtime_ns != written
