"""A vanilla GAN's generator: dense layers to the image, as teaching code writes it.

G: [`Linear(in, out)`, batch norm where `model.g_norms` says, leaky ReLU 0.2 (or ReLU)]* ->
`Linear(., C*H*W)` -> tanh, reshaped to
C x H x W in torch's row-major NCHW order, then moved to NHWC (Keras's). Hidden widths are
`model.g_channels`. Such generators come without a matching discriminator here, so training, the
discriminator and the encoder's trunk are pytorch_dcgan's convolutional ones.
"""
from __future__ import annotations

import keras
from keras import layers

from dcgan_inversion.gan.architectures import pytorch_dcgan
from dcgan_inversion.gan.architectures.blocks import batch_norm, hidden_activation

INIT = keras.initializers.RandomNormal(stddev=0.02)
DEFAULT_HIDDEN = (256, 512, 1024)


def generator(config, name: str = "generator", synchronized: bool = False) -> keras.Model:
    """z -> [dense, (batch norm), activation]* -> dense to C*H*W -> tanh -> reshape (NCHW) -> NHWC."""
    size, channels = config.image_size, config.channels
    z = keras.Input(shape=(config.z_dim,), name="z")
    x = z
    for number, width in enumerate(config.g_channels or DEFAULT_HIDDEN):
        x = layers.Dense(width, kernel_initializer=INIT, name="project" if number == 0 else f"dense{number}")(x)
        if number in config.g_norms:
            x = batch_norm(f"norm{number}", synchronized, config.g_bn_eps)(x)
        x = hidden_activation(config)(x)
    x = layers.Dense(channels * size * size, kernel_initializer=INIT, name="pixels")(x)
    x = layers.Activation("tanh", name="tanh")(x)
    x = layers.Reshape((channels, size, size))(x)
    image = layers.Permute((2, 3, 1), name="image")(x)
    return keras.Model(z, image, name=name)


def discriminator(config, name: str = "discriminator", synchronized: bool = False) -> keras.Model:
    _check_dcgan_size(config, "a discriminator")
    return pytorch_dcgan.discriminator(config, name, synchronized)


def trunk(image, config, synchronized: bool):
    _check_dcgan_size(config, "an encoder")
    return pytorch_dcgan.trunk(image, config, synchronized)


def _check_dcgan_size(config, what: str) -> None:
    """The convolutional discriminator needs a 4 x 2^k image; an MLP generator's may be 28 px."""
    from dcgan_inversion.config.schema import DCGAN_SIZES
    from dcgan_inversion.infra.errors import UserError

    if config.image_size not in DCGAN_SIZES:
        raise UserError(f"{what} for this {config.image_size} px MLP generator: the convolutional discriminator "
                        f"and encoder here take {', '.join(map(str, DCGAN_SIZES))} px images")
