"""SIGTERM (preemption) on real processes: training and inversion checkpoint where they are, exit
with one line and status 143, and the same command resumes to the result of an uninterrupted run."""
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from conftest import (assert_checkpoint_is_a_run_stopped_there, latest_checkpoint_step, one_error_line, project_lines,
                      tiny_config, training_command)
from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.preemption import EXIT_STATUS
from dcgan_inversion.training.trainer import train

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(process, ready, timeout=120) -> None:
    deadline = time.time() + timeout
    while not ready() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)


def _terminate_when(process, ready, timeout=120):
    """SIGTERM once `ready()` holds; returns (returncode, stderr)."""
    _wait_for(process, ready, timeout)
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, stderr


def _one_stop_line(stderr: str) -> str:
    lines = project_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith("stopped: SIGTERM at step "), stderr
    assert "Traceback" not in stderr
    return lines[0]



def test_sigterm_during_training_saves_where_it_is_and_resumes_exactly(tmp_path):
    """A second training of the same run is refused while the first runs; SIGTERM stops the first."""
    config = config_lib.replace(tiny_config(), train={"steps": 5000, "checkpoint_every": 7, "sample_every": 10000})
    command, run_dir = training_command(tmp_path, config)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for(process, lambda: latest_checkpoint_step(run_dir / "checkpoints") >= 7)
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)  # the run is locked: refused at once
    assert f"is in use by dcgan-train (pid {process.pid})" in one_error_line(second)
    assert process.poll() is None  # the first one is unharmed
    returncode, stderr = _terminate_when(process, lambda: True)
    assert returncode == EXIT_STATUS
    line = _one_stop_line(stderr)
    stopped_at = int(line.split("step ")[1].split(":")[0])
    assert 7 <= stopped_at < 5000 and latest_checkpoint_step(run_dir / "checkpoints") == stopped_at  # nothing lost
    assert_checkpoint_is_a_run_stopped_there(config, run_dir, stopped_at, tmp_path / "straight")


def test_sigterm_during_inversion_saves_its_state_and_resumes_to_the_same_result(tmp_path):
    run, config_file = tmp_path / "run", tmp_path / "tiny.yaml"
    train(tiny_config(), run, verbose=False)
    config_lib.save_config(tiny_config(), config_file)
    twin = tmp_path / "twin"
    shutil.copytree(run, twin)
    settings = ["--config", str(config_file), "--experiment", "table1", "--set", "experiments.table1_latents=2", "--set", "polish.method=none",
                "--set", "invert.steps=6000", "--set", "invert.steps_per_call=10", "--set", "invert.checkpoint_every=500"]

    def invert(run_dir):
        code = "import sys; from dcgan_inversion.cli import invert_main; invert_main(sys.argv[1:])"
        return [sys.executable, "-c", code, "--run", str(run_dir), *settings]

    state = run / "results" / ".state" / "table1" / "batch0" / "checkpoint"
    process = subprocess.Popen(invert(run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    returncode, stderr = _terminate_when(process, state.exists)
    assert returncode == EXIT_STATUS
    line = _one_stop_line(stderr)
    assert "saved the inversion's state" in line and not (run / "results" / "table1.json").exists()
    stopped_at = int(line.split("step ")[1].split(":")[0])
    assert 500 <= stopped_at < 6000
    resumed = subprocess.run(invert(run), capture_output=True, text=True, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from step {stopped_at}" in resumed.stdout
    straight = subprocess.run(invert(twin), capture_output=True, text=True, cwd=ROOT)
    assert straight.returncode == 0, straight.stderr
    with np.load(run / "results" / "table1.npz") as after, np.load(twin / "results" / "table1.npz") as expected:
        for name in ("z", "first_step", "history_z_error"):
            np.testing.assert_array_equal(after[name], expected[name])
