"""`dcgan-invert --complete` as a user runs it: every mask type, both methods, on an imported run
(its discriminator exported) and a trained one (its discriminator in the checkpoint)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from amos_checkpoint import amos_variables, write_checkpoint
from conftest import one_error_line, tiny_config
from dcgan_inversion import cli

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--starts", "1", "--set", "invert.steps=20", "--set", "polish.iterations=2",
         "--set", "completion.iterations=6", "--set", "completion.out_interval=3", "--set", "completion.hmc_steps=2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from dcgan_inversion.importing import import_checkpoint
    from dcgan_inversion.training.trainer import train

    folder = tmp_path_factory.mktemp("completion")
    import_checkpoint(write_checkpoint(folder / "DCGAN.model-1", amos_variables(16, 4, 4)), folder / "imported")
    train(tiny_config(), folder / "trained", verbose=False)
    image = folder / "face.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 20, 3), np.uint8)).save(image)
    return folder, image


@pytest.mark.parametrize("mask", ["center", "left", "random", "grid", "lowres", "full"])
def test_each_mask_type_completes_on_an_imported_run(runs, mask):
    folder, image = runs
    cli.invert_main(["--run", str(folder / "imported"), "--complete", str(image), "--mask", mask, *QUICK])
    summary = json.loads((folder / "imported" / "results" / "completion" / f"{mask}-ours" / "summary.json").read_text())
    assert summary["mask"] == mask and summary["images"][0]["file"] == str(image)
    assert (summary["images"][0]["hidden_psnr_db"] is None) == (mask == "full")


def test_a_mask_image_and_amos_with_the_trained_runs_discriminator(runs, tmp_path):
    folder, image = runs
    pixels = np.full((16, 16), 255, np.uint8)
    pixels[:, 8:] = 0
    Image.fromarray(pixels).save(tmp_path / "right-half.png")
    cli.invert_main(["--run", str(folder / "trained"), "--complete", str(image), "--mask", str(tmp_path / "right-half.png"),
                     "--method", "amos", *QUICK])
    out = folder / "trained" / "results" / "completion" / "right-half-amos-adam"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["perceptual_loss"] and summary["hidden_fraction"] == 0.5
    assert sorted(path.name for path in (out / "hats_imgs").iterdir()) == ["0000.png", "0003.png"]
    cli.invert_main(["--run", str(folder / "imported"), "--complete", str(image), "--method", "amos",
                     "--approach", "hmc", *QUICK])
    assert json.loads((folder / "imported" / "results" / "completion" / "center-amos-hmc" / "summary.json")
                      .read_text())["acceptance"] is not None


def _invert(*args):
    return subprocess.run([sys.executable, "invert/invert.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_bad_masks_are_one_line_each_and_write_nothing(runs, tmp_path):
    folder, image = runs
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "black.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG truncated")
    run = str(folder / "imported")
    for name, expected in [("big.png", "is 32x32: the model's images are 16x16"), ("black.png", "is all black"),
                           ("broken.png", "cannot read mask")]:
        line = one_error_line(_invert("--run", run, "--complete", str(image), "--mask", str(tmp_path / name)))
        assert expected in line and name in line
        assert not (folder / "imported" / "results" / "completion" / f"{Path(name).stem}-ours").exists()
