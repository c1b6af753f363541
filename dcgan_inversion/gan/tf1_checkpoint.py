"""TF1 DCGAN checkpoints (Amos's shipped CelebA model, carpedm20/DCGAN-tensorflow) read into this
project's Keras models.

Those codebases build the same network from `ops.py` helpers whose variables are named by scope:

    generator/g_h0_lin/{Matrix [z, 16*C0], bias}     linear, reshaped NHWC to 4x4xC0
    generator/g_bn{k}/{beta, gamma, moving_mean, moving_variance}
    generator/g_h{k}/{w [5, 5, out, in], biases}     conv2d_transpose, stride 2, SAME
    discriminator/d_h{k}_conv/{w [5, 5, in, out], biases}, discriminator/d_bn{k}/...
    discriminator/d_h{3|4}_lin/{Matrix [16*C, 1], bias}   (Amos's shipped file: d_h3_lin; carpedm20: d_h4_lin)

Nothing here needs a TF1 graph: `tf.train.load_checkpoint` reads the tensors by name, the model's
shape comes from the tensors' shapes, and the weights are assigned to the Keras layers as stored
(Keras keeps Conv2DTranspose kernels as (k, k, out, in) and Dense kernels as (in, out), like TF1).
Anything that is not such a checkpoint is a `CheckpointMismatch`: one line naming what was expected
and what was found.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.config.schema import DCGAN_SIZES
from dcgan_inversion.gan.imported import CheckpointMismatch, ImportedWeights, assign  # noqa: F401 - re-exported
from dcgan_inversion.infra.errors import first_line
from dcgan_inversion.infra.io_utils import update_digest

KERNEL = 5
BATCH_NORM = ("gamma", "beta", "moving_mean", "moving_variance")  # the order Keras keeps them in
SLOT_SUFFIXES = ("/Adam", "/Adam_1", "/ExponentialMovingAverage", "/Momentum", "/RMSProp", "/RMSProp_1")
OTHER_FORMATS = {".pth": "a PyTorch file", ".pt": "a PyTorch file", ".ckpt": "a PyTorch Lightning or TF file",
                 ".h5": "a Keras/HDF5 file", ".keras": "a Keras model file", ".npz": "a NumPy archive",
                 ".pkl": "a pickle", ".onnx": "an ONNX model"}
EXPECTED = "a TF1 checkpoint prefix (e.g. checkpoint/DCGAN.model-60502) or the folder holding its `checkpoint` file"


def checkpoint_prefix(path) -> str:
    """The checkpoint prefix a path names: a prefix, one of its files, or a folder with a `checkpoint` file."""
    import tensorflow as tf

    path = Path(path).expanduser()
    if path.suffix.lower() in OTHER_FORMATS and path.is_file():
        raise CheckpointMismatch(f"{path} is {OTHER_FORMATS[path.suffix.lower()]}; expected {EXPECTED}")
    if path.is_dir():
        latest = tf.train.latest_checkpoint(str(path))  # None when the `checkpoint` file names a path elsewhere
        if latest is None:
            latest = _newest_index_in(path)
        if latest is None:
            raise CheckpointMismatch(f"no TF checkpoint in {path} (no `checkpoint` file naming one, no *.index file); "
                                     f"expected {EXPECTED}")
        return latest
    text = str(path)
    for suffix in (".index", ".meta"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    text = re.sub(r"\.data-\d{5}-of-\d{5}$", "", text)
    if not Path(text + ".index").is_file():
        what = "not found" if not path.exists() else "has no .index file beside it"
        raise CheckpointMismatch(f"{path}: {what}; expected {EXPECTED}")
    return text


def _newest_index_in(folder: Path) -> str | None:
    """The highest-numbered prefix among the folder's *.index files (a `checkpoint` file with another
    machine's absolute paths, as in cloned repositories, is ignored)."""
    def step(index: Path) -> int:
        numbers = re.findall(r"\d+", index.stem)
        return int(numbers[-1]) if numbers else -1

    indexes = sorted(folder.glob("*.index"), key=step)
    return str(indexes[-1].with_suffix("")) if indexes else None


