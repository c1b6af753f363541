"""`model.architecture: keras`: the generator is the Keras file kept in the run (gan/keras_file.py),
loaded by run/models.py; it cannot be built from the config alone, and has no discriminator here."""
from __future__ import annotations

from dcgan_inversion.infra.errors import UserError


def generator(config, name: str = "generator", synchronized: bool = False):
    raise UserError("a keras run's generator is the model file kept in the run (load it with the run), and it "
                    "cannot be trained here")


def discriminator(config, name: str = "discriminator", synchronized: bool = False):
    raise UserError("a keras run has no discriminator: completion's perceptual loss, training and the encoder need "
                    "a DCGAN run")


def trunk(image, config, synchronized: bool):
    return discriminator(config)
