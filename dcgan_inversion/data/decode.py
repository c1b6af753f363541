"""TensorFlow-native decoding of a folder of JPEG/PNG files: the same pixels as `images.load_image`.

Decoding runs in tf.data's parallel `map`, outside Python's lock (Pillow inside
`tf.numpy_function` holds it for part of the work). Each file: decode the centre square
(`crop_size`, or the shorter side) to RGB, JPEG with the accurate integer DCT as Pillow, then
resize with PIL's bilinear filter: Amos (via carpedm20's `transform`) resized with
`scipy.misc.imresize`, whose default is PIL's bilinear filter, which widens with the scale factor
when shrinking. Measured against Pillow on real photos: at most 1 level of 255 apart (rounding).
EXIF orientation is not applied (CelebA has none); Pillow's loader applies it.
"""
from __future__ import annotations

import tensorflow as tf


def decode_image(path: tf.Tensor, image_size: int, crop_size: int) -> tf.Tensor:
    """One file -> uint8 (image_size, image_size, 3). An unreadable file raises in the pipeline."""
    contents = tf.io.read_file(path)
    image = tf.cond(tf.io.is_jpeg(contents), lambda: _jpeg_square(contents, crop_size),
                    lambda: _centre_square(tf.io.decode_png(contents, channels=3), crop_size))
    side = tf.shape(image)[0]
    weights = resampling_weights(side, image_size)
    resized = tf.einsum("ij,jkc,lk->ilc", weights, tf.cast(image, tf.float32), weights)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def _jpeg_square(contents, crop_size):
    """Decodes only the centre square (libjpeg skips the rest), with the accurate integer DCT as Pillow."""
    shape = tf.io.extract_jpeg_shape(contents)
    height, width = shape[0], shape[1]
    side = tf.minimum(crop_size, tf.minimum(height, width))
    window = tf.stack([(height - side) // 2, (width - side) // 2, side, side])
    return tf.io.decode_and_crop_jpeg(contents, window, channels=3, dct_method="INTEGER_ACCURATE")


def _centre_square(image, crop_size):
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(crop_size, tf.minimum(height, width))
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def resampling_weights(size_in, size_out: int) -> tf.Tensor:
    """(size_out, size_in) weights of PIL's bilinear resize: a triangle as wide as the scale when
    shrinking (one pixel when enlarging), centred on each output pixel, rows summing to 1.

    Applied as two small matrix products, it is `tf.image.resize(..., "bilinear", antialias=True)`
    at a fraction of the cost (measured in `make bench`).
    """
    scale = tf.cast(size_in, tf.float32) / size_out
    support = tf.maximum(scale, 1.0)
    centres = (tf.range(size_out, dtype=tf.float32) + 0.5) * scale
    positions = tf.range(tf.cast(size_in, tf.float32)) + 0.5
    weights = tf.nn.relu(1.0 - tf.abs(positions[None, :] - centres[:, None]) / support)
    return weights / tf.reduce_sum(weights, axis=1, keepdims=True)


def decoded_files(paths: list[str], image_size: int, crop_size: int) -> tf.data.Dataset:
    """(index, image) for every readable file, in order; unreadable files are left out.

    The caller sees which ones by the gaps in the indices (`ignore_errors` drops them silently).
    """
    dataset = tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), paths))
    return (dataset
            .map(lambda index, path: (index, decode_image(path, image_size, crop_size)),
                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .ignore_errors())
