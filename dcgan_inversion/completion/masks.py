"""Which pixels of an image are known: Amos's mask types, centre squares of any size, and the
user's own mask images (white = known).

A `Mask` is what the completion observes of an image: the known pixels (1 = known, broadcast over
the channels), or for `lowres` nothing at full resolution and the n x n average-pooled image instead.
Mask files are checked where they are read: a wrong size, an all-black image or an unreadable
file is one line naming the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion.config import MASKS, CompletionConfig
from dcgan_inversion.infra.errors import UserError


@dataclass(frozen=True)
class Mask:
    name: str                       # center, left, ..., center-30%, or the mask file's stem
    known: np.ndarray               # (H, W, 1) float32, 1 = known pixel
    lowres_factor: int | None = None  # lowres: the image is seen only average-pooled by this factor

    @property
    def hidden(self) -> np.ndarray:
        """(H, W, 1) bool: the pixels the completion fills in (everything, for lowres)."""
        return self.known < 0.5

    @property
    def hidden_fraction(self) -> float:
        return float(self.hidden.mean())


def make_mask(kind: str, size: int, config: CompletionConfig, seed: int = 0) -> Mask:
    """One of Amos's masks (REFERENCE "Amos's image completion") for `size` x `size` images."""
    known = np.ones((size, size, 1), np.float32)
    if kind == "center":
        low, high = int(size * config.center_scale), int(size * (1.0 - config.center_scale))
        known[low:high, low:high] = 0.0
    elif kind == "left":
        known[:, : size // 2] = 0.0
    elif kind == "random":  # one draw for every image of a run, as Amos drew it once per batch
        known[np.random.default_rng(seed).random((size, size)) < config.random_fraction] = 0.0
    elif kind == "grid":
        known[:] = 0.0
        known[:: config.grid_step, :: config.grid_step] = 1.0
    elif kind == "lowres":
        if size % config.lowres_factor:
            raise UserError(f"completion.lowres_factor {config.lowres_factor} does not divide the image size {size}")
        return Mask(kind, np.zeros_like(known), config.lowres_factor)
    elif kind != "full":
        raise UserError(f"unknown mask '{kind}': expected one of {', '.join(MASKS)} or a mask image (.png)")
    return Mask(kind, known)


def centre_square(fraction: float, size: int) -> Mask:
    """The centred square hiding about `fraction` of the pixels (the experiment's sweep)."""
    side = int(round(size * np.sqrt(fraction)))
    low = (size - side) // 2
    known = np.ones((size, size, 1), np.float32)
    known[low:low + side, low:low + side] = 0.0
    return Mask(f"center-{round(100 * fraction)}%", known)


def read_mask(path, size: int) -> Mask:
    """A mask image of the user's: white (>= 50% grey) = known. It must have the model's size and
    show at least one pixel (all white is allowed: plain inversion)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"mask not found: {path}" if not path.exists() else f"mask is not a file: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            if image.size != (size, size):
                raise UserError(f"mask {path} is {image.size[0]}x{image.size[1]}: the model's images are {size}x{size}")
            grey = np.asarray(image.convert("L"), np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"cannot read mask {path} ({type(error).__name__})") from None
    known = (grey >= 0.5).astype(np.float32)[..., None]
    if not known.any():
        raise UserError(f"mask {path} is all black: it hides every pixel, so nothing is known to complete from "
                        "(white = known)")
    return Mask(path.stem, known)


def mask_from_argument(text: str, size: int, config: CompletionConfig, seed: int = 0) -> Mask:
    """--mask: a mask type's name, or a path to a mask image."""
    if text in MASKS:
        return make_mask(text, size, config, seed)
    if Path(text).suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".gif") or Path(text).exists():
        return read_mask(text, size)
    raise UserError(f"unknown mask '{text}': expected one of {', '.join(MASKS)} or a mask image (.png)")
