"""The damaged-file matrix for a run folder's own files: each truncated, emptied, of the wrong shape and
of the wrong kind, with the outcome it must have (one line, or rebuilt with one warning)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import one_error_line, project_lines, tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.training.trainer import train

ROOT = Path(__file__).resolve().parents[2]
DAMAGES = ("truncated", "emptied", "wrong shape", "wrong kind")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("damaged") / "run"
    train(config_lib.replace(tiny_config(), invert={"steps": 10, "steps_per_call": 5}, polish={"method": "none"}),
          run, verbose=False)
    return run


def _damage(path: Path, how: str, wrong_shape: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 3], "emptied": b"", "wrong shape": wrong_shape,
                      "wrong kind": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}[how])


def _other_models_weights(folder: Path) -> bytes:
    """A generator export of another width: a valid file of the wrong shape."""
    from dcgan_inversion.gan.model import make_generator

    path = folder / "other.weights.h5"
    make_generator(config_lib.replace(tiny_config(), model={"gf_dim": 4}).model).save_weights(str(path))
    return path.read_bytes()


def _invert(run, *args):
    code = "import sys; from dcgan_inversion.cli import invert_main; invert_main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, "--run", str(run), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_run_config_is_one_line_naming_it(trained, tmp_path, how):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    _damage(run / "config.yaml", how, b"- a list\n- not a mapping\n")
    line = one_error_line(_invert(run, "--experiment", "table1"))
    assert "config.yaml" in line, line


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_generator_export_is_rebuilt_from_the_checkpoint_with_one_warning(trained, tmp_path, how):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    _damage(run / "generator.weights.h5", how, _other_models_weights(tmp_path))
    result = _invert(run, "--experiment", "table1", "--set", "invert.steps=10", "--set", "invert.steps_per_call=5",
                     "--set", "polish.method=none")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in project_lines(result.stderr) if line.startswith("warning:")]
    assert len(warnings) == 1 and "rebuilt it from" in warnings[0], result.stderr
    assert (run / "results" / "table1.json").exists()
