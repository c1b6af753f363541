"""The public API (dcgan_inversion/__init__.py) and the examples that use it (a script, the notebook tour), on a
tiny trained run."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dcgan_inversion as di
from conftest import tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.training.trainer import train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("api") / "run"
    config = config_lib.replace(tiny_config(), invert={"steps": 150, "steps_per_call": 50, "learning_rate": 0.05},
                                polish={"method": "layerwise_lm", "iterations": 12})
    train(config, run, verbose=False)
    return run


def test_importing_the_package_loads_no_tensorflow():
    code = "import sys, dcgan_inversion, dcgan_inversion.config; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_generated_images_come_back_with_their_latents(tiny_run):
    run = di.load_run(tiny_run)
    assert run.image_shape == (16, 16, 3)
    z, images = di.generate(run, 3, seed=2)
    assert images.shape == (3, 16, 16, 3) and np.all(np.abs(images) <= 1)
    found = di.invert(run, images, starts=2)
    assert found.z.shape == z.shape and found.all_errors.shape == (3, 2)
    np.testing.assert_allclose(found.reconstructions, run.generator(found.z, training=False).numpy(), atol=1e-6)
    assert np.all(found.pixel_error < 1e-8)
    assert np.all(np.mean((found.z - z) ** 2, axis=1) < 1e-6)


def test_the_verdict_calls_drawn_images_in_range_and_noise_not(tiny_run):
    run = di.load_run(tiny_run)
    _, images = di.generate(run, 1, seed=3)
    noise = np.random.default_rng(0).uniform(-1, 1, images.shape).astype(np.float32)
    said = di.verdict(run, di.invert(run, np.concatenate([images, noise]), starts=2))
    assert [v.in_range for v in said] == [True, False]
    assert said[0].margin_decades < 0 < said[1].margin_decades
    assert (tiny_run / "results" / "images" / "calibration.json").exists()


def test_bad_inputs_are_one_clear_error(tiny_run):
    run = di.load_run(tiny_run)
    with pytest.raises(UserError, match=r"images must be \(n, 16, 16, 3\)"):
        di.invert(run, np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(UserError, match=r"in \[-1, 1\]"):
        di.invert(run, np.full((1, 16, 16, 3), 3.0, np.float32))
    with pytest.raises(UserError, match="mode must be one of"):
        di.invert(run, np.zeros((1, 16, 16, 3), np.float32), mode="sticky")
    with pytest.raises(UserError, match="config.yaml is missing"):
        di.load_run(tiny_run.parent / "nothing-here")


def test_uint8_images_are_scaled_to_the_models_range(tiny_run):
    run = di.load_run(tiny_run)
    pixels = np.full((1, 16, 16, 3), 255, np.uint8)
    np.testing.assert_allclose(di.as_model_images(run, pixels), 1.0)


def test_the_example_runs_end_to_end(tiny_run):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "invert_generated_and_real.py"), str(tiny_run),
                             "--starts", "2"], capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("generated image", "coffee photo"))]
    assert len(lines) == 3 and lines[0].startswith("generated image 0: pixel MSE") and "in G's range" in lines[0]
    assert lines[2].startswith("coffee photo (scikit-image)") and "not in G's range" in lines[2]


def test_dcgan_generate_writes_pngs_and_latents_and_no_stale_ones(tiny_run, tmp_path):
    def command(n):
        return subprocess.run([sys.executable, "-c", "from dcgan_inversion.cli import generate_main; generate_main()",
                               "--run", str(tiny_run), "-n", str(n), "--out", str(tmp_path)],
                              capture_output=True, text=True, timeout=300)

    assert command(3).returncode == 0
    assert command(2).returncode == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "generated-000.png", "generated-000.z.npy", "generated-001.png", "generated-001.z.npy"]
    run = di.load_run(tiny_run)
    z = np.load(tmp_path / "generated-001.z.npy")
    np.testing.assert_allclose(z, di.generate(run, 2, seed=0)[0][1])


def test_the_api_and_dcgan_invert_image_give_the_same_numbers(tiny_run, tmp_path):
    """One search plan (user_images/plan.py) and one engine: the same best error per image."""
    import json

    from dcgan_inversion.cli import invert_main
    from dcgan_inversion.infra.io_utils import write_png
    from dcgan_inversion.data.images import to_uint8

    run = di.load_run(tiny_run)
    _, images = di.generate(run, 2, seed=5)
    files = []
    for index, image in enumerate(to_uint8(images)):
        files.append(tmp_path / f"drawn{index}.png")
        write_png(files[-1], image)
    loaded, _ = di.load_images(run, [str(path) for path in files])
    found = di.invert(run, loaded, starts=2)
    with _no_exit():
        invert_main(["--run", str(tiny_run), "--image", *map(str, files), "--starts", "2"])
    summary = json.loads((tiny_run / "results" / "images" / "summary.json").read_text())
    assert [row["best_pixel_mse"] for row in summary["images"]] == [float(e) for e in found.pixel_error]


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is SystemExit and value.code in (0, None)


def test_completion_fills_the_hole_of_a_generated_image(tiny_run):
    run = di.load_run(tiny_run)
    _, images = di.generate(run, 2, seed=4)
    filled = di.complete(run, images, mask="center", starts=2)
    assert filled.completed.shape == images.shape and filled.method == "ours"
    known = filled.mask.known > 0
    np.testing.assert_array_equal(np.where(known, filled.completed, 0), np.where(known, images, 0))
    np.testing.assert_array_equal(np.where(known, 0, filled.completed), np.where(known, 0, filled.reconstructions))
    assert np.all(filled.known_error < 1e-8) and filled.mask.hidden_fraction == 0.25
    with pytest.raises(UserError, match="method must be one of ours, amos"):
        di.complete(run, images, method="hmc")
    with pytest.raises(UserError, match="unknown mask 'middle'"):
        di.complete(run, images, mask="middle")


def test_the_readmes_python_runs_as_written(tiny_run):
    """The README's API block, on the tiny run instead of make demo's runs/celeba_demo."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in readme.split("```python\n")[1:]]
    (block,) = [block for block in blocks if 'di.load_run("runs/celeba_demo")' in block]
    code = block.replace('"runs/celeba_demo"', repr(str(tiny_run)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[\"in G's range\", \"in G's range\"]" in result.stdout.splitlines()  # among the progress bars


def test_the_notebook_tour_runs_end_to_end(tiny_run):
    """examples/tour.ipynb executed as CI runs notebooks: pytest's nbmake plugin, on the tiny run."""
    env = {**os.environ, "DCGAN_TOUR_RUN": str(tiny_run), "DCGAN_TOUR_STARTS": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake",
                             "--nbmake-timeout=600", str(ROOT / "examples" / "tour.ipynb")],
                            capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_the_api_shows_progress_unless_told_not_to(tiny_run, capsys):
    run = di.load_run(tiny_run)
    _, images = di.generate(run, 1, seed=8)
    di.invert(run, images, starts=1)
    shown = capsys.readouterr().out
    assert "inverting 1 images from 1 starts each" in shown and "step" in shown
    di.invert(run, images, starts=1, verbose=False)
    assert "inverting" not in capsys.readouterr().out


def test_the_committed_notebook_shows_outputs_of_its_current_code():
    """examples/tour.ipynb is committed executed (make notebook): every code cell has outputs, made by the
    code it holds now (a digest of the code cells is kept when it runs)."""
    import nbformat

    from dcgan_inversion.pages.notebook import TOUR, sources_digest

    notebook = nbformat.read(TOUR, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code[1:]), "make notebook: some cells have no outputs"
    assert notebook.metadata.get("executed_sources_sha256") == sources_digest(notebook), \
        "make notebook: the code changed since the outputs were made"
    pictures = sum(1 for cell in code for output in cell.outputs if "image/png" in output.get("data", {}))
    assert pictures >= 3
