"""Training images as tf.data pipelines: a folder of CelebA JPEGs, or the offline demo faces.

Images come out as float32 in [-1, 1] (`x / 127.5 - 1`, as Amos), side `image_size`.
`holdout` images are kept out of training so the uniqueness experiment (Table 2) has real
faces the GAN never saw.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from dcgan_inversion.config import Config
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.data.images import UNREADABLE_IMAGE_ERRORS, list_images, load_image, split_holdout

DEMO_FACES = 100  # skimage's lfw_subset(): the first 100 of its 200 crops are faces


@dataclass
class SkippedFiles:
    """Unreadable images: the first is reported at once, the total at the end, each counted once."""

    paths: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def count(self) -> int:
        return len(self.paths)

    def add(self, path: str, reason: str) -> None:
        with self._lock:
            if not self.paths:
                print(f"warning: skipping unreadable image {path} ({reason}); further ones are counted",
                      file=sys.stderr)
            self.paths.add(path)


@dataclass
class TrainingData:
    """A repeating, shuffled, batched dataset plus what the trainer reports about it."""

    dataset: tf.data.Dataset
    num_images: int
    skipped: SkippedFiles
    description: str


def to_model_range(images_uint8, channels: int = 3) -> tf.Tensor:
    """uint8 RGB (or already grey) -> float32 in [-1, 1] with the model's number of channels."""
    images = tf.cast(images_uint8, tf.float32)
    if channels == 1 and images.shape[-1] == 3:
        images = tf.image.rgb_to_grayscale(images)
    return images / 127.5 - 1.0


def celeba_dataset(config: Config) -> TrainingData:
    files, _ = split_holdout(list_images(config.data.path or ""), config.data.holdout)
    if config.data.cache != "off":
        return cached_dataset(config, files)
    size, crop, channels = config.model.image_size, config.data.crop_size, config.model.channels
    skipped = SkippedFiles()

    def read(path_bytes):
        path = path_bytes.decode()
        try:
            return load_image(path, size, crop), True
        except UNREADABLE_IMAGE_ERRORS as error:
            skipped.add(path, type(error).__name__)
            return np.zeros((size, size, 3), np.uint8), False

    def decode(path):
        image, ok = tf.numpy_function(read, [path], (tf.uint8, tf.bool), stateful=False)
        image = tf.ensure_shape(image, (size, size, 3))
        return to_model_range(image, channels), tf.ensure_shape(ok, ())

    dataset = (
        tf.data.Dataset.from_tensor_slices([str(f) for f in files])
        .shuffle(min(len(files), config.data.shuffle_buffer), seed=config.seed, reshuffle_each_iteration=True)
        .repeat()
        .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .filter(lambda image, ok: ok)
        .map(lambda image, ok: image)
        .batch(config.train.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    return TrainingData(dataset, len(files), skipped, f"{len(files)} images under {config.data.path}")


def cached_dataset(config: Config, files: list) -> TrainingData:
    """Batches gathered from the images decoded once (cache.py): no decoding after the first pass."""
    from dcgan_inversion.data.cache import decoded_images

    size, channels, batch = config.model.image_size, config.model.channels, config.train.batch_size
    skipped = SkippedFiles()
    decoded = decoded_images(files, size, config.data.crop_size, config.data.cache, on_skip=skipped.add)
    images, count = decoded.images, len(decoded.images)
    if count == 0:
        raise UserError(f"none of the {len(files)} image files under {config.data.path} can be decoded")

    def gather(indices):
        images_uint8 = tf.numpy_function(lambda rows: images[rows], [indices], tf.uint8, stateful=False)
        return to_model_range(tf.ensure_shape(images_uint8, (batch, size, size, 3)), channels)

    dataset = (
        tf.data.Dataset.range(count)
        .shuffle(min(count, config.data.shuffle_buffer), seed=config.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch, drop_remainder=True)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    return TrainingData(dataset, count, skipped, f"{count} images under {config.data.path} ({decoded.source})")


def demo_faces(image_size: int, channels: int = 3) -> np.ndarray:
    """The 100 real LFW faces shipped in scikit-image, float32 in [-1, 1]: no network."""
    from skimage import data as skimage_data

    faces = skimage_data.lfw_subset()[:DEMO_FACES].astype(np.float32)  # (100, 25, 25) in [0, 1]
    faces = tf.image.resize(faces[..., None], (image_size, image_size), method="bicubic").numpy()
    faces = np.clip(faces * 2.0 - 1.0, -1.0, 1.0)
    return np.repeat(faces, channels, axis=-1) if channels == 3 else faces


def demo_dataset(config: Config) -> TrainingData:
    faces, _ = split_holdout(demo_faces(config.model.image_size, config.model.channels), config.data.holdout)
    dataset = (
        tf.data.Dataset.from_tensor_slices(faces)
        .shuffle(len(faces), seed=config.seed, reshuffle_each_iteration=True)
        .repeat()
        .map(lambda image: tf.image.random_flip_left_right(image, seed=config.seed))
        .batch(config.train.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    return TrainingData(dataset, len(faces), SkippedFiles(), f"{len(faces)} demo faces (scikit-image LFW subset)")


def training_data(config: Config) -> TrainingData:
    return celeba_dataset(config) if config.data.source == "celeba" else demo_dataset(config)


def heldout_images(config: Config) -> np.ndarray:
    """The real images training never saw, in [-1, 1], for Table 2; unreadable ones are left out."""
    size, channels = config.model.image_size, config.model.channels
    if config.data.source == "demo":
        return split_holdout(demo_faces(size, channels), config.data.holdout)[1]
    if not config.data.path:  # an imported run: no training data beside it
        return np.zeros((0, size, size, channels), np.float32)
    images = []
    for path in split_holdout(list_images(config.data.path), config.data.holdout)[1]:
        try:
            images.append(load_image(path, size, config.data.crop_size))
        except UNREADABLE_IMAGE_ERRORS:
            continue
    if not images:
        return np.zeros((0, size, size, channels), np.float32)
    return to_model_range(np.stack(images), channels).numpy()
