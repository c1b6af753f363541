"""Real images the GAN never saw: Table 2's targets, the verdict's calibration, completion on real faces.

The folder `experiments.unseen_images` names (else the run's held-out training images; an
imported run has none), then the portraits that ship with matplotlib and scikit-image.
"""
from __future__ import annotations

import numpy as np

from dcgan_inversion.data.pipeline import heldout_images, to_model_range

# (name, loader, face box (left, top, right, bottom) or None for the centre square)
PORTRAITS = [("grace_hopper (matplotlib)", "grace_hopper", None), ("astronaut (scikit-image)", "astronaut", (150, 30, 330, 210))]


def unseen_images(config) -> tuple[np.ndarray, list[str]]:
    """(images in [-1, 1], names): the named or held-out images first, then the shipped portraits."""
    first, names = _named_unseen_images(config) if config.experiments.unseen_images else _held_out(config)
    portraits = np.stack([_portrait(config, *spec) for spec in PORTRAITS])
    return (np.concatenate([first, portraits]) if len(first) else portraits), names + [spec[0] for spec in PORTRAITS]


def portrait_count() -> int:
    return len(PORTRAITS)


def _held_out(config) -> tuple[np.ndarray, list[str]]:
    held_out = heldout_images(config)
    return held_out, [f"held-out image {i}" for i in range(len(held_out))]


def _named_unseen_images(config) -> tuple[np.ndarray, list[str]]:
    """The readable images under experiments.unseen_images (the command line named the others)."""
    from dcgan_inversion.data.images import read_user_image, sort_user_images

    files, _ = sort_user_images([config.experiments.unseen_images], config.model.image_size)
    if not files:
        return np.zeros((0, config.model.image_size, config.model.image_size, config.model.channels), np.float32), []
    pixels = np.stack([read_user_image(file, config.model.image_size) for file in files])
    return to_model_range(pixels, config.model.channels).numpy(), [file.name for file in files]


def _portrait(config, name: str, source: str, box) -> np.ndarray:
    from PIL import Image

    if source == "astronaut":
        from skimage import data as skimage_data

        image = Image.fromarray(skimage_data.astronaut())
    else:
        from matplotlib import cbook

        image = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    if box is None:
        side = min(image.size)
        box = ((image.width - side) // 2, (image.height - side) // 2, (image.width + side) // 2, (image.height + side) // 2)
    size = config.model.image_size
    pixels = np.asarray(image.crop(box).resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None))
    return to_model_range(pixels, config.model.channels).numpy()
