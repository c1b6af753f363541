"""The completion experiment (beyond the paper): how much of an image pins its latent down.

On generated targets (the true z is known), for each of Amos's masks and for centre squares
hiding a growing share of the pixels: the share of latents our method recovers below 1e-4 and
1e-8 per clip mode, the PSNR of the hidden region, and the same for Amos's loss with his Adam.
Why a latent stops being pinned down is read off the Jacobian of the known pixels at the true
latent: its smallest singular value (0 once fewer values are known than z has dimensions). On
unseen real faces: the hidden region's PSNR against the true pixels. `--experiment completion`
writes results/completion.json and .npz.
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from dcgan_inversion.completion.complete import complete
from dcgan_inversion.completion.masks import Mask, centre_square, make_mask
from dcgan_inversion.completion.observe import completed, hidden_psnr, observe, observed_generator
from dcgan_inversion.config import Config
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.inversion.jacobian import layerwise_jacobian
from dcgan_inversion.inversion.result import latent_error
from dcgan_inversion.config import seeds
from dcgan_inversion.data.unseen import unseen_images
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.gan.sampling import generate
from dcgan_inversion.records import save_results

THRESHOLDS = (1e-4, 1e-8)


def experiment_masks(config: Config) -> list[Mask]:
    size, settings = config.model.image_size, config.completion
    return ([make_mask(kind, size, settings, config.seed) for kind in settings.masks]
            + [centre_square(fraction, size) for fraction in settings.hidden_fractions])


def completion_experiment(run) -> dict:
    """Every mask of the config and the centre-square sweep, on generated and real targets (`run`: an
    experiments.Experiment)."""
    generator, discriminator, config, progress, strategy = (run.generator, run.discriminator, run.config,
                                                            run.progress, run.strategy)
    if config.invert.batch_norm == "batch":
        raise UserError("the completion experiment inverts each image on its own (batch norm's moving averages); "
                        "invert.batch_norm is batch here (the authors' protocol): run it without --protocol")
    settings, began = config.completion, time.perf_counter()
    rng = np.random.default_rng(seeds.stream(config.seed, seeds.COMPLETION_LATENTS))
    z_true = latent_prior(config).sample(rng, (settings.latents, config.model.z_dim))
    targets = generate(generator, z_true)
    real, real_names = unseen_images(config)
    real, real_names = real[:settings.real_images], real_names[:settings.real_images]
    rows = []
    for mask in experiment_masks(config):
        rows.append(_one_mask(generator, discriminator, config, mask, z_true, targets, real, progress, strategy))
    numbers = {"latents": settings.latents, "starts": settings.starts, "modes": list(config.experiments.modes),
               "real_images": real_names, "thresholds": list(THRESHOLDS), "perceptual_loss": discriminator is not None,
               "pinned_down": pinned_down(rows), "masks": rows}
    return save_results(run.results_dir, "completion", config, time.perf_counter() - began, numbers,
                        z_true=z_true, targets=targets)


def _one_mask(generator, discriminator, config: Config, mask: Mask, z_true, targets, real, progress, strategy) -> dict:
    known = int(np.broadcast_to(mask.known, targets.shape[1:]).sum()) if not mask.lowres_factor \
        else int(np.prod(observe(targets[:1], mask).shape[1:]))
    row = {"mask": mask.name, "hidden_fraction": round(mask.hidden_fraction, 4), "known_values": known,
           "jacobian": known_pixel_conditioning(generator, mask, z_true), "modes": {}}
    for mode in config.experiments.modes:
        title = f"completion: {mask.name}, {mode} clipping" if progress else None
        found = complete(generator, None, config, targets, mask, "ours", mode=mode, seed=seeds.stream(config.seed, seeds.COMPLETION_STARTS),
                         progress=title, strategy=strategy)
        row["modes"][mode] = _scores(found, z_true, targets, mask)
    row["amos"] = _scores(complete(generator, discriminator, config, targets, mask, "amos",
                             seed=seeds.stream(config.seed, seeds.COMPLETION_STARTS)),
                          z_true, targets, mask)
    if len(real):
        real_seed = seeds.stream(config.seed, seeds.COMPLETION_REAL)
        ours = complete(generator, None, config, real, mask, "ours", seed=real_seed, strategy=strategy)
        amos = complete(generator, discriminator, config, real, mask, "amos", seed=real_seed)
        row["real"] = {"ours_psnr_db": _mean_psnr(ours, real, mask), "amos_psnr_db": _mean_psnr(amos, real, mask)}
    if progress:
        stochastic = row["modes"].get("stochastic", next(iter(row["modes"].values())))
        print(f"completion: {mask.name} ({row['hidden_fraction']:.0%} hidden): ours {stochastic['below'][0]:.0%} below "
              f"1e-4, hidden PSNR {stochastic['hidden_psnr_db']} dB; amos {row['amos']['below'][0]:.0%}, "
              f"{row['amos']['hidden_psnr_db']} dB", flush=True)
    return row


def _scores(found, z_true, targets, mask: Mask) -> dict:
    errors = latent_error(found.z, z_true)
    psnr = _completion_psnr(found, targets, mask)
    return {"below": [float(np.mean(errors < threshold)) for threshold in THRESHOLDS],
            "median_z_error": float(np.median(errors)),
            "hidden_psnr_db": None if psnr is None else round(float(np.median(psnr)), 2),
            "seconds": round(found.seconds, 2), **{k: v for k, v in found.details.items() if "counted" in k}}


def _mean_psnr(found, truth, mask: Mask) -> float | None:
    psnr = _completion_psnr(found, truth, mask)
    return None if psnr is None else round(float(np.mean(psnr)), 2)


def _completion_psnr(found, truth, mask: Mask):
    """Per image, the hidden region's PSNR of the completion (known pixels + G(z') in the hole)."""
    return hidden_psnr(completed(found.reconstructions, truth, mask), truth, mask)


def known_pixel_conditioning(generator, mask: Mask, z: np.ndarray) -> dict:
    """Singular values of d(observed G)/dz at the true latents: the smallest says how firmly the
    known pixels pin z down (0 once they are fewer than z's dimensions)."""
    jacobian = layerwise_jacobian(observed_generator(generator, mask))
    smallest, largest = [], []
    for first in range(0, len(z), 4):  # a few rows at a time: (rows, P, z_dim) at 64 px is large
        _, columns = jacobian(tf.constant(z[first:first + 4]))
        values = np.linalg.svd(columns.numpy().astype(np.float64), compute_uv=False)
        smallest += values[:, -1].tolist() if values.shape[1] >= z.shape[1] else [0.0] * len(values)
        largest += values[:, 0].tolist()
    return {"sigma_min_median": float(np.median(smallest)), "sigma_max_median": float(np.median(largest)),
            "rank_deficient": bool(np.median(smallest) == 0.0)}


def pinned_down(rows: list[dict]) -> dict:
    """Along the centre squares (Amos's `center` and the sweep's `center-N%`), smallest hole first:
    the largest hidden share up to which every latent, in every clip mode run, came back below 1e-8
    (an exact fill; None when the smallest hole already lost one), and the first at which not."""
    sweep = sorted((row for row in rows if row["mask"] == "center" or row["mask"].startswith("center-")),
                   key=lambda row: row["hidden_fraction"])
    held, lost = None, None
    for row in sweep:
        if all(scores["below"][-1] == 1.0 for scores in row["modes"].values()) and lost is None:
            held = row["hidden_fraction"]
        elif lost is None:
            lost = row["hidden_fraction"]
    return {"all_recovered_up_to": held, "first_failure_at": lost}
