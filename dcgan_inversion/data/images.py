"""Reading image files with Pillow: listing a folder, decoding any mode to RGB, cropping.

Kept free of TensorFlow so the command line can check a data folder (and fail with one line)
before the slow TensorFlow import.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from dcgan_inversion.infra.text import printable
from dcgan_inversion.infra.errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# What Pillow raises for a truncated, corrupt or non-image file (UnidentifiedImageError is an OSError).
UNREADABLE_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def list_images(folder: str | Path) -> list[Path]:
    """All .jpg/.jpeg/.png files under `folder`, sorted so runs are reproducible."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise UserError(f"data folder not found: {root}")
    if not root.is_dir():
        raise UserError(f"data path is not a folder: {root}")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise UserError(f"no .jpg/.jpeg/.png images found under {root}")
    return files


NUMBERED_OUTPUTS = ("[0-9][0-9][0-9]-*.png", "[0-9][0-9][0-9]-*.z.npy")  # what is written per NNN-<name>


def collect_image_files(paths) -> list[tuple[Path, str]]:
    """(file, output name) for every image named, or under a named folder; output names never
    collide, even for same-named files from different folders."""
    files = []
    for path in map(Path, paths):
        files += list_images(path) if path.is_dir() else [check_image_file(path)]
    return [(file, f"{index:03d}-{printable(file.stem)}") for index, file in enumerate(files, 1)]


def sort_user_images(paths, size: int) -> tuple[list[Path], list[str]]:
    """The image files named (or under named folders) that can be inverted, and one line for each
    path that cannot, so one bad file among many neither stops the others nor hides the other bad ones."""
    files, problems = [], []
    for path in map(Path, paths):
        try:
            files += list_images(path) if path.is_dir() else [check_image_file(path)]
        except UserError as error:
            problems.append(str(error))
    readable = []
    for file in files:
        try:
            read_user_image(file, size)
            readable.append(file)
        except UserError as error:
            problems.append(str(error))
    return readable, problems


def require_a_readable_image(files: list[Path]) -> None:
    """Training needs at least one decodable image (it skips the others), or it would wait forever.

    Stops at the first readable file, so a normal folder costs one decode.
    """
    first_error = None
    for path in files:
        try:
            load_image(path, 4, 4)
            return
        except UNREADABLE_IMAGE_ERRORS as error:
            first_error = first_error or f"{path.name}: {type(error).__name__}"
    raise UserError(f"none of the {len(files)} image files under {Path(files[0]).parent} can be read "
                    f"(e.g. {first_error})")


def check_image_file(path: str | Path) -> Path:
    """A path the user named as an image must be an existing file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"image not found: {path}")
    if path.is_dir():
        raise UserError(f"expected an image file, got a folder: {path}")
    return path


def read_user_image(path: str | Path, size: int) -> np.ndarray:
    """An image the user asked to invert: uint8 (size, size, 3), its centre square resized.

    Missing, unreadable and too-small files are a `UserError`, so the command line can check
    them before TensorFlow loads.
    """
    path = check_image_file(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
        if min(width, height) < size:
            raise UserError(f"{path} is {width}x{height}: smaller than the model's {size}x{size}")
        return load_image(path, size, crop_size=min(width, height))
    except UNREADABLE_IMAGE_ERRORS as error:
        raise UserError(f"cannot read image {path} ({type(error).__name__})") from None


def load_image(path: str | Path, image_size: int, crop_size: int) -> np.ndarray:
    """One file -> uint8 RGB (image_size, image_size, 3): centre crop, then bilinear resize.

    Amos resized with `scipy.misc.imresize`, i.e. PIL's bilinear filter (antialiased when
    shrinking); decode.py does the same in TensorFlow. Pillow converts every mode (grayscale,
    palette, RGBA, CMYK, 16-bit) to RGB; images smaller than the crop are cropped to their
    shorter side instead.
    """
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            image = Image.fromarray((np.asarray(image, dtype=np.float64) / 256).clip(0, 255).astype(np.uint8))
        image = image.convert("RGB")
        side = min(crop_size, *image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR, reducing_gap=None)
        return np.asarray(image, dtype=np.uint8)


def split_holdout(files: list, holdout: int) -> tuple[list, list]:
    """The last `holdout` entries are never trained on."""
    if holdout >= len(files):
        raise UserError(f"data.holdout={holdout} leaves no training images (only {len(files)} found)")
    return (files[: len(files) - holdout], files[len(files) - holdout:]) if holdout else (files, [])


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 pixels, for PNGs."""
    return np.clip((np.asarray(images) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


SAMPLE_GRID = 8  # 8x8 fixed-z sample grid, as Amos


def image_grid(images: np.ndarray, columns: int = SAMPLE_GRID) -> np.ndarray:
    """(N, H, W, C) in [-1, 1] -> one uint8 tiled image."""
    images = to_uint8(images)
    count, height, width, channels = images.shape
    rows = math.ceil(count / columns)
    grid = np.zeros((rows * height, columns * width, channels), np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    return grid
