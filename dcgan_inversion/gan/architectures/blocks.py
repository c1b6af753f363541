"""What the DCGAN architectures share: the 4x4 base doubled per stride-2 stage, the width schedule
and the batch norm (DCGAN's: eps 1e-5, momentum 0.9 in Keras's terms, 0.1 in PyTorch's)."""
from __future__ import annotations

import math

from keras import layers

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
LEAK = 0.2


def num_stages(image_size: int) -> int:
    """Stride-2 stages between the 4x4 base and the image."""
    stages = int(math.log2(image_size // 4))
    if 4 * 2**stages != image_size:
        raise ValueError(f"image_size must be 4 * 2^k, got {image_size}")
    return stages


def batch_norm(name: str, synchronized: bool, epsilon: float = BN_EPSILON) -> layers.BatchNormalization:
    """`synchronized`: batch statistics over the global batch when training on several replicas."""
    return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=epsilon, synchronized=synchronized, name=name)


def generator_channels(config) -> tuple[int, ...]:
    """Channels of the 4x4 base and of each hidden stage: DCGAN's gf * 2^(stages-1), halving per
    stage, unless the config names its own schedule (an imported checkpoint's)."""
    stages = num_stages(config.image_size)
    return tuple(config.g_channels) or tuple(config.gf_dim * 2 ** (stages - 1 - stage) for stage in range(stages))


def discriminator_channels(config) -> tuple[int, ...]:
    """Channels of each discriminator conv: df * 2^stage."""
    return tuple(config.df_dim * 2**stage for stage in range(num_stages(config.image_size)))


def hidden_activation(config) -> layers.Layer:
    """The generator's hidden activation: ReLU (DCGAN), or leaky ReLU of slope `g_leak`."""
    if getattr(config, "g_activation", "relu") == "leaky_relu":
        return layers.LeakyReLU(negative_slope=config.g_leak)
    return layers.ReLU()
