"""pytorch/examples' DCGAN (dcgan/main.py, and the PyTorch "DCGAN faces" tutorial) in Keras layers.

G: `ConvTranspose2d(nz, C0, 4, 1, 0, bias=False)` on the 1x1 latent, BN, ReLU; [`ConvTranspose2d(4, 2,
1, bias=False)`, BN, ReLU]*; `ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False)`, tanh. The first layer
on a 1x1 input is a bias-free dense projection to 4x4xC0 (kept as Dense + Reshape, NHWC), and TF's
'same' padding of a 4x4 stride-2 kernel on even sides pads 1 before and 1 after: torch's padding=1.
D: `Conv2d(nc, ndf, 4, 2, 1, bias=False)`, leaky ReLU 0.2; [Conv2d(4, 2, 1, bias=False), BN, leaky
ReLU]*; `Conv2d(8ndf, 1, 4, 1, 0, bias=False)`: the logit, taken before the sigmoid.
"""
from __future__ import annotations

import keras
from keras import layers

from dcgan_inversion.gan.architectures.blocks import LEAK, batch_norm, discriminator_channels, generator_channels
from dcgan_inversion.gan.architectures.blocks import hidden_activation, num_stages

KERNEL_SIZE = 4
INIT = keras.initializers.RandomNormal(stddev=0.02)  # the examples' weights_init: N(0, 0.02)


def generator(config, name: str = "generator", synchronized: bool = False) -> keras.Model:
    """z -> projection to 4x4 x C0 -> BN, ReLU -> [convT 4x4 s2, BN, ReLU]* -> convT -> tanh.

    The convs are bias-free as in pytorch/examples unless `config.conv_bias`; a conditional
    generator's projection has a bias: the one-hot class's row of its first layer (labels.py)."""
    stages = num_stages(config.image_size)
    channels = generator_channels(config)
    bias = config.conv_bias or config.labels > 0
    z = keras.Input(shape=(config.z_dim,), name="z")
    x = layers.Dense(4 * 4 * channels[0], use_bias=bias, kernel_initializer=INIT, name="project")(z)
    x = layers.Reshape((4, 4, channels[0]))(x)
    x = batch_norm("project_bn", synchronized)(x)
    x = hidden_activation(config)(x)
    for stage in range(1, stages):
        x = layers.Conv2DTranspose(channels[stage], KERNEL_SIZE, strides=2, padding="same", use_bias=config.conv_bias,
                                   kernel_initializer=INIT, name=f"deconv{stage}")(x)
        x = batch_norm(f"deconv{stage}_bn", synchronized)(x)
        x = hidden_activation(config)(x)
    x = layers.Conv2DTranspose(config.channels, KERNEL_SIZE, strides=2, padding="same", use_bias=config.conv_bias,
                               kernel_initializer=INIT, name=f"deconv{stages}")(x)
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model(z, image, name=name)


def discriminator(config, name: str = "discriminator", synchronized: bool = False) -> keras.Model:
    """image -> trunk -> a 4x4 valid conv to one channel (torch's last Conv2d): the logit."""
    image = keras.Input(shape=(config.image_size, config.image_size, config.channels), name="image")
    x = _features(image, config, synchronized)
    x = layers.Conv2D(1, KERNEL_SIZE, padding="valid", use_bias=False, kernel_initializer=INIT, name="logit")(x)
    return keras.Model(image, layers.Flatten()(x), name=name)


def trunk(image, config, synchronized: bool):
    """The discriminator's convolutions, flattened (the encoder's features)."""
    return layers.Flatten()(_features(image, config, synchronized))


def _features(image, config, synchronized: bool):
    x = image
    for stage, filters in enumerate(discriminator_channels(config)):
        x = layers.Conv2D(filters, KERNEL_SIZE, strides=2, padding="same", use_bias=False, kernel_initializer=INIT,
                          name=f"conv{stage}")(x)
        if stage > 0:
            x = batch_norm(f"conv{stage}_bn", synchronized)(x)
        x = layers.LeakyReLU(negative_slope=LEAK)(x)
    return x
