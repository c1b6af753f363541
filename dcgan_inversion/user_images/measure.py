"""How well the verdict of recover.py tells what G could have drawn, measured on a run.

    python -m dcgan_inversion.user_images.measure --run runs/demo --out docs/results

Categories: images G generated; the same after JPEG compression (quality 95, 75) and with small
Gaussian noise; unseen real faces the calibration did not use; photos of other things. Each is
inverted from K starts like a user's image; the table gives the best pixel MSE and the share
the calibrated threshold calls "in G's range". Writes verdicts.json and verdicts.md.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run as a command: TensorFlow's start-up lines filtered by level, before it loads
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from dcgan_inversion.infra.tf_startup import load_tensorflow

    load_tensorflow()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from dcgan_inversion.config import Config, seeds  # noqa: E402
from dcgan_inversion.gan.latents import latent_prior  # noqa: E402
from dcgan_inversion.gan.sampling import generate  # noqa: E402
from dcgan_inversion.inversion.multistart import best_of_starts  # noqa: E402
from dcgan_inversion.user_images import recover  # noqa: E402
from dcgan_inversion.data.pipeline import demo_faces, heldout_images, to_model_range  # noqa: E402
from dcgan_inversion.infra.errors import UserError  # noqa: E402
from dcgan_inversion.data.images import to_uint8  # noqa: E402
from dcgan_inversion.infra.io_utils import atomic_write_text, write_json  # noqa: E402

NOISE_SIGMA = 0.02  # on pixels in [-1, 1]
PER_CATEGORY = 6


def categories(generator, config: Config) -> dict:
    rng = np.random.default_rng(seeds.stream(config.seed, seeds.VERDICT_IMAGES))
    exact = generate(generator, latent_prior(config).sample(rng, (PER_CATEGORY, config.model.z_dim)))
    generated = recover.as_8_bit(exact, config)
    faces_name, faces = unseen_real_faces(config)
    return {
        "generated, float32 (never saved to a file)": exact,
        "generated, saved as 8-bit PNG": generated,
        "generated, JPEG quality 95": _jpeg(exact, 95, config),
        "generated, JPEG quality 75": _jpeg(exact, 75, config),
        f"generated + noise (sigma {NOISE_SIGMA}), 8-bit": recover.as_8_bit(np.clip(
            exact + NOISE_SIGMA * rng.standard_normal(exact.shape), -1, 1), config),
        faces_name: faces,
        "photos of other things": _other_photos(config),
    }


def unseen_real_faces(config: Config) -> tuple[str, np.ndarray]:
    """Real faces the calibration did not use: every other held-out image of the run's data (the
    calibration takes the rest); a run with no data beside it (an imported one) gets LFW faces that
    ship with scikit-image instead (grey and 25 px: the only real faces that come offline)."""
    held_out = heldout_images(config)[1::2]
    if len(held_out):
        return "unseen real faces (not in the calibration)", held_out
    faces = demo_faces(config.model.image_size, config.model.channels)[:PER_CATEGORY]
    return "LFW faces from scikit-image (grey, 25 px upscaled; not in the calibration)", faces


def _jpeg(images: np.ndarray, quality: int, config: Config) -> np.ndarray:
    decoded = []
    for image in to_uint8(images):
        buffer = io.BytesIO()
        Image.fromarray(image.squeeze()).save(buffer, format="JPEG", quality=quality)
        decoded.append(np.asarray(Image.open(buffer).convert("RGB")))
    return to_model_range(np.stack(decoded), config.model.channels).numpy()


def _other_photos(config: Config) -> np.ndarray:
    from skimage import data

    size = config.model.image_size
    photos = []
    for array in (data.coffee(), data.chelsea(), data.rocket(), data.camera()):
        image = Image.fromarray(array).convert("RGB")
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        photos.append(np.asarray(image.crop((left, top, left + side, top + side)).resize((size, size),
                                                                                       Image.Resampling.BILINEAR)))
    return to_model_range(np.stack(photos), config.model.channels).numpy()


def measure(generator, config: Config, starts: int, mode: str, encoder=None) -> dict:
    """The verdict per category; with an `encoder` the first of each image's starts is E(x). The
    counted cost per image (every start's first-order steps and polish iterations, cost.py) is kept."""
    calibrated = recover.calibrate(generator, config, starts, mode, encoder=encoder)
    rows, costs = {}, []
    for name, images in categories(generator, config).items():
        found = best_of_starts(generator, config, images, starts, seeds.stream(config.seed, seeds.VERDICT_STARTS), mode,
                               f"verdicts: {name}", encoder=encoder)
        errors = found["pixel_error"]
        costs += [found["counted_step_equivalents"] * starts] * len(images)
        rows[name] = {"images": len(images), "best_pixel_mse": errors.tolist(),
                      "in_range": float(np.mean(errors < calibrated["threshold"]))}
    return {"starts": starts, "mode": mode, "encoder_start": encoder is not None,
            "counted_step_equivalents_per_image": round(float(np.mean(costs)), 1),
            "calibration": {k: v for k, v in calibrated.items() if k != "config"}, "categories": rows}


def markdown(report: dict) -> str:
    calibration = report["calibration"]
    lines = ["| images | n | best pixel MSE, median (min - max) | called \"in G's range\" |", "|---|---|---|---|"]
    for name, row in report["categories"].items():
        errors = np.asarray(row["best_pixel_mse"])
        lines.append(f"| {name} | {row['images']} | {np.median(errors):.1e} ({errors.min():.1e} - {errors.max():.1e}) "
                     f"| {row['in_range']:.0%} |")
    lines += ["", f"Threshold {calibration['threshold']:.1e}: the geometric mean of the worst of "
              f"{len(calibration['generated_errors'])} generated images ({calibration['worst_generated']:.1e}) and the "
              f"best of {len(calibration['real_errors'])} unseen real images ({calibration['best_real']:.1e}: "
              f"{', '.join(calibration['real_images'])}); best of {report['starts']} starts"
              + (" (the first at the run's encoder's guess E(x))" if report.get("encoder_start") else "")
              + f", {report['mode']} clipping"
              + (f"; {report['counted_step_equivalents_per_image']:.0f} counted step-equivalents per image"
                 if "counted_step_equivalents_per_image" in report else "") + "."]
    return "\n".join(lines) + "\n"


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Measure the in-range verdict on a trained run.")
    parser.add_argument("--run", type=Path, default=Path("runs/demo"))
    parser.add_argument("--config", default=None, help="default: the run's own config")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--mode", default="stochastic")
    parser.add_argument("--encoder", action="store_true", help="the first start of each image at the run's encoder's "
                                                               "guess (make encoder)")
    return parser


def main(argv=None) -> None:
    args = arguments().parse_args(argv)
    try:
        from dcgan_inversion.config import load_config
        from dcgan_inversion.infra.environment import environment
        from dcgan_inversion.infra.io_utils import ensure_writable
        from dcgan_inversion.records import run_generator
        from dcgan_inversion.run import load_encoder, load_generator

        config = load_config(args.config or str(args.run / "config.yaml"))
        ensure_writable(args.out)  # before minutes of inversions, not after
        encoder = load_encoder(args.run) if args.encoder else None
        started = time.perf_counter()
        report = {**measure(load_generator(args.run, config.model), config, args.starts, args.mode, encoder),
                  "wall_seconds": round(time.perf_counter() - started, 2), "seed": config.seed,
                  "environment": environment(), "generator": run_generator(args.run)}
        write_json(args.out / "verdicts.json", report)
        atomic_write_text(args.out / "verdicts.md", markdown(report))
        print(markdown(report) + f"\nwrote {args.out / 'verdicts.json'} and {args.out / 'verdicts.md'}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
