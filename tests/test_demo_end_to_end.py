"""The demo as a user runs it, through the three commands. Slow: `make test ARGS="-m slow"`."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.slow
def test_demo_config_train_invert_figures(tmp_path):
    run = str(tmp_path / "demo")
    _run("train/train.py", "--config", "demo", "--run", run, "--set", "train.steps=300")
    _run("invert/invert.py", "--config", "demo", "--run", run, "--set", "experiments.table1_latents=16",
         "--set", "experiments.noise_latents=2", "--set", "experiments.uniqueness_restarts=8")
    _run("figures/figures.py", "--config", "demo", "--run", run)
    table1 = json.loads((tmp_path / "demo" / "results" / "table1.json").read_text())
    assert table1["latents_per_mode"] == 16 and table1["polish_iterations"] >= 1
    for name in ("figure1.png", "figure2.png", "convergence.png", "training.png", "table1.md", "table2.md"):
        assert (tmp_path / "demo" / "figures" / name).exists()
