"""What the completion sees of G(z): the generator followed by a linear observation (the known
pixels, or the average-pooled image for `lowres`).

Completing an image with our method is then an ordinary inversion of this observed generator
against the observed image: the engine's pixel loss becomes the least-squares contextual loss,
and the Levenberg-Marquardt polish solves it directly, its layer-wise Jacobian passing through
the observation like through any other linear layer (`linear_observation`).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from dcgan_inversion.completion.masks import Mask

PSNR_FLOOR_MSE = 1e-12  # an exact fill's MSE counts as this
PSNR_CAP_DB = 10.0 * np.log10(1.0 / PSNR_FLOOR_MSE)  # so no PSNR reads above it: 120 dB


class KnownPixels(layers.Layer):
    """x -> known * x: the hidden pixels observed as 0."""

    linear_observation = True

    def __init__(self, known, **kwargs):
        super().__init__(**kwargs)
        self.known = np.asarray(known, np.float32)

    def call(self, x):
        return x * tf.constant(self.known, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def flops(self) -> int:
        return int(np.prod(self.output.shape[1:]))


class Pooled(layers.AveragePooling2D):
    """x -> its n x n average-pooled image (`lowres`)."""

    linear_observation = True

    def flops(self) -> int:
        return int(np.prod(self.input.shape[1:]))


def observation(mask: Mask) -> layers.Layer:
    if mask.lowres_factor:
        return Pooled(pool_size=mask.lowres_factor, name="observed")
    return KnownPixels(mask.known, name="observed")


def observed_generator(generator: keras.Model, mask: Mask) -> keras.Model:
    """z -> observation(G(z)), on a copy of G's layers (G itself is left as it is); a generator whose
    layers cannot be copied (a SavedModel's serving function) is observed through its own layers,
    which the observation only reads."""
    try:
        copy = keras.models.clone_model(generator)
    except (TypeError, ValueError):
        copy = generator
    else:
        copy.set_weights(generator.get_weights())
    return keras.Model(copy.inputs[0], observation(mask)(copy.outputs[0]), name=f"{generator.name}_observed")


def observe(images: np.ndarray, mask: Mask) -> np.ndarray:
    """The observation of real images (numpy), as the observed generator sees G(z)."""
    return observation(mask)(tf.constant(np.asarray(images, np.float32))).numpy()


def known_pixel_error(images: np.ndarray, targets: np.ndarray, mask: Mask) -> np.ndarray:
    """Mean squared error per image over what is known (the pooled pixels, for lowres)."""
    if mask.lowres_factor:
        return np.mean(np.square(observe(images, mask) - observe(targets, mask)), axis=(1, 2, 3))
    known = np.broadcast_to(mask.known, images.shape[1:]).astype(bool)
    return np.mean(np.square(images - targets)[:, known], axis=1)


def hidden_psnr(images: np.ndarray, truth: np.ndarray, mask: Mask) -> np.ndarray | None:
    """PSNR (dB, images in [0, 1]) per image over the hidden pixels; None when nothing is hidden. An
    exact fill has no finite PSNR: its MSE counts as PSNR_FLOOR_MSE, so it reads PSNR_CAP_DB."""
    hidden = np.broadcast_to(mask.hidden, images.shape[1:])
    if not hidden.any():
        return None
    mse = np.mean(np.square((images - truth) / 2.0)[:, hidden], axis=1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, PSNR_FLOOR_MSE))


def completed(images: np.ndarray, masked_truth: np.ndarray, mask: Mask) -> np.ndarray:
    """The known pixels of the input with G(z') in the hole (all of G(z') for lowres)."""
    return masked_truth * mask.known + images * (1.0 - mask.known)
