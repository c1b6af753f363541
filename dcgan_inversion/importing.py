"""`dcgan-import`: another codebase's DCGAN checkpoint as a run: a TF1 checkpoint (Amos's shipped
CelebA model, carpedm20's; gan/tf1_checkpoint.py) or a torch.save file of pytorch/examples' DCGAN
(netG_epoch_N.pth with its netD beside it, a dict of state dicts, DataParallel keys, the
`gan-face-generate` weights; gan/pytorch_checkpoint.py, read without torch and without running code).

The run folder it writes is what every command reads from a trained run: config.yaml (the model
section from the checkpoint's shapes, the `celeba` config's other sections, no training data),
generator.weights.h5, discriminator.weights.h5 (for completion's perceptual loss), an 8x8 sample
grid drawn from the imported weights, and imported.json: where the weights came from. It is built
in a temporary folder beside the run and renamed into place, so a failure leaves no half-written run.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import seeds
from dcgan_inversion.gan.latents import latent_prior
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import (ensure_writable, path_sha256, publish_folder, write_json, write_npz,
                                            write_png)
from dcgan_inversion.run import RunPaths

BASE_CONFIG = "celeba"
TORCH_SUFFIXES = (".pth", ".pt", ".tar", ".bin", ".pkl", ".safetensors")


def check_destination(run_dir) -> None:
    """A new or empty run folder in a writable place (before the checkpoint is read)."""
    root = Path(run_dir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UserError(f"{root} already exists and is not empty: import into a new --run folder (or remove it)")
    ensure_writable(root.parent if not root.exists() else root)


def already_imported(run_dir, seed: int, checkpoint=None, pretrained=None) -> bool:
    """The run already holds this import: its imported.json names the same pretrained package (version
    and sums), or the same checkpoint's sha256, and its seed is the same. Importing it again is then a
    no-op, so each of a page's recipes can start with the import it needs."""
    from dcgan_inversion.pretrained import provenance
    from dcgan_inversion.run.paths import saved_config

    paths = RunPaths(run_dir)
    try:
        record = json.loads(paths.imported.read_text(encoding="utf-8"))
        if saved_config(paths.root).seed != seed:
            return False
        if pretrained is not None:
            recorded, pinned = record.get("pretrained") or {}, provenance(pretrained)
            return all(recorded.get(key) == pinned[key] for key in ("package", "version", "weights_sha256"))
        return record.get("sha256") == _sha256(_source_of(checkpoint))
    except (OSError, ValueError, AttributeError, UserError):
        return False  # not an import, or a damaged one: check_destination says the folder is not empty


def _source_of(checkpoint) -> str:
    """The file (PyTorch) or prefix (TF1) a checkpoint argument names."""
    from dcgan_inversion.gan.tf1_checkpoint import checkpoint_prefix

    from dcgan_inversion.gan.keras_file import is_keras_file

    if is_torch_file(checkpoint) or is_keras_file(checkpoint):
        return str(checkpoint)
    return checkpoint_prefix(checkpoint)


def is_torch_file(path) -> bool:
    """A file torch.save wrote (a zip archive, or the legacy format), a safetensors file, or one named
    like one."""
    from dcgan_inversion.gan.safetensors_file import is_safetensors
    from dcgan_inversion.gan.torch_file import LEGACY_HEAD

    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() in TORCH_SUFFIXES:
        return True
    with open(path, "rb") as handle:
        head = handle.read(len(LEGACY_HEAD))
    return head.startswith(b"PK") or head == LEGACY_HEAD or is_safetensors(path)


def _refuse_pytorch_hints(hints: dict, what: str) -> None:
    """One line naming the PyTorch-only options given (`--labels`, `--bn-eps`, ...) for a file of another kind."""
    given = ["--" + name.replace("_", "-") for name, value in hints.items() if value not in (0, None)]
    if given:
        raise UserError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for PyTorch files; {what}")


