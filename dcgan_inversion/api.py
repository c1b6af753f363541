"""The Python API: a trained run, images it generates, latents recovered from images, the verdict.

    import dcgan_inversion as di
    run = di.load_run("runs/demo")
    z, images = di.generate(run, 4, seed=1)                  # G(z) in [-1, 1], (n, size, size, channels)
    found = di.invert(run, images)                           # best of the starts per image (user_images/plan.py)
    said = di.verdict(run, found)                            # could G have drawn each image?

    filled = di.complete(run, images, mask="center")         # G(z') fills the hidden pixels
    found = di.invert_model(my_keras_generator, images, prior="normal", image_range=(0, 1))  # any Keras G

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
    jacobian: str = "layerwise"   # how the polish got dG/dz: layer by layer, or autodiff for layers it does not know


@dataclass(frozen=True)
class Completed:
    """What `complete` found per image: z' from the known pixels, G(z'), and the image with G(z') in its hole."""

    z: np.ndarray                 # (n, z_dim)
    reconstructions: np.ndarray   # G(z'), (n, size, size, channels) in [-1, 1]
    completed: np.ndarray         # the known pixels of the input, G(z') where the mask hides them
    known_error: np.ndarray       # mean squared error over the known pixels, (n,)
    mask: object                  # the completion's Mask: .known (1 = known pixel), .hidden_fraction
    method: str


@dataclass(frozen=True)
class Verdict:
    """'in G's range' or 'not in G's range', how many decades from the run's calibrated threshold."""

    label: str
    margin_decades: float
    threshold: float

    @property
    def in_range(self) -> bool:
        return self.label == "in G's range"


def load_run(path, label=None) -> Run:
    """The run in `path` (made by `make train` / `dcgan-train`, or `dcgan-import`), its generator loaded
    (a conditional one drawing class `label`, a number or a name; default 0)."""
    from dcgan_inversion.infra.tf_startup import load_tensorflow
    from dcgan_inversion.run import load_generator, trained_config

    config = trained_config(path)
    load_tensorflow()
    return Run(Path(path), config, load_generator(path, label=label))


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


def invert(run: Run, images, starts: int | None = None, mode: str | None = None, seed: int | None = None,
           verbose: bool = True) -> Recovery:
    """Recovers z' for each image from the plan's starts (the best is kept), with the run's inversion:
    `starts` None is `dcgan-invert --image`'s default (user_images/plan.py), `mode` None stochastic;
    `verbose` shows each phase's progress bar (False: silent)."""
    from dcgan_inversion.inversion.multistart import best_of_starts
    from dcgan_inversion.run import RunPaths, load_encoder
    from dcgan_inversion.user_images.plan import search_plan

    plan = search_plan(run.config, starts, mode, RunPaths(run.path).encoder_weights.exists())
    targets = as_model_images(run, images)
    encoder = load_encoder(run.path) if plan.encoder else None
    found = best_of_starts(run.generator, plan.config, targets, plan.starts, run.config.seed if seed is None else seed,
                           plan.mode, _title(verbose, targets, plan.starts), encoder=encoder)
    return _recovery(run.generator, found, plan)


def _title(verbose: bool, targets, starts: int) -> str | None:
    """The progress bars' title, or None for silence."""
    return f"inverting {len(targets)} images from {starts} starts each" if verbose else None


def invert_model(generator, images, prior="uniform", box: float | None = None,
                 image_range: tuple = (-1.0, 1.0), starts: int | None = None, mode: str | None = None,
                 seed: int = 0, verbose: bool = True) -> Recovery:
    """Recovers z' for images of any Keras generator z -> image (one input of shape (z_dim,), one
    image output), with this package's inversion (the `celeba` config's first-order phase and polish).

    `prior`: "uniform" (U(-b, b), the paper's b = 1) or "normal" (N(0, 1) kept in [-b, b], b = 4.5),
    `box=b` another half-width, or a `LatentPrior` (a symmetric box). `image_range`: what the generator outputs,
    (-1, 1) (tanh) or (0, 1) (sigmoid); `images` must be float in that range and are matched there.
    Layers the layer-wise Jacobian does not know fall back to forward-mode autodiff (said when it
    happens: it costs about a forward pass per latent dimension), and `Recovery.jacobian` says which was
    used. `verbose` shows each phase's progress bar.
    """
    from dcgan_inversion.inversion.multistart import best_of_starts
    from dcgan_inversion.user_images.plan import search_plan

    config = model_config(generator, latent_prior_named(prior, box))
    plan = search_plan(config, starts, mode)
    targets = _in_range(images, config, image_range)
    return _recovery(generator, best_of_starts(generator, plan.config, targets, plan.starts, seed, plan.mode,
                                               _title(verbose, targets, plan.starts)), plan)


def complete(run: Run, images, mask: str = "center", method: str = "ours", starts: int | None = None,
             seed: int | None = None, verbose: bool = True) -> Completed:
    """Fills what `mask` hides in each image from G(z'), z' recovered from the visible pixels: the same
    completion as `dcgan-invert --complete` (`mask` a mask's name or a mask image's path, `method`
    "ours" or "amos" with his Adam; `starts` None is the run's completion setting)."""
    from dcgan_inversion.completion.complete import complete as complete_images
    from dcgan_inversion.completion.masks import mask_from_argument
    from dcgan_inversion.completion.observe import completed
    from dcgan_inversion.config import COMPLETION_METHODS
    from dcgan_inversion.run import load_discriminator

    if method not in COMPLETION_METHODS:
        raise UserError(f"method must be one of {', '.join(COMPLETION_METHODS)}, got '{method}'")
    targets = as_model_images(run, images)
    chosen = mask_from_argument(mask, run.config.model.image_size, run.config.completion, run.config.seed)
    discriminator = load_discriminator(run.path) if method == "amos" else None
    result = complete_images(run.generator, discriminator, run.config, targets, chosen, method, starts=starts,
                             seed=seed, progress=f"completing {len(targets)} images ({chosen.name})" if verbose else None)
    return Completed(result.z, result.reconstructions, completed(result.reconstructions, targets, chosen),
                     result.known_error, chosen, result.method)


@dataclass(frozen=True)
class Walk:
    """A walk between two images' recovered latents: the path's z, G(z) along it, and both recoveries."""

    z: np.ndarray                 # (steps, z_dim), from z'_a to z'_b, inside the run's box
    images: np.ndarray            # G(z) along the walk, (steps, size, size, channels) in [-1, 1]
    ends: Recovery                # the two images' recoveries (z' of a and b, their pixel errors)
    spherical: bool


@dataclass(frozen=True)
class Arithmetic:
    """Vector arithmetic on recovered latents: each term's mean z', the signed sum and G of it."""

    z: np.ndarray                 # (z_dim,), the sum of the signed terms' means, inside the run's box
    image: np.ndarray             # G(z), (size, size, channels) in [-1, 1]
    signs: list                   # +1 / -1 per term
    means: list                   # each term's mean z', (z_dim,)
    terms: list                   # each term's Recovery (its images' z', G(z'), pixel errors)


def interpolate(run: Run, image_a, image_b, steps: int = 8, spherical: bool | None = None,
                starts: int | None = None, mode: str | None = None, verbose: bool = True) -> Walk:
    """Recovers z' of both images (as `invert`) and walks from one to the other in `steps` images:
    spherical (slerp) by default for a normal prior, linear for a uniform one; kept in the run's box."""
    from dcgan_inversion.gan.latents import latent_prior
    from dcgan_inversion.gan.sampling import generate as generate_images
    from dcgan_inversion.user_images.latent_edits import walk

    prior = latent_prior(run.config)
    pair = np.concatenate([as_model_images(run, image_a), as_model_images(run, image_b)])
    if len(pair) != 2:
        raise UserError(f"interpolate takes one image at each end, got {len(pair)} images")
    ends = invert(run, pair, starts, mode, verbose=verbose)
    spherical = prior.kind == "normal" if spherical is None else bool(spherical)
    path = walk(ends.z[0], ends.z[1], steps, spherical, prior.box)
    return Walk(path, generate_images(run.generator, path), ends, spherical)


def arithmetic(run: Run, terms, starts: int | None = None, mode: str | None = None, verbose: bool = True) -> Arithmetic:
    """`terms`: [(+1 or -1, images), ...] or an expression of files and folders ("smiling/ - neutral_w/ +
    neutral_m/"): each term's images are inverted (as `invert`), their z' averaged, and the signed means
    summed; G draws the sum (kept in the run's box)."""
    from dcgan_inversion.gan.latents import latent_prior
    from dcgan_inversion.gan.sampling import generate as generate_images
    from dcgan_inversion.user_images.latent_edits import combine, parse_expression

    if isinstance(terms, str):
        terms = [(term.sign, load_images(run, term.source)[0]) for term in parse_expression(terms)]
    if not terms or any(sign not in (1, -1) for sign, _ in terms):
        raise UserError("arithmetic takes terms as (+1 or -1, images) pairs")
    recoveries = [invert(run, images, starts, mode, verbose=verbose) for _, images in terms]
    signs = [sign for sign, _ in terms]
    means, result = combine([found.z for found in recoveries], signs, latent_prior(run.config).box)
    image = generate_images(run.generator, result[None])[0]
    return Arithmetic(result, image, signs, means, recoveries)


def _recovery(generator, found: dict, plan) -> Recovery:
    """What the search plan's best-of-starts search found, with G(z') and how the polish got dG/dz."""
    from dcgan_inversion.inversion.jacobian import layerwise_jacobian

    reconstructions = generator(found["z"], training=False).numpy()
    jacobian = "layerwise" if layerwise_jacobian(generator) is not None else "autodiff"
    return Recovery(found["z"], reconstructions, found["pixel_error"], found["spread"], found["all_errors"],
                    plan.starts, plan.mode, plan.encoder, jacobian)


def latent_prior_named(prior, box=None):
    """A `LatentPrior` from a name ("uniform", "normal") and an optional half-width b of its box
    [-b, b] (default per prior: gan/latents.DEFAULT_BOX), or the prior itself."""
    from dcgan_inversion.gan.latents import DEFAULT_BOX, LatentPrior, symmetric_prior

    if isinstance(prior, LatentPrior):
        return prior
    if prior not in DEFAULT_BOX:
        raise UserError(f"prior must be 'uniform', 'normal' or a LatentPrior, got {prior!r}")
    try:
        made = symmetric_prior(prior, box)
    except (TypeError, ValueError):
        raise UserError(f"box is the half-width b of the latent box [-b, b], a number above 0; got {box!r}") from None
    return made


def model_config(generator, prior) -> Config:
    """The `celeba` config with the model section of a Keras generator and `prior`."""
    import dataclasses

    from dcgan_inversion import config as config_lib

    if len(getattr(generator, "inputs", []) or []) != 1 or len(generator.outputs) != 1:
        raise UserError("invert_model needs a keras.Model with one latent input and one image output")
    z_shape, image_shape = tuple(generator.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
    if len(z_shape) != 1 or len(image_shape) != 3 or image_shape[0] != image_shape[1]:
        raise UserError(f"invert_model needs z of shape (z_dim,) and square images (size, size, channels); this "
                        f"generator maps {z_shape} to {image_shape}")
    if prior.low != -prior.high:
        raise UserError(f"a run's latent box is symmetric, [-b, b] (model.latent_box); this prior's is "
                        f"[{prior.low:g}, {prior.high:g}]")
    base = config_lib.load_config("celeba")
    model = dataclasses.replace(base.model, image_size=image_shape[0], z_dim=z_shape[0], channels=image_shape[2],
                                latent=prior.kind, latent_box=prior.high)
    return config_lib.replace(base, model=model)


def _in_range(images, config: Config, image_range: tuple) -> np.ndarray:
    low, high = (float(bound) for bound in image_range)
    array = np.asarray(images, np.float32)
    array = array[None] if array.ndim == 3 else array
    shape = (config.model.image_size, config.model.image_size, config.model.channels)
    if array.shape[1:] != shape:
        raise UserError(f"images must be (n, {', '.join(map(str, shape))}) for this generator, got {tuple(array.shape)}")
    if not np.all(np.isfinite(array)) or array.min() < low - 1e-6 or array.max() > high + 1e-6:
        raise UserError(f"images must be finite and in [{low:g}, {high:g}] (the generator's image_range)")
    return array



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
