"""Parity: a PyTorch DCGAN state dict, imported, computes what PyTorch's layers compute.

The reference is tests/torch_format.py's NumPy implementation of ConvTranspose2d, Conv2d and
BatchNorm2d from their definitions; the files are written by its own writer (no torch)."""
import numpy as np
import pytest

from dcgan_inversion.gan.imported import assign
from dcgan_inversion.gan.model import make_discriminator, make_generator
from dcgan_inversion.gan.pytorch_checkpoint import read_pytorch_checkpoint
from torch_format import (discriminator_state, generator_state, reference_discriminator, reference_generator,
                          write_torch_file)

NZ, NGF, NDF = 8, 4, 4


def _imported(tmp_path, g_state, d_state):
    write_torch_file(tmp_path / "netG_epoch_2.pth", g_state, folder="netG_epoch_2")
    write_torch_file(tmp_path / "netD_epoch_2.pth", d_state, folder="netD_epoch_2")
    weights = read_pytorch_checkpoint(tmp_path / "netG_epoch_2.pth")
    generator, discriminator = make_generator(weights.model), make_discriminator(weights.model)
    assign(generator, weights.generator)
    assign(discriminator, weights.discriminator)
    return weights, generator, discriminator


def _outputs(generator, discriminator, z, images_nchw):
    fake = generator(z, training=False).numpy()
    logits = discriminator(np.transpose(images_nchw, (0, 2, 3, 1)).astype(np.float32), training=False).numpy()
    return fake, logits


@pytest.mark.parametrize("image_size,nc", [(64, 3), (32, 1)])
def test_imported_models_compute_what_pytorch_layers_compute(tmp_path, image_size, nc):
    rng = np.random.default_rng(image_size)
    g_state, d_state = generator_state(rng, NZ, NGF, nc, image_size), discriminator_state(rng, NDF, nc, image_size)
    weights, generator, discriminator = _imported(tmp_path, g_state, d_state)
    assert (weights.model.image_size, weights.model.z_dim, weights.model.channels) == (image_size, NZ, nc)
    assert (weights.model.gf_dim, weights.model.df_dim, weights.model.architecture) == (NGF, NDF, "pytorch_dcgan")
    z = rng.standard_normal((3, NZ)).astype(np.float32)
    expected_images = reference_generator(g_state, z)                       # NCHW
    real = rng.uniform(-1, 1, (3, nc, image_size, image_size))
    fake, logits = _outputs(generator, discriminator, z, real)
    np.testing.assert_allclose(fake, np.transpose(expected_images, (0, 2, 3, 1)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits, reference_discriminator(d_state, real), rtol=1e-4, atol=1e-4)
    assert np.abs(expected_images).mean() > 0.05 and np.abs(logits).mean() > 0.01  # not a trivial output


MUTATIONS = {
    "a kernel flipped": lambda w: w[:, :, ::-1, ::-1],
    "a kernel's spatial axes transposed": lambda w: np.swapaxes(w, 2, 3),
    "in and out channels exchanged": lambda w: np.swapaxes(w, 0, 1),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_the_comparison_catches_a_wrong_conversion(tmp_path, mutation):
    """Each conversion mistake an importer can make changes the outputs far beyond the tolerance."""
    rng = np.random.default_rng(1)
    g_state, d_state = generator_state(rng, NZ, NGF, 3, 64), discriminator_state(rng, NDF, 3, 64)
    g_wrong, d_wrong = dict(g_state), dict(d_state)
    g_key, d_key = "main.6.weight", "main.5.weight"     # a hidden layer of each network
    g_wrong[g_key] = np.ascontiguousarray(MUTATIONS[mutation](g_state[g_key]))
    d_wrong[d_key] = np.ascontiguousarray(MUTATIONS[mutation](d_state[d_key]))
    if g_wrong[g_key].shape != g_state[g_key].shape:    # exchanged channels, read back in the stored shape
        g_wrong[g_key] = g_wrong[g_key].reshape(g_state[g_key].shape)
        d_wrong[d_key] = d_wrong[d_key].reshape(d_state[d_key].shape)
    _, generator, discriminator = _imported(tmp_path, g_wrong, d_wrong)
    z = rng.standard_normal((3, NZ)).astype(np.float32)
    real = rng.uniform(-1, 1, (3, 3, 64, 64))
    fake, logits = _outputs(generator, discriminator, z, real)
    assert np.abs(fake - np.transpose(reference_generator(g_state, z), (0, 2, 3, 1))).max() > 1e-2
    assert np.abs(logits - reference_discriminator(d_state, real)).max() > 1e-3


def test_nchw_read_as_nhwc_is_caught():
    """The first layer's dense kernel in NCHW order instead of NHWC gives another image."""
    rng = np.random.default_rng(2)
    state = generator_state(rng, NZ, NGF, 3, 16)
    first = state["main.0.weight"]
    nhwc = np.transpose(first, (0, 2, 3, 1)).reshape(NZ, -1)
    nchw = first.reshape(NZ, -1)
    z = rng.standard_normal((2, NZ))
    assert np.abs(z @ nhwc - z @ nchw).max() > 1e-2
