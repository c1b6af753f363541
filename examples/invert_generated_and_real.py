"""The Python API end to end: images G drew come back to float32 precision; a photo does not.

    .venv/bin/python examples/invert_generated_and_real.py runs/demo [--starts 8]

Loads a trained run, generates two images with known latents, inverts them and a shipped photo of something else,
and prints each recovery's pixel error, its latent error where the truth is known, and the
verdict of the run's calibration (measured on the first call, then kept in the run folder).
"""
import argparse

import numpy as np

import dcgan_inversion as di


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a trained run folder, e.g. runs/demo")
    parser.add_argument("--starts", type=int, default=8, help="random starts per image (default: 8)")
    args = parser.parse_args()

    run = di.load_run(args.run)
    z_true, drawn = di.generate(run, 2, seed=1)
    photo = photo_as_model_image(run)
    found = di.invert(run, np.concatenate([drawn, photo]), starts=args.starts)
    verdicts = di.verdict(run, found)
    for index, (error, said) in enumerate(zip(found.pixel_error, verdicts)):
        name = f"generated image {index}" if index < len(drawn) else "coffee photo (scikit-image)"
        known = (f", ||z - z'||^2 / {z_true.shape[1]} = {np.mean((found.z[index] - z_true[index]) ** 2):.1e}"
                 if index < len(drawn) else "")
        print(f"{name}: pixel MSE {error:.1e}{known}: {said.label} ({said.margin_decades:+.1f} decades)")


def photo_as_model_image(run):
    """scikit-image's coffee cup (not in the calibration), cut and resized as `--image` does, in the run's colour format."""
    import tempfile
    from pathlib import Path

    from PIL import Image
    from skimage import data

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coffee.png"
        Image.fromarray(data.coffee()).save(path)
        images, _ = di.load_images(run, path)
    return images


if __name__ == "__main__":
    main()
