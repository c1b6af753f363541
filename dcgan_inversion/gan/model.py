"""The models by name: the generator, discriminator and encoder of a run's `model` config.

The architecture (`model.architecture`, gan/architectures/) builds G and D; the encoder is D's
trunk followed by a dense layer to z_dim and a range that follows the latent prior (tanh onto the
prior's box). The generator maps z to an image in [-1, 1]; the paper inverts it (Sec. 2).
"""
from __future__ import annotations

import keras
from keras import layers

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.gan.architectures import architecture
from dcgan_inversion.gan.architectures.blocks import generator_channels, num_stages  # noqa: F401 - re-exported
from dcgan_inversion.gan.latents import latent_prior


def make_generator(config: ModelConfig, name: str = "generator", synchronized: bool = False) -> keras.Model:
    """The architecture's generator: z -> image in [-1, 1]."""
    return architecture(config).generator(config, name, synchronized)


def make_discriminator(config: ModelConfig, name: str = "discriminator", synchronized: bool = False) -> keras.Model:
    """The architecture's discriminator: image -> one logit."""
    return architecture(config).discriminator(config, name, synchronized)


def make_encoder(config: ModelConfig, name: str = "encoder") -> keras.Model:
    """image -> the discriminator's trunk -> dense z_dim -> tanh onto the prior's box: an amortised
    guess of z' that is always a valid start (for the paper's U(-1, 1), tanh itself)."""
    image = keras.Input(shape=(config.image_size, config.image_size, config.channels), name="image")
    features = architecture(config).trunk(image, config, False)
    z = layers.Dense(config.z_dim, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="z")(features)
    z = layers.Activation("tanh", name="z_range")(z)
    low, high = latent_prior(config).box
    if (low, high) != (-1.0, 1.0):
        z = layers.Rescaling((high - low) / 2, offset=(high + low) / 2, name="z_box")(z)
    return keras.Model(image, z, name=name)


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
