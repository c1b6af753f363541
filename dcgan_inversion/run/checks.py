"""Pre-flight checks of a run: every mistake that can be found before TensorFlow loads (the data
folder, the run folder, the model's shape, the images named), each one line; and preparing a new
run's folder once they pass."""
from __future__ import annotations

from pathlib import Path

from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import ensure_writable
from dcgan_inversion.run.paths import RunPaths, saved_config


def check_model_matches(config: config_lib.Config, run_dir) -> None:
    """The model section must equal the one the run was trained with, or weights will not fit."""
    previous = saved_config(run_dir)
    if previous is not None and previous.model != config.model:
        differences = [
            f"{key}={getattr(config.model, key)} (run has {getattr(previous.model, key)})"
            for key in config_lib.to_dict(config.model)
            if getattr(config.model, key) != getattr(previous.model, key)
        ]
        raise UserError(f"model config does not match the run in {run_dir}: {', '.join(differences)}; "
                        "use the run's config or another --run directory")


def check_training_inputs(config: config_lib.Config, run_dir) -> None:
    """Every mistake that can be found without TensorFlow: data folder, run folder, model shape."""
    from dcgan_inversion.data.images import list_images, require_a_readable_image, split_holdout

    if RunPaths(run_dir).imported.exists():
        raise UserError(f"{run_dir} was imported from a checkpoint (see {RunPaths(run_dir).imported}): it holds weights "
                        "but no training state (optimizers, step, data) to resume; train a new run in another --run")

    if config.data.source == "celeba":
        if not config.data.path:
            raise UserError("data.source is celeba but data.path is not set "
                            "(use --set data.path=/path/to/img_align_celeba)")
        require_a_readable_image(split_holdout(list_images(config.data.path), config.data.holdout)[0])
    if config.train.steps is None and config.train.epochs is None:
        raise UserError("train.steps and train.epochs are both null: set one of them")
    if config.distribute.strategy == "multi_worker":
        from dcgan_inversion.infra.distribute import check_tf_config

        check_tf_config()
    ensure_writable(Path(run_dir))
    check_model_matches(config, run_dir)


def check_inversion_inputs(config: config_lib.Config, run_dir, images=None,
                           protocol: str | None = None) -> tuple[list[Path], list[str]]:
    """A trained generator of the same shape, a writable results folder, and the image files that can
    be inverted, with one line for each that cannot (named in a warning now; none at all is an error)."""
    import sys

    from dcgan_inversion.data.images import sort_user_images

    paths = RunPaths(run_dir, protocol)
    if config.distribute.strategy == "multi_worker":
        raise UserError("inversion runs on the devices of one machine: use distribute.strategy=mirrored "
                        "(rows are sharded over every local GPU)")
    if not paths.generator_weights.exists():
        raise UserError(f"no trained generator in {paths.root} (run `make train` or dcgan-train --run {paths.root})")
    check_model_matches(config, run_dir)
    ensure_writable(paths.results)
    _check_unseen_images(config)
    if not images:
        return [], []
    readable, problems = sort_user_images(images, config.model.image_size)
    if not readable:
        raise UserError(problems[0] if len(problems) == 1 else
                        f"none of the {len(problems)} images can be inverted: {'; '.join(problems)}")
    for problem in problems:
        print(f"warning: skipped {problem}", file=sys.stderr, flush=True)
    ensure_writable(paths.results / "images")
    return readable, problems


def _check_unseen_images(config: config_lib.Config) -> None:
    """experiments.unseen_images must hold at least one image the model can read (Table 2 and the calibration)."""
    import sys

    from dcgan_inversion.data.images import sort_user_images

    if not config.experiments.unseen_images:
        return
    readable, problems = sort_user_images([config.experiments.unseen_images], config.model.image_size)
    if not readable:
        raise UserError(f"experiments.unseen_images: {problems[0]}")
    for problem in problems:
        print(f"warning: experiments.unseen_images: skipped {problem}", file=sys.stderr, flush=True)


def check_encoder_inputs(config: config_lib.Config, run_dir) -> RunPaths:
    """The encoder trains on a run's generator: it must exist and match the config; its folder writable."""
    paths = RunPaths(run_dir)
    if not paths.generator_weights.exists():
        raise UserError(f"no trained generator in {paths.root}: train it (make train) or import one (make import) first")
    check_model_matches(config, paths.root)
    ensure_writable(paths.encoder_checkpoints)
    return paths


def require_encoder(run_dir) -> None:
    """invert.start: encoder needs the run's trained encoder: one line saying how to train it."""
    paths = RunPaths(run_dir)
    if not paths.encoder_weights.exists():
        raise UserError(f"invert.start is encoder but {paths.root} has no {paths.encoder_weights.name}: "
                        f"train one first (make encoder RUN={paths.root})")


def prepare_run(config: config_lib.Config, run_dir) -> RunPaths:
    """Creates the run directory, refuses a model change, writes the resolved config."""
    paths = RunPaths(run_dir)
    ensure_writable(paths.root)
    check_model_matches(config, run_dir)
    config_lib.save_config(config, paths.config)
    return paths


