"""What a recovered z is for: walks between two images' latents and vector arithmetic on them.

- A **walk** from z_a to z_b: linear, z_a + t (z_b - z_a), or spherical (slerp, for the normal prior:
  a straight line between two N(0, 1) latents passes near the origin, where the prior has almost no
  mass and the images wash out; slerp keeps the norm). Every point is kept in the run's latent box as
  standard clipping does (clamped), so G is only asked for latents the prior allows.
- **Arithmetic** as in the DCGAN paper (Radford et al., Fig. 7): each term is the mean of its images'
  recovered z' ("smiling woman" = the mean of three smiling women's z'), the terms are added and
  subtracted, and G draws the result (clamped to the box).
Both work on the recovered z' of images: how faithful a term's z' is to its images is each image's
pixel error and verdict (could G have drawn it?), reported beside the result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion.data.images import to_uint8
from dcgan_inversion.infra.errors import UserError


def walk(z_a: np.ndarray, z_b: np.ndarray, steps: int, spherical: bool, box: tuple[float, float]) -> np.ndarray:
    """`steps` latents from z_a to z_b (both ends included), clamped to `box`: (steps, z_dim)."""
    if steps < 2:
        raise UserError(f"a walk needs at least 2 steps (its two ends), got {steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    z_a, z_b = np.asarray(z_a, np.float64), np.asarray(z_b, np.float64)
    if spherical:
        cosine = np.dot(z_a, z_b) / max(np.linalg.norm(z_a) * np.linalg.norm(z_b), 1e-12)
        angle = np.arccos(np.clip(cosine, -1.0, 1.0))
        if angle < 1e-6:  # (nearly) parallel: slerp is the straight line
            path = z_a + t * (z_b - z_a)
        else:
            path = (np.sin((1 - t) * angle) * z_a + np.sin(t * angle) * z_b) / np.sin(angle)
    else:
        path = z_a + t * (z_b - z_a)
    path[0], path[-1] = z_a, z_b  # the ends exactly (slerp's are, to rounding)
    return np.clip(path, *box).astype(np.float32)


@dataclass(frozen=True)
class Term:
    """One term of an arithmetic expression: its sign and the files or folders whose z' it averages."""

    sign: int
    source: str


def parse_expression(expression: str) -> list[Term]:
    """'smiling/ - neutral_w/ + neutral_m/' -> its terms, in order (the first has sign +1 unless '-').
    Signs stand between spaces, so a file name may hold '-' or '+' (and spaces elsewhere)."""
    tokens = re.split(r"\s([+-])\s", f" {expression.strip()} ")  # term, sign, term, sign, term, ...
    first_sign = 1
    if tokens[0].strip() == "" and len(tokens) > 1:  # a leading sign
        first_sign, tokens = (-1 if tokens[1] == "-" else 1), tokens[2:]
    signs = [first_sign] + [1 if operator == "+" else -1 for operator in tokens[1::2]]
    sources = [source.strip() for source in tokens[0::2]]
    if not expression.strip() or any(not source or source in "+-" or source[:2] in ("+ ", "- ") for source in sources):
        raise UserError(f"--arithmetic '{expression}': a term is missing (terms are files or folders, separated by "
                        "' + ' and ' - ' with spaces around each sign, e.g. \"smiling/ - neutral_w/ + neutral_m/\")")
    return [Term(sign, source) for sign, source in zip(signs, sources)]


def combine(term_latents: list[np.ndarray], signs: list[int], box: tuple[float, float]) -> tuple[list, np.ndarray]:
    """Each term's mean z' and the signed sum of the means, clamped to `box`."""
    means = [np.asarray(latents, np.float64).mean(axis=0) for latents in term_latents]
    result = sum(sign * mean for sign, mean in zip(signs, means))
    return [mean.astype(np.float32) for mean in means], np.clip(result, *box).astype(np.float32)


def strip(images: np.ndarray) -> np.ndarray:
    """(n, h, w, c) in [-1, 1] -> one uint8 row of the images, 2 px apart."""
    pixels = to_uint8(images)
    n, height, width, channels = pixels.shape
    row = np.full((height, n * (width + 2) - 2, channels), 255, np.uint8)
    for index, image in enumerate(pixels):
        row[:, index * (width + 2):index * (width + 2) + width] = image
    return row


def write_gif(path: Path, images: np.ndarray, milliseconds: int = 120) -> None:
    """The walk as an animated GIF, there and back (Pillow), written atomically."""
    import io

    from PIL import Image

    from dcgan_inversion.infra.io_utils import atomic_write_bytes

    pixels = to_uint8(images)
    frames = [Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame) for frame in pixels]
    frames = frames + frames[-2:0:-1]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=milliseconds, loop=0)
    atomic_write_bytes(path, buffer.getvalue())


def arithmetic_grid(term_images: list, term_reconstructions: list, signs: list, result: np.ndarray,
                    labels: list) -> "object":
    """A figure: a row per term (its images over their reconstructions, its mean's image), then the
    result; each image titled with its pixel error and verdict."""
    from dcgan_inversion.infra.plotting import plt

    columns = max(len(images) for images in term_images) + 1
    rows = 2 * len(term_images) + 1
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.35 * rows), squeeze=False,
                                layout="constrained")
    for axis in axes.flat:
        axis.set_axis_off()
    for number, (images, reconstructions, sign) in enumerate(zip(term_images, term_reconstructions, signs)):
        for column, (image, reconstruction) in enumerate(zip(images, reconstructions)):
            show(axes[2 * number, column], image, labels[number][column])
            show(axes[2 * number + 1, column], reconstruction, "G(z')")
        axes[2 * number, 0].set_ylabel("+" if sign > 0 else "-")
        axes[2 * number, -1].text(0.5, 0.5, f"{'+' if sign > 0 else '-'} term {number + 1}", ha="center",
                                  va="center", fontsize=8, transform=axes[2 * number, -1].transAxes)
    show(axes[-1, -1], result, "result")
    axes[-1, 0].text(0.0, 0.5, "G(sum of the terms' mean z')", fontsize=8, va="center",
                     transform=axes[-1, 0].transAxes)
    return figure


def show(axis, image: np.ndarray, title: str = "") -> None:
    """One image in [-1, 1] on `axis` (grey for one channel), titled small."""
    pixels = to_uint8(image)
    axis.imshow(pixels[..., 0] if pixels.shape[-1] == 1 else pixels, cmap="gray" if pixels.shape[-1] == 1 else None,
                interpolation="nearest")
    if title:
        axis.set_title(title, fontsize=6)