def read_checkpoint(path) -> ImportedWeights:
    """The generator (and discriminator, if there is one) of the DCGAN checkpoint at `path`."""
    import tensorflow as tf

    prefix = checkpoint_prefix(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as error:
        raise CheckpointMismatch(f"cannot read checkpoint {prefix}: {first_line(error)}") from None
    tensors = _Tensors(reader, shapes, prefix)
    model, generator, g_layout = _generator(tensors)
    discriminator, d_layout = _discriminator(tensors, model)
    if discriminator is not None:
        model = dataclasses.replace(model, df_dim=int(discriminator["conv0"][0].shape[3]))
    layout = g_layout + (f"; {d_layout}" if d_layout else "; no discriminator in the file")
    return ImportedWeights(prefix, model, generator, discriminator, layout, len(tensors.used), len(shapes),
                           sorted(name for name in shapes if name not in tensors.used))


def checkpoint_sha256(prefix: str) -> str:
    """sha256 over the checkpoint's index and data files (the .meta graph is not weights)."""
    digest = hashlib.sha256()
    files = sorted(Path(prefix).parent.glob(Path(prefix).name + ".*"))
    for file in files:
        if file.suffix == ".index" or ".data-" in file.name:
            digest.update(file.name.encode())
            update_digest(digest, file)
    return digest.hexdigest()


class _Tensors:
    """The checkpoint's tensors by name, with the scope prefix found once and every read checked."""

    def __init__(self, reader, shapes: dict, prefix: str):
        self.reader, self.shapes, self.prefix, self.used = reader, shapes, prefix, set()
        weights = [name for name in shapes if not name.endswith(SLOT_SUFFIXES)]
        if not weights and shapes:
            raise CheckpointMismatch(f"{prefix} holds only optimizer slots ({_examples(shapes)}): no model weights")
        self.g_scope = self._scope(weights, "g_h0_lin/Matrix")
        self.d_scope = self._scope(weights, "d_h0_conv/w", required=False)

    def _scope(self, names, anchor: str, required: bool = True) -> str | None:
        found = [name[: -len(anchor)] for name in names if name.endswith(anchor)
                 and (len(name) == len(anchor) or name[-len(anchor) - 1] == "/")]
        if not found:
            if required:
                raise CheckpointMismatch(f"{self.prefix} has no {anchor} (a DCGAN generator's first layer in Amos's "
                                         f"and carpedm20's names); found {len(self.shapes)} variables such as "
                                         f"{_examples(self.shapes)}")
            return None
        return found[0]

    def has(self, scope: str, name: str) -> bool:
        return scope + name in self.shapes

    def get(self, scope: str, name: str, shape: tuple | None = None) -> np.ndarray:
        full = scope + name
        if full not in self.shapes:
            raise CheckpointMismatch(f"{self.prefix} has no {full}" + (f" (expected shape {list(shape)})" if shape else ""))
        found = tuple(self.shapes[full])
        if shape is not None and found != tuple(shape):
            raise CheckpointMismatch(f"{self.prefix}: {full} has shape {list(found)}, expected {list(shape)}")
        try:
            value = self.reader.get_tensor(full)
        except Exception as error:  # noqa: BLE001 - a damaged data file raises several TensorFlow error types
            raise CheckpointMismatch(f"cannot read {full} from {self.prefix}: {first_line(error)}") from None
        if value.dtype != np.float32 or not np.all(np.isfinite(value)):
            problem = f"dtype {value.dtype}" if value.dtype != np.float32 else "non-finite values"
            raise CheckpointMismatch(f"{self.prefix}: {full} has {problem}; expected finite float32 weights")
        self.used.add(full)
        return value

    def batch_norm(self, scope: str, name: str, size: int) -> list[np.ndarray]:
        return [self.get(scope, f"{name}/{part}", (size,)) for part in BATCH_NORM]

    def numbered(self, scope: str, pattern: str) -> list[int]:
        """The k of every `scope + pattern.format(k)` in the file, sorted."""
        regex = re.compile(re.escape(scope) + pattern.replace("{}", r"(\d+)") + "$")
        return sorted(int(match.group(1)) for name in self.shapes if (match := regex.match(name)))


def _generator(tensors: _Tensors) -> tuple[ModelConfig, dict, str]:
    scope = tensors.g_scope
    stages = tensors.numbered(scope, "g_h{}/w")
    if not stages or stages != list(range(1, len(stages) + 1)):
        raise CheckpointMismatch(f"{tensors.prefix}: expected transposed convs {scope}g_h1/w, g_h2/w, ... in order; "
                                 f"found {['g_h%d/w' % k for k in stages] or 'none'}")
    image_size = 4 * 2 ** len(stages)
    choices = DCGAN_SIZES
    kernels = [tensors.shapes[f"{scope}g_h{k}/w"] for k in stages]
    for k, shape in zip(stages, kernels):
        if len(shape) != 4 or shape[:2] != [KERNEL, KERNEL]:
            raise CheckpointMismatch(f"{tensors.prefix}: {scope}g_h{k}/w has shape {shape}; expected "
                                     f"[{KERNEL}, {KERNEL}, out, in] (Amos's 5x5 transposed convs)")
    channels = [kernels[0][3]] + [shape[2] for shape in kernels]  # base, each stage's output
    matrix_shape = tensors.shapes[scope + "g_h0_lin/Matrix"]
    if len(matrix_shape) != 2 or matrix_shape[1] != 16 * channels[0]:
        raise CheckpointMismatch(f"{tensors.prefix}: {scope}g_h0_lin/Matrix has shape {matrix_shape}; a 4x4 base of "
                                 f"{channels[0]} channels (what g_h1 takes) needs [z_dim, {16 * channels[0]}] "
                                 "(this design starts every generator at 4x4)")
    if image_size not in choices or channels[-1] not in (1, 3):
        raise CheckpointMismatch(f"{tensors.prefix}: {len(stages)} transposed convs to {channels[-1]} channels make a "
                                 f"{image_size} px, {channels[-1]}-channel image; this design has {choices} px with 1 "
                                 "or 3 channels")
    z_dim, hidden = matrix_shape[0], tuple(channels[:-1])
    weights = {"project": [tensors.get(scope, "g_h0_lin/Matrix", matrix_shape),
                           tensors.get(scope, "g_h0_lin/bias", (16 * hidden[0],))],
               "project_bn": tensors.batch_norm(scope, "g_bn0", hidden[0])}
    for k in stages:
        out, previous = channels[k], channels[k - 1]
        weights[f"deconv{k}"] = [tensors.get(scope, f"g_h{k}/w", (KERNEL, KERNEL, out, previous)),
                                 tensors.get(scope, f"g_h{k}/biases", (out,))]
        if k < len(stages):
            weights[f"deconv{k}_bn"] = tensors.batch_norm(scope, f"g_bn{k}", out)
    gf_dim = hidden[-1]
    dcgan = tuple(gf_dim * 2 ** (len(hidden) - 1 - i) for i in range(len(hidden)))
    model = ModelConfig(image_size=image_size, z_dim=z_dim, gf_dim=gf_dim, df_dim=gf_dim, channels=channels[-1],
                        g_channels=() if hidden == dcgan else hidden)
    layout = (f"generator {image_size} px, z {z_dim}, channels {list(hidden)} -> {channels[-1]}"
              + ("" if hidden == dcgan else " (not DCGAN's halving schedule: kept as model.g_channels)"))
    return model, weights, layout


def _discriminator(tensors: _Tensors, model: ModelConfig) -> tuple[dict | None, str]:
    """D's weights (its width df_dim is what its first conv has), or None when the file has no D."""
    scope = tensors.d_scope
    if scope is None:
        return None, ""
    from dcgan_inversion.gan.model import num_stages

    convs, stages = tensors.numbered(scope, "d_h{}_conv/w"), num_stages(model.image_size)
    if convs != list(range(stages)):
        raise CheckpointMismatch(f"{tensors.prefix}: expected convs {scope}d_h0_conv/w ... d_h{stages - 1}_conv/w "
                                 f"(one per stage of the {model.image_size} px generator); found {len(convs)}")
    df_dim = tensors.shapes[f"{scope}d_h0_conv/w"][3]
    weights, previous = {}, model.channels
    for k in range(stages):
        out = df_dim * 2**k
        weights[f"conv{k}"] = [tensors.get(scope, f"d_h{k}_conv/w", (KERNEL, KERNEL, previous, out)),
                               tensors.get(scope, f"d_h{k}_conv/biases", (out,))]
        previous = out
    norms = tensors.numbered(scope, "d_bn{}/gamma")
    if len(norms) != stages - 1:
        raise CheckpointMismatch(f"{tensors.prefix}: expected {stages - 1} batch norms in the discriminator (after "
                                 f"every conv but the first); found {len(norms)}: {['d_bn%d' % k for k in norms]}")
    for k, number in enumerate(norms, 1):  # Amos's shipped file numbers them 1..3; other code 0..2
        weights[f"conv{k}_bn"] = tensors.batch_norm(scope, f"d_bn{number}", df_dim * 2**k)
    logits = tensors.numbered(scope, "d_h{}_lin/Matrix")
    if len(logits) != 1:
        raise CheckpointMismatch(f"{tensors.prefix}: expected one logit layer {scope}d_h3_lin (Amos) or d_h4_lin "
                                 f"(carpedm20); found {['d_h%d_lin' % k for k in logits] or 'none'}")
    flat = 16 * previous
    weights["logit"] = [tensors.get(scope, f"d_h{logits[0]}_lin/Matrix", (flat, 1)),
                        tensors.get(scope, f"d_h{logits[0]}_lin/bias", (1,))]
    names = {3: "Amos's shipped names", 4: "carpedm20's names"}
    return weights, f"discriminator df {df_dim}, logit d_h{logits[0]}_lin ({names.get(logits[0], 'other names')})"


def _examples(names, count: int = 3) -> str:
    listed = sorted(names)[:count]
    return ", ".join(listed) + (", ..." if len(names) > count else "") if listed else "none"
