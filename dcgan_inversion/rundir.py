"""The run directory: one folder holds everything a run produced (like Flax's `workdir`).

    <run>/config.yaml              resolved config of the training run
    <run>/generator.weights.h5     trained generator, loaded by the inversion
    <run>/discriminator.weights.h5 an imported run's discriminator (trained runs keep theirs in checkpoints/)
    <run>/imported.json            where an imported run's weights came from (dcgan-import; no training state)
    <run>/encoder.weights.h5       an amortised start E(x) -> z (make encoder), encoder.json its record,
    <run>/encoder/                 and its training checkpoints
    <run>/checkpoints/             tf.train.CheckpointManager (models, optimizers, step, RNG)
    <run>/samples/                 fixed-z 8x8 sample grids (latest.png is the newest)
    <run>/logs/                    TensorBoard scalars
    <run>/results/                 inversion experiments (JSON + NPZ)
    <run>/figures/                 figures and tables
    <run>/results/<protocol>/      the same for a named protocol (protocols.py), and
    <run>/figures/<protocol>/      its figures and tables
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError, first_line
from dcgan_inversion.infra.io_utils import ensure_writable


LAST_SECTION = "distribute"  # save_config writes the sections in schema order; this one comes last


@dataclass(frozen=True)
class RunPaths:
    root: Path
    protocol: str | None = None  # results and figures of a named protocol live in their own folders

    def __init__(self, root, protocol: str | None = None):
        object.__setattr__(self, "root", Path(root))
        object.__setattr__(self, "protocol", protocol)

    def default(self) -> "RunPaths":
        """The run's own results (our default method), whatever protocol these paths are for."""
        return RunPaths(self.root)

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def generator_weights(self) -> Path:
        return self.root / "generator.weights.h5"

    @property
    def discriminator_weights(self) -> Path:
        return self.root / "discriminator.weights.h5"

    @property
    def imported(self) -> Path:
        return self.root / "imported.json"

    @property
    def encoder_weights(self) -> Path:
        return self.root / "encoder.weights.h5"

    @property
    def encoder_record(self) -> Path:
        return self.root / "encoder.json"

    @property
    def encoder_checkpoints(self) -> Path:
        return self.root / "encoder"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def latest_samples(self) -> Path:
        return self.samples / "latest.png"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def results(self) -> Path:
        return self.root / "results" / (self.protocol or "")

    @property
    def figures(self) -> Path:
        return self.root / "figures" / (self.protocol or "")


def saved_config(run_dir) -> config_lib.Config | None:
    paths = RunPaths(run_dir)
    if not paths.config.exists():
        return None
    raw = config_lib.read_mapping(paths.config)  # damaged: one line
    if not raw:  # an emptied file would read as the defaults, which describe another model
        raise UserError(f"{paths.config} is empty: it must hold the config the run was trained with")
    if isinstance(raw, dict) and LAST_SECTION not in raw:  # cut short: the lost sections would read as defaults
        raise UserError(f"{paths.config} is incomplete (it has no '{LAST_SECTION}' section, the last one a run "
                        "writes): it was cut short; restore it, or train the run again")
    return config_lib.from_dict(raw, source=str(paths.config))


def trained_config(run_dir, hint: str = "") -> config_lib.Config:
    """The config a run was trained with, or one line saying to train it first (`hint`: another way out)."""
    config = saved_config(run_dir)
    if config is None:
        raise UserError(f"{RunPaths(run_dir).config} is missing: train the run first (make train RUN={run_dir}){hint}")
    return config


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


def prepare_run(config: config_lib.Config, run_dir) -> RunPaths:
    """Creates the run directory, refuses a model change, writes the resolved config."""
    paths = RunPaths(run_dir)
    ensure_writable(paths.root)
    check_model_matches(config, run_dir)
    config_lib.save_config(config, paths.config)
    return paths


def export_generator(generator, paths: RunPaths, step: int) -> None:
    """Writes the generator weights atomically."""
    export_weights(generator, paths.generator_weights)


