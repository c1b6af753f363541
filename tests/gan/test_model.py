import numpy as np
import pytest

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.gan.model import make_discriminator, make_generator, num_stages


def test_paper_scale_parameter_counts_match_amos():
    config = ModelConfig(image_size=64, gf_dim=64, df_dim=64)
    assert make_generator(config).count_params() == 5_137_283
    assert make_discriminator(config).count_params() == 4_318_337


def test_demo_scale_generator_is_about_466k_parameters():
    assert make_generator(ModelConfig(image_size=32, gf_dim=32, df_dim=32)).count_params() == 466_243


@pytest.mark.parametrize("size", [16, 32, 64])
def test_shapes_and_ranges(size):
    config = ModelConfig(image_size=size, gf_dim=4, df_dim=4)
    generator, discriminator = make_generator(config), make_discriminator(config)
    z = np.random.default_rng(0).uniform(-1, 1, (3, 100)).astype("float32")
    images = generator(z, training=False).numpy()
    assert images.shape == (3, size, size, 3)
    assert np.all(np.abs(images) <= 1.0)
    assert discriminator(images, training=False).shape == (3, 1)


def test_generator_layers_follow_dcgan():
    generator = make_generator(ModelConfig(image_size=64))
    deconvs = [layer for layer in generator.layers if layer.name.startswith("deconv") and not layer.name.endswith("_bn")]
    assert [layer.filters for layer in deconvs] == [256, 128, 64, 3]
    assert all(layer.kernel_size == (5, 5) and layer.strides == (2, 2) for layer in deconvs)
    norms = [layer for layer in generator.layers if layer.name.endswith("_bn")]
    assert all(layer.epsilon == 1e-5 and layer.momentum == 0.9 for layer in norms)


def test_discriminator_has_no_batch_norm_on_first_layer():
    names = [layer.name for layer in make_discriminator(ModelConfig(image_size=64)).layers]
    assert "conv0_bn" not in names and "conv1_bn" in names


def test_image_size_must_be_power_of_two_times_four():
    with pytest.raises(ValueError):
        num_stages(48)
