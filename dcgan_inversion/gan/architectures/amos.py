"""Amos's DCGAN (bamos/dcgan-completion.tensorflow, carpedm20's ops): the paper's generator family.

G: z -> dense (with bias) -> 4x4 x (gf * 2^(stages-1)) -> BN, ReLU -> [5x5 stride-2 transposed conv
with bias, BN, ReLU]* -> 5x5 transposed conv -> tanh. D: [5x5 stride-2 conv with bias, (BN from the
second), leaky ReLU 0.2]* -> flatten -> dense logit.
"""
from __future__ import annotations

import keras
from keras import layers

from dcgan_inversion.gan.architectures.blocks import LEAK, batch_norm, generator_channels, num_stages

KERNEL_SIZE = 5


def generator(config, name: str = "generator", synchronized: bool = False) -> keras.Model:
    """z -> dense -> 4x4 x (gf * 2^(stages-1)) -> [convT, BN, ReLU]* -> convT -> tanh."""
    stages = num_stages(config.image_size)
    init = keras.initializers.RandomNormal(stddev=0.02)
    channels = generator_channels(config)
    z = keras.Input(shape=(config.z_dim,), name="z")
    x = layers.Dense(4 * 4 * channels[0], kernel_initializer=init, name="project")(z)
    x = layers.Reshape((4, 4, channels[0]))(x)
    x = batch_norm("project_bn", synchronized)(x)
    x = layers.ReLU()(x)
    for stage in range(1, stages):
        filters = channels[stage]
        x = layers.Conv2DTranspose(
            filters, KERNEL_SIZE, strides=2, padding="same", kernel_initializer=init, name=f"deconv{stage}"
        )(x)
        x = batch_norm(f"deconv{stage}_bn", synchronized)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(
        config.channels, KERNEL_SIZE, strides=2, padding="same", kernel_initializer=init, name=f"deconv{stages}"
    )(x)
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model(z, image, name=name)


def discriminator(config, name: str = "discriminator", synchronized: bool = False) -> keras.Model:
    """image -> [conv, (BN), leaky ReLU]* -> dense logit; no BN on the first conv (DCGAN)."""
    image = keras.Input(shape=(config.image_size, config.image_size, config.channels), name="image")
    features = trunk(image, config, synchronized)
    logit = layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="logit")(features)
    return keras.Model(image, logit, name=name)


def trunk(image, config, synchronized: bool):
    """[conv 5x5 s2, (BN), leaky ReLU 0.2] per stage, widths df * 2^stage, flattened."""
    conv_init = keras.initializers.TruncatedNormal(stddev=0.02)
    x = image
    for stage in range(num_stages(config.image_size)):
        x = layers.Conv2D(
            config.df_dim * 2**stage, KERNEL_SIZE, strides=2, padding="same",
            kernel_initializer=conv_init, name=f"conv{stage}",
        )(x)
        if stage > 0:
            x = batch_norm(f"conv{stage}_bn", synchronized)(x)
        x = layers.LeakyReLU(negative_slope=LEAK)(x)
    return layers.Flatten()(x)
