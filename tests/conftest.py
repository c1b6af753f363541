"""Shared fixtures: a tiny model config so tests run the real code paths in seconds."""
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from dcgan_inversion import config as config_lib  # noqa: E402
from dcgan_inversion.infra.distribute import split_cpu  # noqa: E402
from dcgan_inversion.infra.tf_startup import line_level  # noqa: E402

# Two logical CPU devices, so mirrored strategies have two replicas to compare with one device.
# Set before any test runs an op; the default strategy keeps using the first.
split_cpu(2)


def project_lines(stderr: str) -> list[str]:
    """The non-blank stderr lines the project wrote: TensorFlow's log records (which lines it
    writes depends on the CPU, the GPU and the driver) are not counted."""
    return [line for line in stderr.splitlines() if line.strip() and line_level(line) is None]


ROOT = Path(__file__).resolve().parents[1]


def cli_command(name: str, *args, timeout: int = 600) -> subprocess.CompletedProcess:
    """`dcgan-<name>` as its console script runs it (`<name>_main` with the arguments), in a new process."""
    code = f"from dcgan_inversion.cli import {name}_main as main; main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def one_error_line(result) -> str:
    """A user mistake through the command line: exit 2, one line on stderr, no traceback."""
    lines = project_lines(result.stderr)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def tiny_config(**sections) -> config_lib.Config:
    """16 px, narrow widths, 8-image batches: the demo pipeline at test size."""
    base = config_lib.from_dict({
        "seed": 0,
        "model": {"image_size": 16, "z_dim": 100, "gf_dim": 8, "df_dim": 8, "channels": 3},
        "data": {"source": "demo", "holdout": 4},
        "train": {"batch_size": 8, "steps": 4, "epochs": None, "sample_every": 2,
                  "checkpoint_every": 2, "log_every": 1},
    })
    return config_lib.replace(base, **sections)


@pytest.fixture
def tiny():
    return tiny_config()


@pytest.fixture(scope="session")
def tiny_generator():
    """An untrained 16 px generator with fixed weights: inversion tests need only a fixed G."""
    import keras

    from dcgan_inversion.gan.model import make_generator

    keras.utils.set_random_seed(0)
    return make_generator(tiny_config().model)


@pytest.fixture(scope="session")
def tiny_problem(tiny_generator):
    """Eight true latents, their images, and starts close to them."""
    import numpy as np

    rng = np.random.default_rng(0)
    z_true = rng.uniform(-0.9, 0.9, (8, 100)).astype("float32")
    z_start = np.clip(z_true + rng.uniform(-0.1, 0.1, z_true.shape), -1, 1).astype("float32")
    return z_true, tiny_generator(z_true, training=False).numpy(), z_start


def run_invert(generator, config, targets, starts, modes, z_true=None, seed=0, group_rows=None, polish=None,
               **settings):
    """`invert` from parallel arrays, as most engine tests state their problems."""
    from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert

    problem = InversionProblem(targets, starts, modes, z_true, seed, group_rows)
    return invert(generator, problem, InversionSettings(invert=config, polish=polish, **settings))


def latest_checkpoint_step(folder) -> int:
    """The step of the newest checkpoint in `folder` (0 when there is none)."""
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(folder))
    return int(latest.rsplit("-", 1)[1]) if latest else 0


def training_command(tmp_path, config):
    """`train/train.py` on `config` (written to a YAML file) and a fresh run folder: (command, run)."""
    import sys
    from pathlib import Path

    config_file, run_dir = tmp_path / "tiny.yaml", tmp_path / "run"
    config_lib.save_config(config, config_file)
    script = Path(__file__).resolve().parents[1] / "train" / "train.py"
    return [sys.executable, str(script), "--config", str(config_file), "--run", str(run_dir)], run_dir


def assert_checkpoint_is_a_run_stopped_there(config, run_dir, step, scratch):
    """The run's newest checkpoint is at `step` and equals a run trained straight to `step`
    (weights and RNG state, bit for bit)."""
    import numpy as np

    from dcgan_inversion.training.trainer import DCGANTrainer, train

    stopped = DCGANTrainer(config, run_dir)
    assert stopped.restore() == step
    straight = train(config_lib.replace(config, train={"steps": step}), scratch, verbose=False)
    np.testing.assert_array_equal(stopped.rng.state.numpy(), straight.rng.state.numpy())
    for expected, actual in zip(straight.generator.get_weights(), stopped.generator.get_weights()):
        np.testing.assert_array_equal(actual, expected)