def read_weights(checkpoint, discriminator=None, **hints):
    """The checkpoint's weights (every check, before anything is written), whichever format it is."""
    from dcgan_inversion.gan.pytorch_checkpoint import read_pytorch_checkpoint
    from dcgan_inversion.gan.tf1_checkpoint import read_checkpoint

    if is_torch_file(checkpoint):
        return read_pytorch_checkpoint(checkpoint, discriminator, **hints)
    if discriminator is not None:
        raise UserError("--discriminator names a PyTorch discriminator file; a TF1 checkpoint holds both networks")
    _refuse_pytorch_hints(hints, "a TF1 checkpoint is Amos's DCGAN")
    return read_checkpoint(checkpoint)


def import_checkpoint(checkpoint, run_dir, base_config: str = BASE_CONFIG, seed: int = 0, discriminator=None,
                      latent: str | None = None, latent_box: float | None = None, pretrained: dict | None = None,
                      labels: int = 0, label_names: tuple = (), activation: str | None = None,
                      image_range: tuple | None = None, trusted: bool = False, bn_eps: float | None = None,
                      label_position: str | None = None) -> dict:
    """Reads `checkpoint`, writes the run; returns the provenance record (imported.json). `latent` and
    `latent_box` override the prior read off the format (PyTorch's DCGANs draw z ~ N(0, 1), TF1's U(-1, 1));
    `pretrained`: the package the checkpoint was fetched from (pretrained.provenance), recorded with it;
    `labels`: a one-hot class's count (a class embedding says its own), `label_names` their
    names, `label_position` where the class inputs stand; `activation` and `bn_eps`: the hidden activation
    and an MLP's batch norm eps, which a state dict cannot tell; `image_range` and `trusted`: a
    Keras file's output range and whether its Lambda layers may run (gan/keras_file.py)."""
    from dcgan_inversion.gan.imported import assign
    from dcgan_inversion.gan.model import make_discriminator, make_generator

    check_destination(run_dir)
    from dcgan_inversion.gan.keras_file import is_keras_file

    hints = {"labels": labels, "label_position": label_position, "activation": activation, "bn_eps": bn_eps}
    if is_keras_file(checkpoint):
        _refuse_pytorch_hints({**hints, "discriminator": discriminator}, "a Keras file is imported as it is")
        return import_keras(checkpoint, run_dir, base_config, seed, latent, latent_box, image_range, trusted)
    if image_range is not None or trusted:
        raise UserError("--image-range and --trust-file are for Keras model files")
    weights = read_weights(checkpoint, discriminator, **hints)
    if label_names and len(label_names) != weights.model.labels:
        raise UserError(f"--label-names names {len(label_names)} classes; the generator has {weights.model.labels} "
                        "(--labels N for a one-hot class)")
    prior = {"latent": latent or weights.model.latent, **({"latent_box": latent_box} if latent_box else {}),
             **({"label_names": tuple(label_names)} if label_names else {})}
    config = config_lib.replace(config_lib.load_config(base_config), seed=seed,
                                model=dataclasses.replace(weights.model, **prior), data={"path": None, "cache": "off"})
    config = config_lib.from_dict(config_lib.to_dict(config))  # the schema's checks on the overrides
    generator = make_generator(config.model)
    assign(generator, weights.generator)
    discriminator = None
    if weights.discriminator is not None:
        discriminator = make_discriminator(config.model)
        assign(discriminator, weights.discriminator)
    record = {"source": str(Path(weights.prefix).resolve()), "sha256": _sha256(weights.prefix),
              "layout": weights.layout, "variables_imported": weights.variables_used,
              "variables_in_file": weights.variables_total, "not_imported": weights.ignored,
              "step": _step_of(weights.prefix), "discriminator": discriminator is not None,
              "latent_prior": latent_prior(config).describe(),
              "generator_parameters": int(generator.count_params()),
              "assumed": weights.assumed, "notes": weights.notes,
              **({"labels": config.model.labels, "label_names": list(config.model.label_names)} if config.model.labels
                 else {}),
              "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              **({"pretrained": pretrained} if pretrained else {})}
    _write_run(Path(run_dir), config, generator, discriminator, record, weights)
    return record


def import_keras(path, run_dir, base_config: str, seed: int, latent, latent_box, image_range, trusted: bool) -> dict:
    """A Keras generator file as a run: the file kept in it, its prior and output range as given."""
    from dcgan_inversion.gan import keras_file

    image_range = tuple(image_range) if image_range else (-1.0, 1.0)
    model = keras_file.load_keras_generator(path, trusted, image_range)
    prior = latent or "normal"
    config = config_lib.replace(config_lib.load_config(base_config), seed=seed,
                                model=keras_file.model_config(model, prior, latent_box, image_range),
                                data={"path": None, "cache": "off"})
    config = config_lib.from_dict(config_lib.to_dict(config))
    record = {"source": str(Path(path).resolve()), "sha256": _sha256(str(path)),
              "layout": f"keras generator {config.model.image_size} px, z {config.model.z_dim}, "
                        f"{config.model.channels} channels, output range {list(image_range)} ({Path(path).name})",
              "variables_imported": len(model.weights), "variables_in_file": len(model.weights), "not_imported": [],
              "step": None, "discriminator": False, "latent_prior": latent_prior(config).describe(),
              "generator_parameters": int(model.count_params()), "trusted": bool(trusted),
              "assumed": [] if latent else ["latent prior N(0, 1): a Keras file does not say how z is drawn "
                                            "(--latent uniform and --latent-box change it)"],
              "notes": [], "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_run(Path(run_dir), config, model, None, record, None, keep=path)
    return record


def _write_run(root: Path, config, generator, discriminator, record: dict, weights, keep=None) -> None:
    from dcgan_inversion.data.images import SAMPLE_GRID, image_grid

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.importing-"))
    try:
        paths = RunPaths(staging)
        config_lib.save_config(config, paths.config)
        if keep is not None:
            from dcgan_inversion.gan.keras_file import keep_in_run

            keep_in_run(keep, staging)
        generator.save_weights(str(paths.generator_weights))
        if discriminator is not None:
            discriminator.save_weights(str(paths.discriminator_weights))
        if weights is not None and weights.label_rows is not None:
            write_npz(paths.label_rows, rows=weights.label_rows, base_bias=weights.base_bias)
        rng = np.random.default_rng(seeds.stream(config.seed, seeds.SAMPLE_GRID))
        z = latent_prior(config).sample(rng, (SAMPLE_GRID**2, config.model.z_dim))
        paths.samples.mkdir()
        write_png(paths.latest_samples, image_grid(generator(z, training=False).numpy()))
        write_json(paths.imported, record)
        try:
            publish_folder(staging, root)
        except OSError:  # another import finished into the same folder meanwhile
            raise UserError(f"{root} appeared while importing: import into a new --run folder") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(source: str) -> str:
    """A file's sha256, a SavedModel folder's over its files, or a TF1 checkpoint's over its index and data."""
    from dcgan_inversion.gan.tf1_checkpoint import checkpoint_sha256

    path = Path(source)
    if path.exists():
        return path_sha256(path)
    return checkpoint_sha256(source)


def _step_of(prefix: str) -> int | None:
    """The training step (TF1: DCGAN.model-60502) or epoch (pytorch/examples: netG_epoch_24.pth) in the name."""
    name = Path(prefix).name
    found = re.search(r"-(\d+)$", name) or re.search(r"epoch_?(\d+)", name)
    return int(found.group(1)) if found else None


def describe(record: dict, run_dir) -> str:
    """The lines `dcgan-import` prints once the run is written."""
    paths = RunPaths(run_dir)
    discriminator = f", {paths.discriminator_weights.name}" if record["discriminator"] else " (no discriminator in the file)"
    said = "".join(f"  assumed: {line}\n" for line in record.get("assumed", [])) + \
        "".join(f"  {line}\n" for line in record.get("notes", []))
    return (f"imported {record['variables_imported']} of {record['variables_in_file']} variables from {record['source']} "
            f"(sha256 {record['sha256'][:16]})\n"
            f"  {record['layout']}\n{said}"
            f"  latent prior {record['latent_prior']} (the clip box; --latent and --latent-box change it)\n"
            f"wrote {paths.root}: config.yaml, {paths.generator_weights.name}{discriminator}, imported.json and "
            f"{paths.latest_samples} (64 images from its weights)\n"
            f"next: make invert RUN={paths.root}   (or dcgan-invert --run {paths.root} --image photos/)")
