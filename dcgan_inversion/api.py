"""The Python API: a trained run, images it generates, latents recovered from images, the verdict.

    import dcgan_inversion as di
    run = di.load_run("runs/demo")
    z, images = di.generate(run, 4, seed=1)                  # G(z) in [-1, 1], (n, size, size, channels)
    found = di.invert(run, images)                           # best of the starts per image (user_images/plan.py)
    said = di.verdict(run, found)                            # could G have drawn each image?

The same engine, settings and search plan as `dcgan-invert --image` (the run's own config, its
polish letting go of rows that stop improving, 16 random starts, or the encoder's guess and one
random start on a run with an encoder), so a notebook and the command give the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion.config import Config
from dcgan_inversion.infra.errors import UserError


@dataclass(frozen=True)
class Run:
    """A trained run folder: its resolved config and its generator (a keras.Model)."""

    path: Path
    config: Config
    generator: object

    @property
    def image_shape(self) -> tuple[int, int, int]:
        model = self.config.model
        return model.image_size, model.image_size, model.channels


@dataclass(frozen=True)
class Recovery:
    """What `invert` found per image: the best z', G(z'), its pixel MSE and the spread of the starts."""

    z: np.ndarray                 # (n, z_dim), the best of the starts
    reconstructions: np.ndarray   # G(z'), (n, size, size, channels) in [-1, 1]
    pixel_error: np.ndarray       # mean squared pixel error of the best start, (n,)
    spread: list                  # mean pairwise ||z'_i - z'_j|| / z_dim over the starts (None for one start)
    all_errors: np.ndarray        # every start's pixel error, (n, starts)
    starts: int
    mode: str
    encoder_start: bool = False   # the first start was the run's encoder's guess E(x)


@dataclass(frozen=True)
class Verdict:
    """'in G's range' or 'not in G's range', how many decades from the run's calibrated threshold."""

    label: str
    margin_decades: float
    threshold: float

    @property
    def in_range(self) -> bool:
        return self.label == "in G's range"


def load_run(path) -> Run:
    """The run in `path` (made by `make train` / `dcgan-train`), its generator loaded."""
    from dcgan_inversion.infra.tf_startup import load_tensorflow
    from dcgan_inversion.run import load_generator, trained_config

    config = trained_config(path)
    load_tensorflow()
    return Run(Path(path), config, load_generator(path))


def generate(run: Run, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` latents of the run's prior from `seed` and the images G(z) (float32, in [-1, 1])."""
    from dcgan_inversion.gan.latents import latent_prior
    from dcgan_inversion.gan.sampling import generate as generate_images

    if n < 1:
        raise UserError(f"n must be a positive number of images, got {n}")
    z = latent_prior(run.config).sample(np.random.default_rng(seed), (n, run.config.model.z_dim))
    return z, generate_images(run.generator, z)


def as_model_images(run: Run, images) -> np.ndarray:
    """Images as the model sees them: float in [-1, 1] passes, uint8 [0, 255] is scaled; shape checked."""
    from dcgan_inversion.data.pipeline import to_model_range

    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.shape[1:] != run.image_shape:
        raise UserError(f"images must be (n, {', '.join(map(str, run.image_shape))}) for this run, got "
                        f"{tuple(array.shape)}: load files with load_images(run, paths)")
    if array.dtype == np.uint8:
        return to_model_range(array, run.config.model.channels).numpy()
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < -1.0 - 1e-6 or array.max() > 1.0 + 1e-6:
        raise UserError("float images must be finite and in [-1, 1] (the generator's range); pass uint8 for 0-255")
    return array


def load_images(run: Run, paths) -> tuple[np.ndarray, list[str]]:
    """Image files and folders, each cut to its centre square and resized as `--image` does: (images, names)."""
    from dcgan_inversion.user_images.recover import read_images

    entries, images = read_images(run.config, [paths] if isinstance(paths, (str, Path)) else paths)
    return images, [str(path) for path, _ in entries]


def invert(run: Run, images, starts: int | None = None, mode: str | None = None, seed: int | None = None) -> Recovery:
    """Recovers z' for each image from the plan's starts (the best is kept), with the run's inversion:
    `starts` None is `dcgan-invert --image`'s default (user_images/plan.py), `mode` None stochastic."""
    from dcgan_inversion.inversion.multistart import best_of_starts
    from dcgan_inversion.run import RunPaths, load_encoder
    from dcgan_inversion.user_images.plan import search_plan

    plan = search_plan(run.config, starts, mode, RunPaths(run.path).encoder_weights.exists())
    targets = as_model_images(run, images)
    encoder = load_encoder(run.path) if plan.encoder else None
    found = best_of_starts(run.generator, plan.config, targets, plan.starts, run.config.seed if seed is None else seed,
                           plan.mode, encoder=encoder)
    reconstructions = run.generator(found["z"], training=False).numpy()
    return Recovery(found["z"], reconstructions, found["pixel_error"], found["spread"], found["all_errors"],
                    plan.starts, plan.mode, plan.encoder)


def calibration(run: Run, starts: int | None = None, mode: str | None = None, encoder_start: bool | None = None) -> dict:
    """The run's threshold between generated and unseen real images for a search plan (measured once
    per settings and kept in `<run>/results/images/calibration.json`, shared with `dcgan-invert --image`)."""
    from dcgan_inversion.run import RunPaths, load_encoder
    from dcgan_inversion.user_images.plan import search_plan
    from dcgan_inversion.user_images.recover import calibration as measure

    paths = RunPaths(run.path)
    plan = search_plan(run.config, starts, mode, paths.encoder_weights.exists(), encoder_start)
    folder = paths.results / "images"
    folder.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(run.path) if plan.encoder else None
    return measure(run.generator, plan.config, plan.starts, plan.mode, folder, encoder=encoder)


def verdict(run: Run, recovery: Recovery) -> list[Verdict]:
    """Per image: could the run's G have drawn it? (the threshold is calibrated with the recovery's settings)"""
    from dcgan_inversion.user_images.recover import verdict as decide

    threshold = calibration(run, recovery.starts, recovery.mode, recovery.encoder_start)["threshold"]
    return [Verdict(*decide(float(error), threshold), threshold) for error in recovery.pixel_error]
