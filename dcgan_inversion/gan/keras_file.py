"""A Keras generator file (`.keras`, legacy `.h5`, or a SavedModel folder) as a run's generator.

Keras reads its own files: `keras.saving.load_model(path, safe_mode=True)`. Safe mode stays on: a
Lambda layer holds pickled Python bytecode, which would run when the model loads, so such a file
is refused with one line naming the layer, unless the user trusts the file (`--trust-file`). A
SavedModel folder (`model.export`) is called through its serving function, wrapped as one Keras
layer (no layer structure: the Jacobian then comes from autodiff, and the counted cost is a lower
bound). The model must map one latent vector (z_dim,) to one square
image (size, size, 1 or 3), channels last; its output range is `model.image_range`, mapped onto the
[-1, 1] the rest of the package works in.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from dcgan_inversion.infra.errors import UserError, first_line

SUFFIXES = (".keras", ".h5", ".hdf5")
RUN_FILE = "generator"  # the copy kept in the run: generator.keras, generator.h5 or the folder generator.savedmodel


def is_keras_file(path) -> bool:
    path = Path(path)
    return (path.is_file() and path.suffix.lower() in SUFFIXES) or (path / "saved_model.pb").is_file()


def load_keras_generator(path, trusted: bool = False, image_range=(-1.0, 1.0)):
    """The generator in `path`, checked, its output mapped onto [-1, 1]."""
    import keras

    path = Path(path)
    try:
        if path.is_dir():
            model = _saved_model(path, keras)
        else:
            model = keras.saving.load_model(str(path), compile=False, safe_mode=not trusted)
    except ValueError as error:
        text = str(error)
        if "Lambda" in text or "safe_mode" in text:
            layer = _lambda_names(path)
            raise UserError(f"{path} holds a Lambda layer{layer}, whose Python code would run when it loads: "
                            "refused (Keras's safe mode); if you trust the file, import it with --trust-file") from None
        raise UserError(f"cannot load {path} as a Keras model: {first_line(error)}") from None
    except (OSError, TypeError, KeyError, AttributeError, ImportError) as error:
        raise UserError(f"cannot load {path} as a Keras model: {first_line(error)}") from None
    _check_shapes(model, path)
    low, high = (float(bound) for bound in image_range)
    if (low, high) == (-1.0, 1.0):
        return model
    inputs = keras.Input(shape=model.inputs[0].shape[1:], name="z")
    image = keras.layers.Rescaling(2.0 / (high - low), offset=-(high + low) / (high - low), name="to_unit_range")(
        model(inputs))
    return keras.Model(inputs, image, name="generator")


def _saved_model(path: Path, keras):
    """A SavedModel folder as a one-layer Keras model calling its serving function (differentiable,
    which Keras's TFSMLayer is not inside a compiled gradient step)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    function = getattr(loaded, "serve", None)
    if function is None:
        signature = loaded.signatures.get("serving_default")
        if signature is None:
            raise UserError(f"{path} is a SavedModel without a serve or serving_default function")
        (name,) = signature.structured_input_signature[1]
        function = lambda z: signature(**{name: z})  # noqa: E731
    spec = _input_spec(loaded, path)
    probe = _single_output(function(tf.zeros((1,) + tuple(spec.shape[1:]), spec.dtype)), path)

    class SavedModelCall(keras.layers.Layer):
        """The SavedModel's serving function as a layer (its variables stay the SavedModel's)."""

        saved_model = loaded  # keeps the loaded object, and so its variables, alive with the layer

        def call(self, z):
            return _single_output(function(z), path)

        def compute_output_shape(self, input_shape):
            return (input_shape[0],) + tuple(probe.shape[1:])

    inputs = keras.Input(shape=tuple(spec.shape[1:]), name="z")
    return keras.Model(inputs, SavedModelCall(name="saved_model")(inputs), name="generator")


def _input_spec(loaded, path: Path):
    signature = loaded.signatures.get("serving_default")
    specs = list(signature.structured_input_signature[1].values()) if signature is not None else []
    if len(specs) != 1:
        raise UserError(f"{path}: its serving signature takes {len(specs)} inputs; a generator takes one (z)")
    return specs[0]


def _single_output(outputs, path: Path):
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise UserError(f"{path}: its serving function has {len(outputs)} outputs; a generator has one image")
        (outputs,) = outputs.values()
    return outputs


def _lambda_names(path: Path) -> str:
    """ (' name', ...) of the file's Lambda layers, read from its JSON config (nothing is deserialized)."""
    import json
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
        else:
            import h5py

            with h5py.File(path, "r") as handle:
                config = json.loads(handle.attrs["model_config"])
    except (OSError, KeyError, ValueError):
        return ""
    names = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                names.append(str((node.get("config") or {}).get("name", "?")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return f" ('{', '.join(names)}')" if names else ""


def _check_shapes(model, path: Path) -> None:
    if len(getattr(model, "inputs", []) or []) != 1 or len(model.outputs) != 1:
        raise UserError(f"{path}: a generator has one input (z) and one output (the image); this model has "
                        f"{len(model.inputs or [])} and {len(model.outputs)}")
    z_shape, image_shape = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    if len(z_shape) != 1 or z_shape[0] is None:
        raise UserError(f"{path}: its input has shape {z_shape}; a generator takes z of shape (z_dim,)")
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] not in (1, 3):
        raise UserError(f"{path}: its output has shape {image_shape}; expected a square image (size, size, 1 or 3), "
                        "channels last")


def model_config(model, latent: str, latent_box, image_range):
    """The run's model section for a Keras generator."""
    from dcgan_inversion.config import ModelConfig

    z_dim = int(model.inputs[0].shape[1])
    size, _, channels = (int(n) for n in model.outputs[0].shape[1:])
    return ModelConfig(architecture="keras", latent=latent, image_size=size, z_dim=z_dim, channels=channels,
                       image_range=tuple(float(bound) for bound in image_range),
                       **({"latent_box": latent_box} if latent_box else {}))


def keep_in_run(path, folder: Path) -> Path:
    """Copies the Keras file (or SavedModel folder) into the run folder under RUN_FILE."""
    path = Path(path)
    if path.is_dir():
        target = folder / f"{RUN_FILE}.savedmodel"
        shutil.copytree(path, target)
    else:
        target = folder / f"{RUN_FILE}{path.suffix.lower()}"
        shutil.copyfile(path, target)
    return target


def run_file(folder: Path) -> Path | None:
    """The Keras file a run keeps, if any."""
    for candidate in [folder / f"{RUN_FILE}{suffix}" for suffix in SUFFIXES] + [folder / f"{RUN_FILE}.savedmodel"]:
        if candidate.exists():
            return candidate
    return None
