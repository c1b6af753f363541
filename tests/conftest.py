"""Shared fixtures: a tiny model config so tests run the real code paths in seconds."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from dcgan_inversion import config as config_lib  # noqa: E402
from dcgan_inversion.distribute import split_cpu  # noqa: E402

# Two logical CPU devices, so mirrored strategies have two replicas to compare with one device.
# Set before any test runs an op; the default strategy keeps using the first.
split_cpu(2)


def one_error_line(result) -> str:
    """A user mistake through the command line: exit 2, one line on stderr, no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
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

    from dcgan_inversion.model import make_generator

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
