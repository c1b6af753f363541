"""Your own images (user_images/recover.py, dcgan-invert --image): folders, best of K starts, the calibrated
verdict, readable pictures, name collisions and bad files."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import one_error_line, project_lines, tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.inversion.multistart import best_of_starts
from dcgan_inversion.user_images import recover
from dcgan_inversion.data.pipeline import heldout_images
from dcgan_inversion.paper.experiments import generate
from dcgan_inversion.training.trainer import train

ROOT = Path(__file__).resolve().parents[2]


def _config():
    return config_lib.replace(tiny_config(), invert={"steps": 60, "steps_per_call": 20, "learning_rate": 0.03,
                                                     "schedule": "cosine"},
                              polish={"method": "levenberg_marquardt", "iterations": 12})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    train(config_lib.replace(_config(), train={"steps": 30}), folder, verbose=False)
    config_lib.save_config(_config(), folder / "invert.yaml")
    return folder


def _invert(run, *args):
    code = "import sys; from dcgan_inversion.cli import invert_main; invert_main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, "--run", str(run), "--config", str(run / "invert.yaml"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_the_best_of_k_starts_is_never_worse_than_one_start_with_the_same_seed(run):
    from dcgan_inversion.run import load_generator

    generator, config = load_generator(run), _config()
    images = heldout_images(config)[:2]
    one = best_of_starts(generator, config, images, 1, seed=3, mode="standard")
    many = best_of_starts(generator, config, images, 4, seed=3, mode="standard")
    assert np.all(many["pixel_error"] <= one["pixel_error"] * (1 + 1e-6))
    assert many["all_errors"].shape == (2, 4) and all(spread > 0 for spread in many["spread"])
    assert one["spread"] == [None, None]


def test_the_calibrated_verdict_tells_a_generated_image_from_a_real_face(run):
    from dcgan_inversion.run import load_generator

    generator, config = load_generator(run), _config()
    calibrated = recover.calibrate(generator, config, starts=3, mode="stochastic")
    assert calibrated["separated"], calibrated
    found = best_of_starts(
        generator, config, np.concatenate([recover.as_8_bit(generate(generator, np.full((1, 100), 0.3, np.float32)),
                                                                config), heldout_images(config)[1:2]]),
        3, seed=9, mode="stochastic")
    generated, real = (recover.verdict(error, calibrated["threshold"])[0] for error in found["pixel_error"])
    assert generated == "in G's range" and real == "not in G's range"


def test_folders_and_same_named_files_through_the_command(run, tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(tmp_path / folder / "face.png")
    single = tmp_path / "c.jpg"
    Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(single)
    result = _invert(run, "--image", str(tmp_path / "a"), str(tmp_path / "b"), str(single), "--starts", "2")
    assert result.returncode == 0, result.stderr
    out = run / "results" / "images"
    summary = json.loads((out / "summary.json").read_text())
    assert [row["output"] for row in summary["images"]] == ["001-face.png", "002-face.png", "003-c.png"]
    assert all(row["verdict"] in ("in G's range", "not in G's range") for row in summary["images"])
    assert Image.open(out / "001-face.png").size[1] >= 128  # 16 px upscaled for a screen
    assert (out / "contact_sheet.png").exists() and (out / "summary.csv").read_text().startswith("file,")
    assert np.load(out / "002-face.z.npy").shape == (100,)
    assert "threshold" in result.stdout and "decades from the threshold" in result.stdout
    assert json.loads((out / "calibration.json").read_text())["starts"] == 2  # kept for the next call
    assert "calibrating the verdict" in result.stdout and "random pairs: 0.0" in result.stdout
    again = _invert(run, "--image", str(single), "--starts", "2")
    assert again.returncode == 0 and "calibrating the verdict" not in again.stdout  # the kept calibration
    assert sorted(path.name for path in out.glob("0*")) == ["001-c.png", "001-c.z.npy"]  # no pictures of the last run


def test_bad_images_are_one_line_each(run, tmp_path):
    assert "image not found" in one_error_line(_invert(run, "--image", str(tmp_path / "nope.jpg")))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .jpg/.jpeg/.png images found" in one_error_line(_invert(run, "--image", str(empty)))
    corrupt = tmp_path / "bad.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert "cannot read image" in one_error_line(_invert(run, "--image", str(corrupt)))
    small = tmp_path / "small.png"
    Image.new("RGB", (8, 8)).save(small)
    assert "smaller than the model's 16x16" in one_error_line(_invert(run, "--image", str(small)))
    assert "positive integer" in _invert(run, "--image", str(small), "--starts", "0").stderr


def test_one_bad_file_among_good_ones_is_named_and_the_good_ones_are_inverted(run, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(good)
    corrupt = tmp_path / "bad.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = _invert(run, "--image", str(corrupt), str(good), str(tmp_path / "gone.png"), "--starts", "2")
    assert result.returncode == 1, result.stderr  # the good one done, and the exit says not everything was
    lines = project_lines(result.stderr)
    warnings = [line for line in lines if line.startswith("warning: skipped")]
    assert len(warnings) == 2 and "gone.png" in warnings[0] and "bad.jpg" in warnings[1], result.stderr
    assert lines[-1] == "error: 2 of 3 inputs skipped (named above, and in summary.json)"
    summary = json.loads((run / "results" / "images" / "summary.json").read_text())
    assert [row["file"] for row in summary["images"]] == [str(good)] and len(summary["skipped"]) == 2


def test_without_config_a_run_uses_its_own(tmp_path):
    from dcgan_inversion.cli.common import config_name as _config_name, parser as _parser

    config_lib.save_config(tiny_config(), tmp_path / "config.yaml")
    args = _parser("x").parse_args(["--run", str(tmp_path)])
    assert _config_name(args) == str(tmp_path / "config.yaml")
    assert _config_name(_parser("x").parse_args(["--run", str(tmp_path / "new")])) == "demo"
    assert _config_name(_parser("x").parse_args(["--run", str(tmp_path), "--config", "celeba"])) == "celeba"


def test_the_verdict_table_is_measured_per_category(run, tmp_path):
    from dcgan_inversion.user_images import measure as verdicts

    verdicts.main(["--run", str(run), "--config", str(run / "invert.yaml"), "--out", str(tmp_path), "--starts", "2"])
    report = json.loads((tmp_path / "verdicts.json").read_text())
    assert len(report["categories"]) == 7
    assert report["categories"]["generated, saved as 8-bit PNG"]["in_range"] == 1.0
    assert report["categories"]["photos of other things"]["in_range"] == 0.0
    assert "| generated, JPEG quality 75 | 6 |" in (tmp_path / "verdicts.md").read_text()
    assert report["counted_step_equivalents_per_image"] > 0 and not report["encoder_start"]


@pytest.mark.parametrize("content", ["[1, 2]", "", "{\"config\": 3", "\"just a string\""])
def test_a_damaged_calibration_file_is_measured_again(tmp_path, monkeypatch, content):
    (tmp_path / "calibration.json").write_text(content)
    measured = {"threshold": 1e-3, "separated": True}
    monkeypatch.setattr(recover, "calibrate", lambda *args: measured)
    assert recover.calibration(None, _config(), 2, "stochastic", tmp_path) == measured
    assert json.loads((tmp_path / "calibration.json").read_text()) == measured


def test_the_contact_sheet_draws_a_file_name_that_is_not_utf8(tmp_path):
    import os

    picture = np.zeros((16, 50, 3), np.uint8)
    name = os.fsdecode(b"/photos/caf\xe9.png")
    recover.contact_sheet(tmp_path / "sheet.png", [picture],
                          [{"file": name, "best_pixel_mse": 1e-3, "verdict": "not in G's range"}])
    from PIL import Image

    with Image.open(tmp_path / "sheet.png") as sheet:
        pixels = np.asarray(sheet.convert("RGB"))
    assert pixels.shape[0] > 16 and pixels.shape[1] >= 50
    assert np.count_nonzero(np.all(pixels == 0, axis=2)) >= 16 * 50  # the picture, whole
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2  # and its caption, drawn


def test_machine_readable_outputs_keep_a_non_utf8_file_name_exactly(tmp_path):
    import os

    from dcgan_inversion.infra.io_utils import write_csv, write_json

    name = os.fsdecode(b"/photos/caf\xe9.png")
    write_json(tmp_path / "summary.json", {"images": [{"file": name}]})
    write_csv(tmp_path / "summary.csv", [{"file": name}])
    assert os.fsencode(json.loads((tmp_path / "summary.json").read_text())["images"][0]["file"]) == \
        b"/photos/caf\xe9.png"
    assert b"/photos/caf\xe9.png" in (tmp_path / "summary.csv").read_bytes()
