"""Amos's DCGAN (bamos/dcgan-completion.tensorflow) as Keras 3 models.

The generator maps z in [-1, 1]^z_dim to an image in [-1, 1]; the paper inverts it (Sec. 2).
Every stride-2 stage doubles the side, starting from 4x4, so a 64 px model has four
transposed convolutions and a 32 px model three, with the widths halving towards the image.
"""
from __future__ import annotations

import math

import keras
from keras import layers

from dcgan_inversion.config import ModelConfig

KERNEL_SIZE = 5
BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
LEAK = 0.2


def num_stages(image_size: int) -> int:
    """Stride-2 stages between the 4x4 base and the image."""
    stages = int(math.log2(image_size // 4))
    if 4 * 2**stages != image_size:
        raise ValueError(f"image_size must be 4 * 2^k, got {image_size}")
    return stages


def _batch_norm(name: str, synchronized: bool) -> layers.BatchNormalization:
    """`synchronized`: batch statistics over the global batch when training on several replicas."""
    return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, synchronized=synchronized, name=name)


def generator_channels(config: ModelConfig) -> tuple[int, ...]:
    """Channels of the 4x4 base and of each hidden stage: DCGAN's gf * 2^(stages-1), halving per
    stage, unless the config names its own schedule (an imported checkpoint's)."""
    stages = num_stages(config.image_size)
    return tuple(config.g_channels) or tuple(config.gf_dim * 2 ** (stages - 1 - stage) for stage in range(stages))


def make_generator(config: ModelConfig, name: str = "generator", synchronized: bool = False) -> keras.Model:
    """z -> dense -> 4x4 x (gf * 2^(stages-1)) -> [convT, BN, ReLU]* -> convT -> tanh."""
    stages = num_stages(config.image_size)
    init = keras.initializers.RandomNormal(stddev=0.02)
    channels = generator_channels(config)
    z = keras.Input(shape=(config.z_dim,), name="z")
    x = layers.Dense(4 * 4 * channels[0], kernel_initializer=init, name="project")(z)
    x = layers.Reshape((4, 4, channels[0]))(x)
    x = _batch_norm("project_bn", synchronized)(x)
    x = layers.ReLU()(x)
    for stage in range(1, stages):
        filters = channels[stage]
        x = layers.Conv2DTranspose(
            filters, KERNEL_SIZE, strides=2, padding="same", kernel_initializer=init, name=f"deconv{stage}"
        )(x)
        x = _batch_norm(f"deconv{stage}_bn", synchronized)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(
        config.channels, KERNEL_SIZE, strides=2, padding="same", kernel_initializer=init, name=f"deconv{stages}"
    )(x)
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model(z, image, name=name)


def make_discriminator(config: ModelConfig, name: str = "discriminator", synchronized: bool = False) -> keras.Model:
    """image -> [conv, (BN), leaky ReLU]* -> dense logit; no BN on the first conv (DCGAN)."""
    image = keras.Input(shape=(config.image_size, config.image_size, config.channels), name="image")
    features = _discriminator_trunk(image, config, synchronized)
    logit = layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="logit")(features)
    return keras.Model(image, logit, name=name)


def make_encoder(config: ModelConfig, name: str = "encoder") -> keras.Model:
    """image -> the discriminator's trunk -> dense z_dim -> tanh: an amortised guess of z' (z in [-1, 1])."""
    image = keras.Input(shape=(config.image_size, config.image_size, config.channels), name="image")
    features = _discriminator_trunk(image, config, False)
    z = layers.Dense(config.z_dim, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="z")(features)
    return keras.Model(image, layers.Activation("tanh", name="z_range")(z), name=name)


def _discriminator_trunk(image, config: ModelConfig, synchronized: bool):
    """[conv 5x5 s2, (BN), leaky ReLU 0.2] per stage, widths df * 2^stage, flattened."""
    conv_init = keras.initializers.TruncatedNormal(stddev=0.02)
    x = image
    for stage in range(num_stages(config.image_size)):
        x = layers.Conv2D(
            config.df_dim * 2**stage, KERNEL_SIZE, strides=2, padding="same",
            kernel_initializer=conv_init, name=f"conv{stage}",
        )(x)
        if stage > 0:
            x = _batch_norm(f"conv{stage}_bn", synchronized)(x)
        x = layers.LeakyReLU(negative_slope=LEAK)(x)
    return layers.Flatten()(x)


def mixed_precision_copy(generator: keras.Model, policy: str = "mixed_bfloat16") -> keras.Model:
    """The same generator computing in `policy` (weights stay float32; images come out float32).

    Rebuilt from the model's own config, so it works for any generator this module makes.
    """
    config = generator.get_config()
    for layer in config["layers"]:
        if layer["class_name"] not in ("InputLayer",) and layer["config"].get("name") != "image":
            layer["config"]["dtype"] = keras.DTypePolicy(policy)
    copy = keras.Model.from_config(config)
    copy.set_weights(generator.get_weights())
    return copy


class BatchStatisticsGenerator:
    """The generator as the authors inverted it: batch norm normalises with each call's own batch.

    Their TensorFlow graph built G(z) and G(z') with batch norm in training mode, so the rows of
    a batch were coupled through the batch's mean and variance. This view runs the trained
    weights that way through `stateless_call`, which hands the updated moving averages back
    instead of assigning them: the saved generator never changes. Called like a Keras model;
    `training` is ignored (always the batch's statistics).
    """

    batch_statistics = True

    def __init__(self, generator: keras.Model):
        self.generator = generator

    def __call__(self, z, training=None):
        images, _ = self.generator.stateless_call(self.generator.trainable_variables,
                                                  self.generator.non_trainable_variables, z, training=True)
        return images

    def get_weights(self):
        return self.generator.get_weights()
