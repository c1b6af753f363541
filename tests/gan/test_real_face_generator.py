"""The real `gan-face-generate` weights: imported, they compute what PyTorch's layers compute (slow:
the first run downloads the 13 MB wheel with pip; skipped where the package index cannot be reached)."""
import numpy as np
import pytest

from dcgan_inversion.infra.errors import UserError
from torch_format import reference_generator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def weights_file():
    from dcgan_inversion.pretrained import fetch

    try:
        return fetch(quiet=True)
    except UserError as error:
        if "cannot download" in str(error):
            pytest.skip(str(error))
        raise


def test_the_real_generator_matches_pytorch_layers(weights_file):
    from dcgan_inversion.gan.imported import assign
    from dcgan_inversion.gan.model import make_generator
    from dcgan_inversion.gan.pytorch_checkpoint import read_pytorch_checkpoint
    from dcgan_inversion.gan.torch_file import read_torch_file

    state = read_torch_file(weights_file)["netG_state_dict"]
    weights = read_pytorch_checkpoint(weights_file)
    assert (weights.model.image_size, weights.model.z_dim, weights.model.gf_dim, weights.model.channels) == \
        (64, 100, 64, 3) and weights.discriminator is None
    generator = make_generator(weights.model)
    assign(generator, weights.generator)
    z = np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)
    expected = np.transpose(reference_generator(state, z), (0, 2, 3, 1))
    np.testing.assert_allclose(generator(z, training=False).numpy(), expected, rtol=1e-4, atol=2e-5)
    assert expected.std() > 0.2  # real images, not a constant
