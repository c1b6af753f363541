"""`make bench`, input pipeline: images/s of the CelebA loaders on one CelebA-shaped folder.

Pillow inside `tf.numpy_function` (data.cache: off), the TensorFlow-native decode that builds
the cache (decode.py), and batches read back from a cache folder, all on the same 178x218 JPEGs
in one run, beside the images/s a 64 px training step consumes.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dcgan_inversion import config as config_lib
from dcgan_inversion.data.celeba_like import make_folder
from dcgan_inversion.data.pipeline import training_data
from dcgan_inversion.data.decode import decoded_files

BATCH = 64


def input_pipeline(images: int, log, image_size: int = 64, crop_size: int = 108) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        folder, cache = Path(scratch) / "img_align_celeba", Path(scratch) / "cache"
        files = make_folder(folder, images)
        config = config_lib.from_dict({
            "model": {"image_size": image_size},
            "data": {"source": "celeba", "path": str(folder), "holdout": 0, "crop_size": crop_size},
            "train": {"batch_size": BATCH}})
        result = {"images": images, "image_size": image_size,
                  "pillow_per_s": _dataset_rate(training_data(config).dataset, images)}
        native = decoded_files([str(f) for f in files], image_size, crop_size).map(lambda index, image: image)
        result["native_per_s"] = _dataset_rate(native.repeat().batch(BATCH), images)
        cached = config_lib.replace(config, data={"cache": str(cache)})
        training_data(cached)  # builds the cache folder (not timed): later epochs and runs read it
        result["cache_per_s"] = _dataset_rate(training_data(cached).dataset, images)
    for name in ("pillow", "native", "cache"):
        log(f"input pipeline ({images} 178x218 JPEGs -> {image_size} px): {name} {result[name + '_per_s']:.0f} images/s")
    return result


def _dataset_rate(dataset, images: int) -> float:
    """Images/s over two passes' worth of batches, after the first batch (start-up) is taken."""
    iterator = iter(dataset)
    next(iterator)
    batches = max(2, 2 * images // BATCH)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * BATCH / (time.perf_counter() - started)


def markdown(result: dict, training: dict | None) -> list[str]:
    pillow = result["pillow_per_s"]
    when = f", measured {result['date']}" if "date" in result else ""
    lines = ["", f"Input pipeline ({result['images']} CelebA-shaped 178x218 JPEGs, {result['image_size']} px, "
             f"batches of 64{when}):", "", "| loader | images/s | vs Pillow |", "|---|---|---|"]
    for name, label in (("pillow", "Pillow in tf.numpy_function (data.cache: off)"),
                        ("native", "TensorFlow-native decode (builds the cache)"),
                        ("cache", "decoded cache (data.cache: a folder), later epochs and runs")):
        lines.append(f"| {label} | {result[name + '_per_s']:.0f} | {result[name + '_per_s'] / pillow:.1f}x |")
    step = (training or {}).get("paper 64px gf64")
    if step:
        lines += ["", f"A 64 px training step consumes {step['images_per_s']:.0f} images/s here: the cache supplies "
                  f"{result['cache_per_s'] / step['images_per_s']:.0f}x that, Pillow "
                  f"{pillow / step['images_per_s']:.0f}x."]
    return lines
