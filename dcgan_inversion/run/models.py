"""A run's models on disk: writing the exported weights, loading the generator, discriminator and
encoder back (a damaged generator export is rebuilt from the newest intact training checkpoint)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError, first_line
from dcgan_inversion.run.checks import require_encoder
from dcgan_inversion.run.paths import RunPaths, saved_config, trained_config


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


def load_generator(run_dir, model_config: config_lib.ModelConfig | None = None, strategy=None, label=None):
    """The trained generator of a run (a keras.Model), built from the run's own config.yaml (a keras
    run's: its kept model file). A conditional generator draws class `label` (a number or a name;
    default: class 0).

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
    if trained.model.architecture == "keras":
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            return _keras_generator(paths, trained.model)
    if label is not None and not trained.model.labels:
        raise UserError(f"--label: the generator in {paths.root} is not conditional (it has no classes)")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        generator = make_generator(trained.model)
    try:
        generator.load_weights(str(paths.generator_weights))
    except Exception as error:  # h5py / Keras raise many types for a bad or mismatched file
        reason = first_line(error)
        if not _rebuilt_from_checkpoint(generator, paths, reason):
            raise UserError(f"cannot load {paths.generator_weights}: {reason}") from None
    if trained.model.labels:
        from dcgan_inversion.gan.labels import label_index, read_label_rows, with_label

        rows, base_bias = read_label_rows(paths.label_rows)
        index = label_index(str(label if label is not None else 0), trained.model.label_names, trained.model.labels)
        with_label(generator, rows, base_bias, index)
    return generator


def _keras_generator(paths: RunPaths, model: config_lib.ModelConfig):
    """A keras run's generator: the model file it keeps, loaded as it was imported."""
    import json

    from dcgan_inversion.gan.keras_file import load_keras_generator, run_file

    kept = run_file(paths.root)
    if kept is None:
        raise UserError(f"{paths.root} is a keras run without its model file (generator.keras): import it again")
    trusted = bool(json.loads(paths.imported.read_text(encoding="utf-8")).get("trusted", False)) \
        if paths.imported.exists() else False
    return load_keras_generator(kept, trusted, model.image_range)


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
