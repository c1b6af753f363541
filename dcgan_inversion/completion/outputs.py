"""What `--complete` writes, named as Amos's complete.py names it, plus what his lacks:

    before.png, masked.png, completed.png   the images, the inputs as masked, known pixels + G(z') (8 a row)
    hats_imgs/NNNN.png, completed/NNNN.png  G(z') and the completion at each saved frame
    completion.gif                          the completed/ frames as one animation
    NNN-<name>.png                          per image: input | masked | completion | G(z'), labelled
    NNN-<name>.z.npy                        z'
    summary.csv, summary.json               per image: error on the known pixels, hidden-region PSNR
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan_inversion import config as config_lib
from dcgan_inversion.completion.complete import Completion
from dcgan_inversion.completion.masks import Mask
from dcgan_inversion.completion.observe import completed, hidden_psnr, observe
from dcgan_inversion.data.images import NUMBERED_OUTPUTS, image_grid
from dcgan_inversion.infra.io_utils import atomic_write_bytes, write_csv, write_json, write_npy, write_png
from dcgan_inversion.data.pictures import labelled, side_by_side
from dcgan_inversion.records import remove_earlier_outputs

GIF_FRAME_MS = 250
PANELS = ("input", "masked", "completion", "G(z')")


def shown_masked(images: np.ndarray, mask: Mask) -> np.ndarray:
    """The input as the completion sees it: hidden pixels grey (0), or for lowres the pooled image
    blown back up to full size."""
    if mask.lowres_factor:
        n = mask.lowres_factor
        return np.repeat(np.repeat(observe(images, mask), n, axis=1), n, axis=2)
    return images * mask.known


def write_completion(output_dir: Path, entries, images: np.ndarray, mask: Mask, result: Completion, config) -> list[dict]:
    """Every file above; returns the summary rows. Earlier outputs in the folder are replaced."""
    for stale in ("hats_imgs", "completed"):
        shutil.rmtree(output_dir / stale, ignore_errors=True)
    remove_earlier_outputs(output_dir, NUMBERED_OUTPUTS)
    masked = shown_masked(images, mask)
    filled = completed(result.reconstructions, images, mask)
    for name, batch in (("before", images), ("masked", masked), ("completed", filled)):
        write_png(output_dir / f"{name}.png", image_grid(batch))
    gif = []
    for label, frame in result.frames:
        write_png(output_dir / "hats_imgs" / f"{label:04d}.png", image_grid(frame))
        grid = image_grid(completed(frame, images, mask))
        write_png(output_dir / "completed" / f"{label:04d}.png", grid)
        gif.append(grid)
    _write_gif(output_dir / "completion.gif", gif)
    psnr = hidden_psnr(filled, images, mask)
    rows = []
    for index, (path, name) in enumerate(entries):
        sheet = labelled(side_by_side([images[index], masked[index], filled[index], result.reconstructions[index]]), PANELS)
        write_png(output_dir / f"{name}.png", sheet)
        write_npy(output_dir / f"{name}.z.npy", result.z[index])
        rows.append({"file": str(path), "output": f"{name}.png", "known_pixel_mse": float(result.known_error[index]),
                     "hidden_psnr_db": None if psnr is None else round(float(psnr[index]), 2),
                     "z": str(output_dir / f"{name}.z.npy")})
    _write_summary(output_dir, rows, mask, result, config)
    return rows


def _write_gif(path: Path, frames: list[np.ndarray]) -> None:
    pictures = [Image.fromarray(frame.squeeze() if frame.shape[2] == 1 else frame) for frame in frames]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=GIF_FRAME_MS, loop=0)
    atomic_write_bytes(path, buffer.getvalue())


def _write_summary(output_dir: Path, rows: list[dict], mask: Mask, result: Completion, config) -> None:
    write_csv(output_dir / "summary.csv", rows)
    write_json(output_dir / "summary.json", {
        "method": result.method, "mask": mask.name, "hidden_fraction": round(mask.hidden_fraction, 4),
        "seconds": round(result.seconds, 2), **result.details, "images": rows, "seed": config.seed,
        "config": config_lib.to_dict(config)})
