"""dcgan-inversion: Lipton & Tripathi's latent recovery with stochastic clipping, on Amos's DCGAN.

The Python API (see `api.py` for the whole of it):

    import dcgan_inversion as di
    run = di.load_run("runs/demo")                 # a trained run: config and generator
    z, images = di.generate(run, 4, seed=1)        # images G really drew, and their latents
    found = di.invert(run, images, starts=8)       # z', G(z'), pixel error, spread of the starts
    said = di.verdict(run, found)                  # could G have drawn each image?
    filled = di.complete(run, images, mask="center")  # the hidden pixels from G(z'), z' from the rest
    found = di.invert_model(keras_generator, images, prior="normal")  # any Keras generator
    walk = di.interpolate(run, image_a, image_b, steps=8)          # G along z'_a -> z'_b
    made = di.arithmetic(run, "smiling/ - neutral_w/ + neutral_m/")  # G(mean z' + mean z' - mean z')

Importing the package loads nothing heavy: TensorFlow loads on the first API call, so the
command-line tools can check their inputs first.
"""
from __future__ import annotations

API = ("Arithmetic", "Completed", "Recovery", "Run", "Verdict", "Walk", "arithmetic", "as_model_images", "calibration",
       "complete", "generate", "interpolate", "invert", "invert_model", "load_images", "load_run", "verdict")
__all__ = list(API)


def __getattr__(name: str):
    if name in API:
        from dcgan_inversion import api

        return getattr(api, name)
    raise AttributeError(f"module 'dcgan_inversion' has no attribute '{name}'")
