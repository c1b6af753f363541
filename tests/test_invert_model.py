"""`di.invert_model`: any Keras generator, built like keras-io's DCGAN example (N(0, 1) latents, leaky
ReLUs, a sigmoid conv to [0, 1]), inverted with a prior the caller names."""
import keras
import numpy as np
import pytest
from keras import layers

import dcgan_inversion as di
from dcgan_inversion.infra.errors import UserError

Z_DIM = 12


def keras_io_like_generator():
    """keras-io's dcgan_overriding_train_step generator, at 16 px and narrow."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input(shape=(Z_DIM,)),
        layers.Dense(4 * 4 * 16),
        layers.Reshape((4, 4, 16)),
        layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
    ], name="generator")


def test_a_keras_io_generator_is_inverted_by_autodiff_and_says_so():
    generator = keras_io_like_generator()
    z = np.random.default_rng(0).standard_normal((2, Z_DIM)).astype(np.float32)
    images = generator(z).numpy()
    found = di.invert_model(generator, images, prior="normal", image_range=(0, 1), starts=2)
    assert found.jacobian == "autodiff"
    assert found.z.shape == (2, Z_DIM) and found.reconstructions.shape == images.shape
    assert np.all(found.pixel_error < 1e-8), found.pixel_error
    assert np.all(np.abs(found.z) < 4.5)  # inside the normal prior's clip box


def test_a_generator_of_known_layers_uses_the_layerwise_jacobian():
    from dcgan_inversion.config import ModelConfig
    from dcgan_inversion.gan.model import make_generator

    keras.utils.set_random_seed(0)
    generator = make_generator(ModelConfig(architecture="pytorch_dcgan", image_size=16, z_dim=Z_DIM, gf_dim=4,
                                           df_dim=4))
    z = np.random.default_rng(1).uniform(-0.9, 0.9, (1, Z_DIM)).astype(np.float32)
    found = di.invert_model(generator, generator(z).numpy(), prior="uniform", starts=1)
    assert found.jacobian == "layerwise" and found.pixel_error[0] < 1e-8


def test_images_outside_the_stated_range_are_one_line():
    generator = keras_io_like_generator()
    with pytest.raises(UserError, match=r"in \[0, 1\]"):
        di.invert_model(generator, np.full((1, 16, 16, 3), -0.5, np.float32), prior="normal", image_range=(0, 1))
    with pytest.raises(UserError, match="prior must be"):
        di.invert_model(generator, np.zeros((1, 16, 16, 3), np.float32), prior="laplace")
