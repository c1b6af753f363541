"""Completing images: the observed generator's Jacobian, our method on the known pixels, Amos's
Adam and HMC, and what a completion writes."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_config
from dcgan_inversion.completion.complete import complete
from dcgan_inversion.completion.masks import make_mask
from dcgan_inversion.completion.observe import known_pixel_error, observed_generator
from dcgan_inversion.completion.outputs import write_completion
from dcgan_inversion.config import replace
from dcgan_inversion.inversion.cost import forward_flops
from dcgan_inversion.inversion.jacobian import layerwise_jacobian
from dcgan_inversion.inversion.result import latent_error

CONFIG = replace(tiny_config(), invert={"steps": 300, "learning_rate": 0.03}, polish={
    "method": "layerwise_lm", "iterations": 12}, search={"switch": "stalled"},
    completion={"iterations": 30, "out_interval": 10, "starts": 2, "hmc_steps": 3})


@pytest.fixture(scope="module")
def targets(tiny_generator):
    z = np.random.default_rng(5).uniform(-0.8, 0.8, (2, 100)).astype(np.float32)
    return z, tiny_generator(z, training=False).numpy()


@pytest.mark.parametrize("kind", ["center", "lowres"])
def test_the_observed_generators_layerwise_jacobian_is_autodiffs(tiny_generator, kind):
    config = replace(CONFIG, completion={"lowres_factor": 4})
    observed = observed_generator(tiny_generator, make_mask(kind, 16, config.completion))
    jacobian = layerwise_jacobian(observed)
    assert jacobian is not None
    z = tf.constant(np.random.default_rng(0).uniform(-1, 1, (2, 100)).astype(np.float32))
    _, layerwise = jacobian(z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        images = observed(z, training=False)
    autodiff = tf.reshape(tape.batch_jacobian(images, z), layerwise.shape)
    np.testing.assert_allclose(layerwise.numpy(), autodiff.numpy(), atol=1e-5)
    assert forward_flops(observed) > forward_flops(tiny_generator)  # the observation is counted


def test_our_method_recovers_the_latent_from_the_known_pixels(tiny_generator, targets):
    """(The tiny untrained generator recovers the second target's latent from no start even from the
    whole image: its first one is the test.)"""
    z_true, images = targets[0][:1], targets[1][:1]
    mask = make_mask("center", 16, CONFIG.completion)
    found = complete(tiny_generator, None, CONFIG, images, mask, "ours", mode="stochastic")
    assert latent_error(found.z, z_true).max() < 1e-8
    assert known_pixel_error(found.reconstructions, images, mask).max() < 1e-10
    assert [label for label, _ in found.frames] == [0, 1, 2]


@pytest.mark.parametrize("run_polish, used", [("broyden_lm", "layerwise_lm"), ("none", "none")])
def test_the_known_pixels_get_the_completions_polish(tiny_generator, targets, monkeypatch, run_polish, used):
    """completion.polish replaces the run's polish method (fresh Jacobians by default: masked problems
    are ill-conditioned), unless the run asks for no polish at all."""
    from dcgan_inversion.completion import complete as completion_module

    seen, real = [], completion_module.best_of_starts

    def recording(generator, config, *args, **kwargs):
        seen.append(config.polish.method)
        return real(generator, config, *args, **kwargs)

    monkeypatch.setattr(completion_module, "best_of_starts", recording)
    config = replace(CONFIG, invert={"steps": 20}, polish={"method": run_polish, "iterations": 2})
    complete(tiny_generator, None, config, targets[1][:1], make_mask("center", 16, config.completion), "ours")
    assert seen == [used]


def test_amos_adam_lowers_his_loss_and_keeps_z_in_the_box(tiny_generator, targets):
    from dcgan_inversion.gan.model import make_discriminator

    _, images = targets
    discriminator = make_discriminator(CONFIG.model)
    mask = make_mask("left", 16, CONFIG.completion)
    found = complete(tiny_generator, discriminator, CONFIG, images, mask, "amos", approach="adam")
    assert found.details["final_loss"] < 0.9 * found.details["first_loss"]
    assert np.abs(found.z).max() <= 1.0
    assert [label for label, _ in found.frames] == [0, 10, 20]


def test_amos_hmc_samples_completions_in_the_box(tiny_generator, targets):
    _, images = targets
    found = complete(tiny_generator, None, CONFIG, images, make_mask("center", 16, CONFIG.completion), "amos",
                     approach="hmc")
    assert 0.0 <= found.details["acceptance"] <= 1.0
    assert np.abs(found.z).max() <= 1.0 and np.isfinite(found.known_error).all()


def test_a_completion_writes_amos_outputs_and_ours(tiny_generator, targets, tmp_path):
    from PIL import Image

    _, images = targets
    mask = make_mask("center", 16, CONFIG.completion)
    found = complete(tiny_generator, None, CONFIG, images, mask, "amos", approach="adam")
    entries = [(tmp_path / "a.png", "001-a"), (tmp_path / "b.png", "002-b")]
    rows = write_completion(tmp_path / "out", entries, images, mask, found, CONFIG)
    out = tmp_path / "out"
    for name in ("before.png", "masked.png", "completed.png", "completion.gif", "summary.csv", "summary.json",
                 "001-a.png", "002-b.z.npy", "hats_imgs/0010.png", "completed/0020.png"):
        assert (out / name).exists(), name
    assert Image.open(out / "completion.gif").n_frames == 3
    assert rows[0]["hidden_psnr_db"] is not None and rows[0]["known_pixel_mse"] >= 0
