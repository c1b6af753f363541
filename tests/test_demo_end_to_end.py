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


@pytest.mark.slow
def test_make_demo_on_a_celeba_shaped_folder(tmp_path):
    """`make demo CONFIG=celeba` (the paper's 64 px model) on generated 178x218 JPEGs, the decoded
    cache on, tiny step counts: training, all four experiments and the figures."""
    from dcgan_inversion.data.celeba_like import make_folder

    make_folder(tmp_path / "img_align_celeba", 200)
    run = tmp_path / "celeba"
    settings = [f"data.path={tmp_path / 'img_align_celeba'}", f"data.cache={tmp_path / 'cache'}", "train.steps=3",
                "invert.steps=10", "invert.steps_per_call=5", "polish.iterations=1", "search.restarts=1",
                "experiments.table1_latents=2",
                "experiments.noise_latents=1", "experiments.noise_variances=[0.0,0.1]",
                "experiments.uniqueness_restarts=2", "experiments.trajectory_targets=1",
                "experiments.trajectory_steps=10"]
    result = subprocess.run(["make", "demo", "CONFIG=celeba", f"RUN={run}",
                             "ARGS=" + " ".join(f"--set {setting}" for setting in settings)],
                            cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "184 images under" in result.stdout and "(decoded now" not in result.stdout  # 200 minus 16 held out
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    for name in ("figure1.png", "figure2.png", "convergence.png", "training.png", "table1.md", "table2.md"):
        assert (run / "figures" / name).exists()
    assert json.loads((run / "results" / "table1.json").read_text())["config"]["model"]["image_size"] == 64


@pytest.mark.slow
def test_make_demo_imports_the_real_face_generator_and_runs_every_experiment(tmp_path):
    """`make demo` as the README gives it (the real gan-face-generate generator, fetched with pip;
    skipped where the package index cannot be reached), at tiny sizes: import, the four experiments
    and the figures, and a second `make demo` that reuses the imported run."""
    from dcgan_inversion.infra.errors import UserError
    from dcgan_inversion.pretrained import fetch

    try:
        fetch(quiet=True)
    except UserError as error:
        if "cannot download" in str(error):
            pytest.skip(str(error))
        raise
    run = tmp_path / "face_demo"
    settings = ["invert.steps=10", "invert.steps_per_call=5", "polish.iterations=1", "search.restarts=1",
                "search.stall_min_steps=5", "experiments.table1_latents=2", "experiments.noise_latents=1",
                "experiments.noise_variances=[0.0,0.1]", "experiments.uniqueness_restarts=2",
                "experiments.trajectory_targets=1", "experiments.trajectory_steps=10"]
    command = ["make", "demo", f"RUN={run}", "ARGS=" + " ".join(f"--set {setting}" for setting in settings)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((run / "imported.json").read_text())
    assert record["pretrained"]["package"] == "gan-face-generate" and record["latent_prior"].startswith("N(0, 1)")
    table1 = json.loads((run / "results" / "table1.json").read_text())
    assert table1["config"]["model"]["architecture"] == "pytorch_dcgan" and table1["latents_per_mode"] == 2
    for name in ("figure1.png", "figure2.png", "convergence.png", "table1.md", "table2.md"):
        assert (run / "figures" / name).exists()
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((run / "imported.json").read_text()) == record  # the run exists: not imported again
