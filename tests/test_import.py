"""`dcgan-import`: a TF1 checkpoint becomes a run on which every command works, with no training data."""
import json

import numpy as np
import pytest

from amos_checkpoint import amos_variables, write_checkpoint
from conftest import cli_command, one_error_line, project_lines

TINY = ["--set", "experiments.table1_latents=3", "--set", "experiments.noise_latents=2",
        "--set", "experiments.noise_variances=[0.0,0.1]", "--set", "experiments.uniqueness_restarts=3",
        "--set", "experiments.trajectory_targets=2", "--set", "experiments.trajectory_steps=20",
        "--set", "invert.steps=30", "--set", "invert.steps_per_call=10", "--set", "polish.iterations=2",
        "--set", "polish.chunk_rows=4", "--set", "search.restarts=1"]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Amos's names at 16 px, imported from the folder, as a user would after cloning his repository."""
    folder = tmp_path_factory.mktemp("amos")
    checkpoint = folder / "checkpoint"
    checkpoint.mkdir()
    write_checkpoint(checkpoint / "DCGAN.model-60502", amos_variables(16, 4, 4))
    run = folder / "runs" / "amos"
    result = cli_command("import", str(checkpoint), "--run", str(run))
    assert result.returncode == 0, result.stderr
    assert project_lines(result.stderr) == []
    assert "imported 24 of 24 variables" in result.stdout
    return run


def test_importing_the_same_checkpoint_again_keeps_the_run(imported):
    before = {path.name: path.read_bytes() for path in imported.iterdir() if path.is_file()}
    again = cli_command("import", str(imported.parents[1] / "checkpoint"), "--run", str(imported))
    assert again.returncode == 0 and f"{imported} already holds" in again.stdout, again.stderr
    assert {path.name: path.read_bytes() for path in imported.iterdir() if path.is_file()} == before
    other_seed = cli_command("import", str(imported.parents[1] / "checkpoint"), "--run", str(imported), "--seed", "1")
    assert "already exists and is not empty" in one_error_line(other_seed)


def test_import_writes_a_complete_run(imported):
    names = {path.name for path in imported.iterdir()}
    assert names == {"config.yaml", "generator.weights.h5", "discriminator.weights.h5", "imported.json", "samples"}
    record = json.loads((imported / "imported.json").read_text())
    assert record["step"] == 60502 and record["discriminator"] and len(record["sha256"]) == 64
    assert record["source"].endswith("DCGAN.model-60502")
    from dcgan_inversion.run import saved_config

    config = saved_config(imported)
    assert (config.model.image_size, config.model.gf_dim, config.model.df_dim) == (16, 4, 4)
    assert config.data.source == "celeba" and config.data.path is None  # no training data beside it
    assert (imported / "samples" / "latest.png").stat().st_size > 0
    assert not list(imported.parent.glob(".*importing*"))  # the staging folder is gone


def test_the_api_draws_from_the_imported_run(imported):
    from dcgan_inversion import api

    z, images = api.generate(api.load_run(imported), 4, seed=0)
    assert images.shape == (4, 16, 16, 3) and np.isfinite(images).all() and images.std() > 0


def test_every_command_runs_on_the_imported_run(imported, tmp_path):
    """In-process, as the console scripts call them (the subprocess tests above and below cover the
    command line's own start-up and error lines)."""
    from dcgan_inversion import cli

    run = str(imported)
    cli.invert_main(["--run", run, *TINY])
    uniqueness = json.loads((imported / "results" / "uniqueness.json").read_text())
    assert uniqueness["images"] == ["grace_hopper (matplotlib)"]  # the shipped portrait: no data folder
    table1 = json.loads((imported / "results" / "table1.json").read_text())
    assert table1["restarted_rows"] > 0  # 30 steps and 2 polish iterations leave rows stuck: they restart
    cli.invert_main(["--run", run, *TINY, "--curvature"])
    cli.invert_main(["--run", run, *TINY, "--image", str(imported / "samples" / "latest.png"), "--starts", "2"])
    assert (imported / "results" / "curvature.json").exists()
    assert (imported / "results" / "images" / "summary.json").exists()
    cli.invert_main(["--run", run, "--protocol", "authors", "--experiment", "table1",
                     "--set", "invert.steps=20", "--set", "experiments.table1_latents=2"])
    cli.figures_main(["--run", run])
    from PIL import Image

    for name in ("figure1.png", "figure2.png", "training.png"):
        with Image.open(imported / "figures" / name) as figure:
            assert min(figure.size) > 100 and len(figure.getcolors(1 << 20) or range(300)) > 2, name  # drawn
    for name in ("table1.md", "table2.md", "table1_protocols.md"):
        table = (imported / "figures" / name).read_text()
        assert all(f"| {mode}" in table for mode in ("none", "standard", "stochastic")), name  # a row per mode


def test_unseen_images_from_a_folder_the_user_names(imported, tmp_path):
    from PIL import Image

    faces = tmp_path / "lfw"
    faces.mkdir()
    Image.fromarray(np.full((40, 40, 3), 120, np.uint8)).save(faces / "face.png")
    (faces / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    result = cli_command("invert", "--run", str(imported), *TINY, "--experiment", "uniqueness",
                      "--set", f"experiments.unseen_images={faces}")
    assert result.returncode == 0, result.stderr
    assert "skipped cannot read image" in result.stderr  # named once, on stderr
    uniqueness = json.loads((imported / "results" / "uniqueness.json").read_text())
    assert uniqueness["images"] == ["face.png"]
    result = cli_command("invert", "--run", str(imported), *TINY, "--set", f"experiments.unseen_images={tmp_path / 'no'}")
    assert "experiments.unseen_images: image not found" in one_error_line(result)


def test_training_an_imported_run_says_it_has_no_training_state(imported):
    assert "no training state" in one_error_line(cli_command("train", "--run", str(imported)))


def test_bad_imports_are_one_line_and_write_nothing(tmp_path):
    pth = tmp_path / "generator.pth"
    pth.write_bytes(b"PK torch")
    run = tmp_path / "runs" / "x"
    assert "truncated or damaged zip archive" in one_error_line(cli_command("import", str(pth), "--run", str(run)))
    variables = amos_variables(16, 4, 4)
    del variables["generator/g_h2/biases"]
    prefix = write_checkpoint(tmp_path / "DCGAN.model-7", variables)
    assert "has no generator/g_h2/biases" in one_error_line(cli_command("import", prefix, "--run", str(run)))
    assert "checkpoint not found" in one_error_line(cli_command("import", str(tmp_path / "nope"), "--run", str(run)))
    assert not run.exists() and not any((tmp_path / "runs").glob("*")) and not any((tmp_path / "runs").glob(".*"))
    full = write_checkpoint(tmp_path / "DCGAN.model-8", amos_variables(16, 4, 4))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "something").write_text("")
    assert "already exists and is not empty" in one_error_line(cli_command("import", full, "--run", str(tmp_path / "taken")))
