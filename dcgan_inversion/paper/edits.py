"""Beyond the paper: what a recovered z is for, shown on the run's own generator (`--experiment edits`).

Eight images G draws (their latents known) and the shipped portraits (no latent to know) are
inverted as `--image` inverts, and the recovered z' are used as the DCGAN paper used sampled z's:
- a walk between two generated images' z' (spherical for a normal prior, linear for a uniform one),
  beside the same walk between their true z: the two should coincide to the polish's precision;
- arithmetic: three terms of two generated images each, mean z' of the first - the second + the
  third, beside the same arithmetic on the true latents;
- a walk between the two portraits' z': G's nearest faces to two real photos, and their pixel errors.
The record holds how far recovered and true agree; the arrays hold the images the figure shows.
"""
from __future__ import annotations

import time

import numpy as np

from dcgan_inversion.config import seeds
from dcgan_inversion.data.unseen import unseen_images
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.gan.sampling import generate
from dcgan_inversion.inversion.multistart import best_of_starts
from dcgan_inversion.records import save_results
from dcgan_inversion.user_images.latent_edits import combine, walk

STEPS = 8        # images along each walk
STARTS = 4       # starts per image (the best is kept)
SIGNS = (1, -1, 1)  # the arithmetic's three terms, two generated images each


def edits_experiment(run) -> dict:
    config, generator = run.config, run.generator
    began = time.perf_counter()
    prior = latent_prior(config)
    rng = np.random.default_rng(seeds.stream(config.seed, seeds.EDITS))
    z_true = prior.sample(rng, (2 + 2 * len(SIGNS), config.model.z_dim))
    drawn = generate(generator, z_true)
    portraits, names = unseen_images(config)
    portraits, names = portraits[-2:], names[-2:]
    found = best_of_starts(generator, config, np.concatenate([drawn, portraits]), STARTS,
                           seeds.stream(config.seed, seeds.EDITS), "stochastic",
                           run.title("edits: inverting generated images and the portraits"), run.strategy)
    z_found, pixel_error = found["z"], found["pixel_error"]
    spherical = prior.kind == "normal"
    walked = walk(z_found[0], z_found[1], STEPS, spherical, prior.box)
    walked_true = walk(z_true[0], z_true[1], STEPS, spherical, prior.box)
    terms = [slice(2 + 2 * k, 4 + 2 * k) for k in range(len(SIGNS))]
    means, result = combine([z_found[term] for term in terms], list(SIGNS), prior.box)
    _, result_true = combine([z_true[term] for term in terms], list(SIGNS), prior.box)
    portrait_walk = walk(z_found[-2], z_found[-1], STEPS, spherical, prior.box)
    walk_images = generate(generator, walked)
    numbers = {
        "steps": STEPS, "starts": STARTS, "spherical": spherical, "signs": list(SIGNS), "portraits": names,
        "generated_pixel_error_max": float(pixel_error[:len(drawn)].max()),
        "portrait_pixel_error": [float(error) for error in pixel_error[len(drawn):]],
        "walk_z_difference_max": float(np.abs(walked - walked_true).max()),
        "walk_pixel_difference_max": float(np.abs(walk_images - generate(generator, walked_true)).max()),
        "arithmetic_z_difference_max": float(np.abs(result - result_true).max()),
        "arithmetic_pixel_difference_max": float(np.abs(generate(generator, result[None])
                                                        - generate(generator, result_true[None])).max())}
    return save_results(run.results_dir, "edits", config, time.perf_counter() - began, numbers,
                        walk=walk_images, portrait_walk=generate(generator, portrait_walk), portraits=portraits,
                        terms=drawn[2:], term_means=generate(generator, np.stack(means)),
                        result=generate(generator, result[None]), result_true=generate(generator, result_true[None]))
