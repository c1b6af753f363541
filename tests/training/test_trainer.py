import numpy as np
import pytest
from PIL import Image

from dcgan_inversion import config as config_lib
from dcgan_inversion import run as rundir
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.training.trainer import train

from conftest import tiny_config


def test_tiny_training_writes_everything_then_resumes(tmp_path):
    run = tmp_path / "run"
    trainer = train(tiny_config(), run, verbose=False)
    paths = rundir.RunPaths(run)
    assert int(trainer.step.numpy()) == 4
    assert trainer.manager.latest_checkpoint.endswith("ckpt-4")
    assert paths.generator_weights.exists() and paths.config.exists()
    assert any(paths.logs.iterdir())
    grid = np.asarray(Image.open(paths.latest_samples))
    assert grid.shape == (8 * 16, 8 * 16, 3)
    assert (paths.samples / "step_000002.png").exists()

    longer = config_lib.replace(tiny_config(), train={"steps": 6})
    resumed = train(longer, run, verbose=False)
    assert int(resumed.step.numpy()) == 6
    assert rundir.saved_config(run).train.steps == 6
    generator = rundir.load_generator(run)
    assert generator.output_shape == (None, 16, 16, 3)


def test_resume_restores_rng_and_weights_exactly(tmp_path):
    straight = train(config_lib.replace(tiny_config(), train={"steps": 4}), tmp_path / "a", verbose=False)
    train(config_lib.replace(tiny_config(), train={"steps": 2}), tmp_path / "b", verbose=False)
    resumed = train(config_lib.replace(tiny_config(), train={"steps": 4}), tmp_path / "b", verbose=False)
    np.testing.assert_array_equal(straight.rng.state.numpy(), resumed.rng.state.numpy())


def test_changed_model_in_existing_run_is_refused(tmp_path):
    train(tiny_config(), tmp_path, verbose=False)
    wider = config_lib.replace(tiny_config(), model={"gf_dim": 16})
    with pytest.raises(UserError, match="gf_dim=16 \\(run has 8\\)"):
        train(wider, tmp_path, verbose=False)
    with pytest.raises(UserError, match="does not match"):
        rundir.load_generator(tmp_path, wider.model)


def test_inversion_refuses_a_run_without_generator(tmp_path):
    with pytest.raises(UserError, match="no trained generator"):
        rundir.load_generator(tmp_path)


def test_same_config_and_seed_train_identical_weights(tmp_path):
    first = train(tiny_config(), tmp_path / "a", verbose=False)
    second = train(tiny_config(), tmp_path / "b", verbose=False)
    for a, b in zip(first.generator.get_weights(), second.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_pytorch_architecture_with_a_normal_prior_trains_and_loads(tmp_path):
    config = config_lib.replace(tiny_config(), model={"architecture": "pytorch_dcgan", "latent": "normal"})
    trainer = train(config, tmp_path / "run", verbose=False)
    assert int(trainer.step.numpy()) == 4
    generator = rundir.load_generator(tmp_path / "run")
    assert generator.get_layer("deconv1").kernel.shape[:2] == (4, 4) and not generator.get_layer("project").use_bias
    assert rundir.load_discriminator(tmp_path / "run").output_shape == (None, 1)