def export_weights(model, path: Path) -> None:
    """A model's weights, written to a temporary file and renamed (Keras wants the `.weights.h5` suffix)."""
    from dcgan_inversion.infra.io_utils import publish

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name.split('.')[0]}.", suffix=".weights.h5")
    os.close(handle)
    try:
        model.save_weights(temporary)
        publish(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def load_generator(run_dir, model_config: config_lib.ModelConfig | None = None, strategy=None):
    """The trained generator of a run (a keras.Model), built from the run's own config.yaml.

    Under a `strategy` its weights are mirrored on every replica's device.
    """
    import contextlib

    from dcgan_inversion.gan.model import make_generator  # TensorFlow loads only when needed

    paths = RunPaths(run_dir)
    if not paths.generator_weights.exists():
        raise UserError(f"no trained generator in {paths.root} (run `make train` or dcgan-train --run {paths.root})")
    trained = saved_config(run_dir)
    if trained is None:
        raise UserError(f"{paths.config} is missing: cannot tell which model {paths.generator_weights} holds")
    if model_config is not None and model_config != trained.model:
        raise UserError(f"model config does not match the generator in {run_dir}: "
                        f"requested {model_config}, trained {trained.model}")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        generator = make_generator(trained.model)
    try:
        generator.load_weights(str(paths.generator_weights))
    except Exception as error:  # h5py / Keras raise many types for a bad or mismatched file
        reason = first_line(error)
        if not _rebuilt_from_checkpoint(generator, paths, reason):
            raise UserError(f"cannot load {paths.generator_weights}: {reason}") from None
    return generator


def _rebuilt_from_checkpoint(generator, paths: RunPaths, reason: str) -> bool:
    """A damaged generator export is rebuilt from the newest intact training checkpoint, and rewritten."""
    import sys

    import tensorflow as tf

    from dcgan_inversion.infra.checkpoints import restore_newest_intact

    if not paths.checkpoints.is_dir():
        return False
    restored = restore_newest_intact(tf.train.Checkpoint(generator=generator), paths.checkpoints)
    if restored is None:
        return False
    print(f"warning: cannot load {paths.generator_weights} ({reason}); rebuilt it from {restored}",
          file=sys.stderr, flush=True)
    export_generator(generator, paths, int(restored.rsplit("-", 1)[1]))
    return True


def load_discriminator(run_dir):
    """The run's discriminator (completion's perceptual loss): an imported run's export, else the
    newest training checkpoint's; None when the run has neither (the caller says what that means)."""
    import tensorflow as tf

    from dcgan_inversion.gan.model import make_discriminator

    paths = RunPaths(run_dir)
    discriminator = make_discriminator(trained_config(run_dir).model)
    if paths.discriminator_weights.exists():
        return _with_weights(discriminator, paths.discriminator_weights)
    latest = tf.train.latest_checkpoint(str(paths.checkpoints)) if paths.checkpoints.is_dir() else None
    if latest is None:
        return None
    try:
        tf.train.Checkpoint(discriminator=discriminator).restore(latest).expect_partial()
    except (tf.errors.OpError, ValueError, AssertionError) as error:
        raise UserError(f"cannot read the discriminator from {latest}: {first_line(error)}") from None
    return discriminator


def require_encoder(run_dir) -> None:
    """invert.start: encoder needs the run's trained encoder: one line saying how to train it."""
    paths = RunPaths(run_dir)
    if not paths.encoder_weights.exists():
        raise UserError(f"invert.start is encoder but {paths.root} has no {paths.encoder_weights.name}: "
                        f"train one first (make encoder RUN={paths.root})")


def load_encoder(run_dir):
    """The run's trained encoder (invert.start: encoder)."""
    from dcgan_inversion.gan.model import make_encoder

    paths = RunPaths(run_dir)
    require_encoder(run_dir)
    return _with_weights(make_encoder(trained_config(run_dir).model), paths.encoder_weights,
                         f" (make encoder RUN={paths.root} trains it again)")


def _with_weights(model, path: Path, hint: str = ""):
    """`model` with the weights in `path`, or one line naming the file."""
    try:
        model.load_weights(str(path))
    except Exception as error:  # noqa: BLE001 - h5py / Keras raise many types for a bad file
        raise UserError(f"cannot load {path}: {first_line(error)}{hint}") from None
    return model
