"""Pictures for a person: images side by side, upscaled for a screen, under a band naming each panel
(the pictures `--image` and `--complete` write per input image)."""
from __future__ import annotations

import math

import numpy as np

from dcgan_inversion.data.images import to_uint8

SCREEN_PIXELS = 128     # each picture is upscaled (nearest) to at least this many pixels


def labelled(picture: np.ndarray, panels=("input", "reconstruction", "|difference|")) -> np.ndarray:
    """Side-by-side panels under a white band naming them, so a picture opened alone reads."""
    from PIL import Image, ImageDraw, ImageFont

    band = max(16, picture.shape[0] // 8)
    canvas = Image.new("RGB", (picture.shape[1], picture.shape[0] + band), "white")
    canvas.paste(Image.fromarray(picture), (0, band))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default(size=band - 5)
    width = picture.shape[1] / len(panels)
    for index, text in enumerate(panels):
        draw.text((width * (index + 0.5), band / 2), text, fill="black", font=font, anchor="mm")
    return np.asarray(canvas)


def triptych(image: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Input | best reconstruction | |difference| (1.0 of difference = white), upscaled for a screen."""
    difference = np.clip(np.abs(image - reconstruction), 0.0, 1.0) * 2.0 - 1.0
    return side_by_side([image, reconstruction, difference])


def side_by_side(pictures: list[np.ndarray]) -> np.ndarray:
    """Images in [-1, 1] in a row, 2 px apart, as uint8 RGB upscaled (nearest) for a screen."""
    gap = np.ones((pictures[0].shape[0], 2, pictures[0].shape[2]), np.float32)
    parts = [part for picture in pictures for part in (picture, gap)][:-1]
    picture = to_uint8(np.concatenate(parts, axis=1))
    scale = max(1, math.ceil(SCREEN_PIXELS / pictures[0].shape[0]))
    picture = np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)
    return np.repeat(picture, 3, axis=2) if picture.shape[2] == 1 else picture
