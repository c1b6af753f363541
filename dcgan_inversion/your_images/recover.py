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
from dcgan_inversion.config import Config
from dcgan_inversion.data.pipeline import to_model_range
from dcgan_inversion.data.images import collect_image_files, read_user_image, to_uint8
from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert
from dcgan_inversion.infra.io_utils import write_csv, write_json, write_npy, write_png
from dcgan_inversion.paper.metrics import mean_pairwise_distance

ROW_PATIENCE = 3        # polish iterations without progress before a row stops (real photos never converge)
CALIBRATION_IMAGES = 8  # generated images for the threshold
SCREEN_PIXELS = 128     # each picture is upscaled (nearest) to at least this many pixels


def images_settings(config: Config, progress: str | None, strategy) -> InversionSettings:
    """The run's inversion, its polish stopping rows that no longer improve."""
    polish = config_lib.replace(config, polish={"row_patience": ROW_PATIENCE}).polish
    return InversionSettings(invert=config.invert, polish=polish, progress=progress, strategy=strategy)


def best_of_starts(generator, config: Config, images: np.ndarray, starts: int, seed: int, mode: str,
                   progress=None, strategy=None, encoder=None) -> dict:
    """Each image inverted from `starts` starts in one problem: the best z', its error, the spread.
    The starts are random draws; with an `encoder` the first one is its guess E(x)."""
    z_dim = config.model.z_dim
    # Start k of image i is draw k * images + i: an image's first start is the same for any K.
    draws = np.random.default_rng(seed).uniform(-1, 1, (starts, len(images), z_dim)).astype(np.float32)
    if encoder is not None:
        from dcgan_inversion.paper.experiments import encoder_starts

        draws[0] = encoder_starts(encoder, images)
    problem = InversionProblem(np.repeat(images, starts, axis=0), draws.transpose(1, 0, 2).reshape(-1, z_dim),
                               [mode] * (len(images) * starts), seed=seed)
    result = invert(generator, problem, images_settings(config, progress, strategy))
    errors = result.pixel_error.reshape(len(images), starts)
    z = result.z.reshape(len(images), starts, z_dim)
    best = np.argmin(errors, axis=1)
    chosen = np.arange(len(images)), best
    before_polish = z if result.z_before_polish is None else result.z_before_polish.reshape(z.shape)
    return {"z": z[chosen], "pixel_error": errors[chosen], "all_errors": errors,
            "spread": [mean_pairwise_distance(rows) if starts > 1 else None for rows in z],
            "z_start": draws.transpose(1, 0, 2)[chosen], "z_before_polish": before_polish[chosen],
            "counted_step_equivalents": result.counted_step_equivalents}


def calibration(generator, config: Config, starts: int, mode: str, folder: Path, strategy=None,
                encoder=None) -> dict:
    """The run's calibration for this config, measured once and kept in `folder`/calibration.json."""
    import json

    path = folder / "calibration.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if config_lib.is_same_config(saved["config"], config) and (saved["starts"], saved["mode"]) == (starts, mode):
            return saved
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: measured again and rewritten
        pass
    print(f"calibrating the verdict on this run's generator ({starts} starts, mode {mode}); kept in {path} "
          "and measured again only when the config, --starts or --mode change", flush=True)
    measured = calibrate(generator, config, starts, mode, strategy, encoder)
    write_json(path, measured)
    return measured


def calibrate(generator, config: Config, starts: int, mode: str, strategy=None, encoder=None) -> dict:
    """The threshold between generated and unseen real images, measured on this generator."""
    from dcgan_inversion.paper.experiments import generate

    rng = np.random.default_rng(config.seed + 4)
    generated = as_8_bit(generate(generator, rng.uniform(-1, 1, (CALIBRATION_IMAGES, config.model.z_dim))
                                  .astype(np.float32)), config)
    real, names = calibration_real_images(config)
    found = best_of_starts(generator, config, np.concatenate([generated, real]), starts, config.seed + 5, mode,
                           "calibrating the verdict: generated vs unseen real images", strategy, encoder)
    generated_errors, real_errors = found["pixel_error"][:len(generated)], found["pixel_error"][len(generated):]
    worst_generated, best_real = float(generated_errors.max()), float(real_errors.min())
    return {"threshold": math.sqrt(worst_generated * best_real), "separated": worst_generated < best_real,
            "worst_generated": worst_generated, "best_real": best_real, "starts": starts, "mode": mode,
            "generated_errors": generated_errors.tolist(), "real_errors": real_errors.tolist(), "real_images": names,
            "config": config_lib.to_dict(config)}


def as_8_bit(images: np.ndarray, config: Config) -> np.ndarray:
    """Images as an 8-bit file holds them: a generated image saved as PNG is G(z) rounded to 1/255,
    which puts its best pixel MSE near 5e-6 instead of float32's 1e-14. The calibration uses
    such images, so the verdict is about files."""
    return to_model_range(to_uint8(images), config.model.channels).numpy()


def calibration_real_images(config: Config) -> tuple[np.ndarray, list[str]]:
    """Unseen real images the calibration uses: the shipped portraits and every other held-out
    image (the rest stay unseen by the calibration too, so the verdict can be measured on them)."""
    from dcgan_inversion.paper.experiments import portrait_count, unseen_images

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
    remove_earlier_pictures(output_dir)
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


def remove_earlier_pictures(output_dir: Path) -> None:
    """An earlier run's `NNN-<name>.png` / `.z.npy` would sit beside this run's summary as if they were its own."""
    for path in output_dir.glob("[0-9][0-9][0-9]-*"):
        if path.name.endswith((".png", ".z.npy")):
            path.unlink()


def contact_sheet(path: Path, triptychs: list, rows: list[dict]) -> None:
    """Every image's triptych under a line: its name, best pixel MSE and verdict."""
    from dcgan_inversion.paper.figures import plt, save_figure

    figure, axes = plt.subplots(len(rows), 1, figsize=(4.6, 1.75 * len(rows)), squeeze=False, layout="constrained")
    for axis, picture, row in zip(axes[:, 0], triptychs, rows):
        axis.imshow(picture, interpolation="nearest")
        axis.set_axis_off()
        axis.set_title(f"{Path(row['file']).name}: MSE {row['best_pixel_mse']:.1e}, {row['verdict']}", fontsize=8)
    figure.suptitle("input | best reconstruction | |difference|", fontsize=9)
    save_figure(figure, path.with_suffix(""))


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


def _write_summary(output_dir: Path, rows: list[dict], config: Config, starts: int, mode: str,
                   calibrated: dict, skipped=()) -> None:
    write_csv(output_dir / "summary.csv", rows)
    write_json(output_dir / "summary.json", {
        "starts": starts, "mode": mode, "threshold": calibrated["threshold"],
        "calibration_separated": calibrated["separated"],
        "images": rows, "skipped": list(skipped), "seed": config.seed, "config": config_lib.to_dict(config)})
