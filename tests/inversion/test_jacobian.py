import keras
import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.inversion.jacobian import SubpixelConvTranspose, layerwise_jacobian
from dcgan_inversion.gan.model import BatchStatisticsGenerator, make_generator
from dcgan_inversion.inversion.levenberg_marquardt import LevenbergMarquardt


@pytest.mark.parametrize("architecture,options", [("amos", {}), ("pytorch_dcgan", {}), ("mlp", {}),
                                                  ("pytorch_dcgan", {"g_activation": "leaky_relu", "conv_bias": True})])
@pytest.mark.parametrize("image_size", [16, 32])
def test_layerwise_jacobian_matches_forward_mode_autodiff(image_size, architecture, options):
    keras.utils.set_random_seed(image_size)
    config = ModelConfig(architecture=architecture, image_size=image_size, gf_dim=8, df_dim=8,
                         g_channels=(16, 32) if architecture == "mlp" else (), **options)
    generator = make_generator(config)
    for layer in generator.layers:  # trained-looking batch norm: non-trivial scales and shifts
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_variance.assign(np.random.default_rng(1).uniform(0.2, 3.0, layer.moving_variance.shape))
            layer.gamma.assign(np.random.default_rng(2).uniform(0.5, 1.5, layer.gamma.shape))
    z = tf.constant(np.random.default_rng(0).uniform(-1, 1, (3, 100)).astype(np.float32))
    images, jacobian = layerwise_jacobian(generator)(z)
    reference = LevenbergMarquardt(generator, None).jacobian(z)
    np.testing.assert_allclose(images.numpy(), generator(z, training=False).numpy(), rtol=0, atol=1e-6)
    scale = np.abs(reference.numpy()).max()
    np.testing.assert_allclose(jacobian.numpy(), reference.numpy(), rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("stride", [2, 3])
def test_subpixel_form_equals_the_transposed_convolution(kernel_size, stride):
    layer = keras.layers.Conv2DTranspose(7, kernel_size, strides=stride, padding="same")
    x = tf.constant(np.random.default_rng(kernel_size).normal(size=(2, 5, 5, 4)).astype(np.float32))
    layer.build(x.shape)
    assert SubpixelConvTranspose.supports(layer)
    expected = layer(x) - layer.bias
    actual = SubpixelConvTranspose(layer)(layer, None, None, x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=0, atol=1e-5)


def test_models_it_cannot_read_get_none():
    inputs = keras.Input((100,))
    sigmoid = keras.Model(inputs, keras.layers.Activation("sigmoid")(keras.layers.Dense(8)(inputs)))
    activated_dense = keras.Model(inputs, keras.layers.Dense(8, activation="relu")(inputs))
    branch = keras.layers.Dense(8)(inputs)
    branching = keras.Model(inputs, keras.layers.Add()([branch, keras.layers.Dense(8)(inputs)]))
    generator = make_generator(ModelConfig(image_size=16, gf_dim=4, df_dim=4))
    for model in (sigmoid, activated_dense, branching, BatchStatisticsGenerator(generator)):
        assert layerwise_jacobian(model) is None
    assert layerwise_jacobian(generator) is not None
