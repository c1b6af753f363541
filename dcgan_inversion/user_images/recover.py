"""Your own images: recover z' from K starts each, keep the best, and say whether G could have drawn it.

A generated image comes back to float32 precision (pixel MSE ~1e-14 after the polish); an image
outside G's range stalls orders of magnitude higher. The threshold between the two is calibrated
on the run's own generator: images it generated vs real images it never saw (held-out faces and
the shipped portraits), each inverted the same way, and put at the geometric mean of the worst
generated and the best real error. The spread of the K recoveries (mean pairwise distance, the
Table 2 statistic) says how unique the recovery is.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion import records
from dcgan_inversion.config import Config, seeds
from dcgan_inversion.data.pipeline import to_model_range
from dcgan_inversion.data.images import NUMBERED_OUTPUTS, collect_image_files, read_user_image, to_uint8
from dcgan_inversion.data.pictures import labelled, triptych
from dcgan_inversion.data.unseen import portrait_count, unseen_images
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.gan.sampling import generate
from dcgan_inversion.infra.io_utils import write_csv, write_json, write_npy, write_png
from dcgan_inversion.infra.text import printable
from dcgan_inversion.inversion.multistart import best_of_starts

CALIBRATION_IMAGE_COUNT = 8  # generated images for the threshold


def calibration(generator, config: Config, starts: int, mode: str, folder: Path, strategy=None,
                encoder=None) -> dict:
    """The run's calibration for this config, measured once and kept in `folder`/calibration.json."""
    path = folder / "calibration.json"
    saved = records.reusable(path, config, starts=starts, mode=mode)
    if saved is not None:
        return saved
    print(f"calibrating the verdict on this run's generator ({starts} starts, mode {mode}); kept in {path} "
          "and measured again only when the config, --starts or --mode change", flush=True)
    measured = calibrate(generator, config, starts, mode, strategy, encoder)
    write_json(path, measured)
    return measured


def calibrate(generator, config: Config, starts: int, mode: str, strategy=None, encoder=None) -> dict:
    """The threshold between generated and unseen real images, measured on this generator."""
    rng = np.random.default_rng(seeds.stream(config.seed, seeds.CALIBRATION_IMAGES))
    latents = latent_prior(config).sample(rng, (CALIBRATION_IMAGE_COUNT, config.model.z_dim))
    generated = as_8_bit(generate(generator, latents), config)
    real, names = calibration_real_images(config)
    found = best_of_starts(generator, config, np.concatenate([generated, real]), starts,
                           seeds.stream(config.seed, seeds.CALIBRATION_STARTS), mode,
                           "calibrating the verdict: generated vs unseen real images", strategy, encoder)
    generated_errors, real_errors = found["pixel_error"][:len(generated)], found["pixel_error"][len(generated):]
    worst_generated, best_real = float(generated_errors.max()), float(real_errors.min())
    return records.stamped(config, threshold=math.sqrt(worst_generated * best_real),
                           separated=worst_generated < best_real, worst_generated=worst_generated, best_real=best_real,
                           starts=starts, mode=mode, generated_errors=generated_errors.tolist(),
                           real_errors=real_errors.tolist(), real_images=names)


def as_8_bit(images: np.ndarray, config: Config) -> np.ndarray:
    """Images as an 8-bit file holds them: a generated image saved as PNG is G(z) rounded to 1/255,
    which puts its best pixel MSE near 5e-6 instead of float32's 1e-14. The calibration uses
    such images, so the verdict is about files."""
    return to_model_range(to_uint8(images), config.model.channels).numpy()


def calibration_real_images(config: Config) -> tuple[np.ndarray, list[str]]:
    """Unseen real images the calibration uses: the shipped portraits and every other held-out
    image (the rest stay unseen by the calibration too, so the verdict can be measured on them)."""
    images, names = unseen_images(config)  # the held-out (or named) images first, then the portraits
    held_out = len(names) - portrait_count()
    keep = [index for index in range(len(names)) if index >= held_out or index % 2 == 0]
    return images[keep], [names[index] for index in keep]


def verdict(pixel_error: float, threshold: float) -> tuple[str, float]:
    """('in G's range' or 'not in G's range', margin in decades from the threshold)."""
    margin = math.log10(max(pixel_error, 1e-30) / threshold)
    return ("in G's range" if pixel_error < threshold else "not in G's range"), margin


def read_images(config: Config, paths) -> tuple[list[tuple[Path, str]], np.ndarray]:
    """Image files, and every image under folders, as the model sees them: (file, output name) and images."""
    entries = collect_image_files(paths)
    pixels = np.stack([read_user_image(path, config.model.image_size) for path, _ in entries])
    return entries, to_model_range(pixels, config.model.channels).numpy()


def invert_images(generator, config: Config, paths, output_dir: Path, starts: int, mode: str, calibrated: dict,
                  strategy=None, skipped: list[str] = (), encoder=None) -> list[dict]:
    """Your images, best of `starts` each: pictures, a contact sheet, a summary (CSV and JSON)."""
    entries, images = read_images(config, paths)
    found = best_of_starts(generator, config, images, starts, config.seed, mode,
                           f"inverting {len(entries)} images from {starts} starts each", strategy, encoder)
    records.remove_earlier_outputs(output_dir, NUMBERED_OUTPUTS)
    reconstructions = generator(found["z"], training=False).numpy()
    rows, triptychs = [], []
    for index, ((path, name), image, reconstruction) in enumerate(zip(entries, images, reconstructions)):
        error = float(found["pixel_error"][index])
        said, margin = verdict(error, calibrated["threshold"])
        triptychs.append(triptych(image, reconstruction))
        write_png(output_dir / f"{name}.png", labelled(triptychs[-1]))
        write_npy(output_dir / f"{name}.z.npy", found["z"][index])
        rows.append({"file": str(path), "output": f"{name}.png", "best_pixel_mse": error,
                     "spread": found["spread"][index], "verdict": said, "margin_decades": round(margin, 2),
                     "z": str(output_dir / f"{name}.z.npy")})
    contact_sheet(output_dir / "contact_sheet.png", triptychs, rows)
    _write_summary(output_dir, rows, config, starts, mode, calibrated, skipped)
    return rows


def contact_sheet(path: Path, triptychs: list, rows: list[dict]) -> None:
    """Every image's triptych under a line: its name, best pixel MSE and verdict."""
    from dcgan_inversion.infra.plotting import plt, save_figure

    figure, axes = plt.subplots(len(rows), 1, figsize=(4.6, 1.75 * len(rows)), squeeze=False, layout="constrained")
    for axis, picture, row in zip(axes[:, 0], triptychs, rows):
        axis.imshow(picture, interpolation="nearest")
        axis.set_axis_off()
        axis.set_title(f"{printable(Path(row['file']).name)}: MSE {row['best_pixel_mse']:.1e}, {row['verdict']}", fontsize=8)
    figure.suptitle("input | best reconstruction | |difference|", fontsize=9)
    save_figure(figure, path.with_suffix(""))


def _write_summary(output_dir: Path, rows: list[dict], config: Config, starts: int, mode: str,
                   calibrated: dict, skipped=()) -> None:
    write_csv(output_dir / "summary.csv", rows)
    write_json(output_dir / "summary.json", {
        "starts": starts, "mode": mode, "threshold": calibrated["threshold"],
        "calibration_separated": calibrated["separated"],
        "images": rows, "skipped": list(skipped), "seed": config.seed, "config": config_lib.to_dict(config)})
