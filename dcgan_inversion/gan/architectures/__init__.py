"""The generator and discriminator architectures, one module each, chosen by `model.architecture`.

Every module builds the same three things from a `ModelConfig` (compare_gan's `architectures/`
is the model): `generator(config, name, synchronized)` z -> image in [-1, 1], `discriminator(config,
name, synchronized)` image -> one logit, and `trunk(image, config, synchronized)`, the
discriminator's features that the encoder reuses. Both share the layer names the rest of the
package reads (`project`, `project_bn`, `deconv{k}`, `deconv{k}_bn`, `image`; `conv{k}`, `conv{k}_bn`,
`logit`), so the layer-wise Jacobian, the counted cost and the checkpoint importers work on each.
"""
from __future__ import annotations

from dcgan_inversion.gan.architectures import amos, keras_file, mlp, pytorch_dcgan

ARCHITECTURES = {"amos": amos, "pytorch_dcgan": pytorch_dcgan, "mlp": mlp, "keras": keras_file}


def architecture(config):
    """The module that builds `config.model.architecture` (a `ModelConfig` or a `Config`)."""
    model = getattr(config, "model", config)
    return ARCHITECTURES[model.architecture]
