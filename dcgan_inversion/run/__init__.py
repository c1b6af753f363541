"""The run directory: one folder holds everything a run produced (like Flax's `workdir`).

    paths.py    RunPaths (where each file lives), PublishedPaths (a published results folder), the saved config
    checks.py   pre-flight checks before TensorFlow loads, preparing a new run
    models.py   exporting and loading the run's generator, discriminator and encoder
"""
from dcgan_inversion.run.checks import (check_encoder_inputs, check_inversion_inputs, check_model_matches,
                                        check_training_inputs, prepare_run, require_encoder)
from dcgan_inversion.run.models import (export_generator, export_weights, load_discriminator, load_encoder,
                                        load_generator)
from dcgan_inversion.run.paths import PublishedPaths, RunPaths, saved_config, trained_config

__all__ = ["PublishedPaths", "RunPaths", "check_encoder_inputs", "check_inversion_inputs", "check_model_matches", "check_training_inputs",
           "export_generator", "export_weights", "load_discriminator", "load_encoder", "load_generator",
           "prepare_run", "require_encoder", "saved_config", "trained_config"]
