"""A CelebA-shaped folder (178x218 JPEGs, named like img_align_celeba/) cut from the photos that
ship with scikit-image and matplotlib: the CelebA path tested and benchmarked offline.

    python -m dcgan_inversion.data.celeba_like data/celeba_like 500
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 178, 218  # CelebA's aligned images


def _photos() -> list[Image.Image]:
    from matplotlib import cbook
    from skimage import data

    photos = [Image.fromarray(array) for array in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as hopper:
        photos.append(hopper.convert("RGB"))
    return photos


def make_folder(folder, count: int, seed: int = 0) -> list[Path]:
    """`count` JPEGs: random windows of random scale from the photos, resized to 178x218."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = _photos()
    written = []
    for index in range(count):
        photo = photos[index % len(photos)]
        scale = rng.uniform(0.4, 1.0)
        width = int(min(photo.width, photo.height * WIDTH / HEIGHT) * scale)
        height = int(width * HEIGHT / WIDTH)
        left, top = rng.integers(0, photo.width - width + 1), rng.integers(0, photo.height - height + 1)
        image = photo.crop((left, top, left + width, top + height)).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = folder / f"{index + 1:06d}.jpg"
        image.save(path, quality=95)
        written.append(path)
    return written


if __name__ == "__main__":
    make_folder(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500)
    print(f"wrote {sys.argv[1]}")
