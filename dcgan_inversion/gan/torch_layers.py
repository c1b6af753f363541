"""A torch network's layers in order, read from a state dict or from a whole pickled model.

A state dict keeps the modules' registration order: `convTr1.weight, batchNorm1.weight, ...,
convTr2.weight` or `main.0.weight, main.1.weight, ...` (an `nn.Dropout` or `nn.ReLU` in a Sequential
has no weights, so its index is a gap). So a layer is a module path (the key without its last part),
in the order of first appearance, and what it is comes from its arrays: a 4-d `weight` is a
convolution, a 2-d one a Linear, `weight/bias/running_mean/running_var` of one length a batch norm.
Names are never read for meaning; wrappers (`module.` of DataParallel, `_orig_mod.` of torch.compile)
are stripped. Activations are not stored in a state dict: the caller assumes them and says so.

A whole-model file (`torch.save(netG)`, read as inert stand-ins by torch_pickle.py) has the module
tree itself: `_modules` in registration order, `_parameters`, `_buffers` and each module's class,
so activations (`ReLU`, `LeakyReLU(negative_slope)`, `Tanh`), `Dropout` and batch norm's `eps` are
read, not assumed.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from dcgan_inversion.gan.imported import CheckpointMismatch
from dcgan_inversion.gan.torch_pickle import StandIn

PARTS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
BATCH_NORM = ("weight", "bias", "running_mean", "running_var")  # gamma, beta, moving mean, moving variance
WRAPPERS = ("module.", "_orig_mod.")  # nn.DataParallel / DistributedDataParallel, torch.compile
ACTIVATIONS = {"ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
               "ELU": "elu", "SELU": "selu", "GELU": "gelu", "SiLU": "silu", "Hardtanh": "hardtanh"}
NO_OPS = {"Dropout", "Dropout2d", "Dropout1d", "AlphaDropout", "Identity", "Flatten", "Unflatten"}
WEIGHTED = {"ConvTranspose2d": "conv", "Conv2d": "conv", "BatchNorm2d": "bn", "BatchNorm1d": "bn", "Linear": "linear",
            "Embedding": "embedding"}


@dataclass
class Layer:
    """One module: a weighted layer (conv, bn, linear) or, from a whole model, an activation."""

    path: str
    kind: str                        # conv | bn | linear | embedding | an ACTIVATIONS value | dropout
    arrays: dict = field(default_factory=dict)
    torch_class: str = ""            # the class a whole-model file names ("" from a state dict)
    attributes: dict = field(default_factory=dict)  # negative_slope, eps, stride, padding (whole models)


@dataclass
class Network:
    """A network's layers in order, from a state dict or a module tree."""

    layers: list
    keys: int                        # arrays in the file for this network
    ignored: list                    # counters (num_batches_tracked): not weights
    from_modules: bool = False       # read from a whole model: activations are known

    @property
    def weighted(self) -> list:
        """The layers of the chain from z to the image (a class embedding stands beside it)."""
        return [layer for layer in self.layers if layer.kind in ("conv", "bn", "linear")]

    @property
    def embedding(self) -> Layer | None:
        """A conditional generator's class embedding (nn.Embedding), if it has one."""
        return next((layer for layer in self.layers if layer.kind == "embedding"), None)


def unwrapped(key: str) -> str:
    """A key without wrappers' prefixes (`module.`, `_orig_mod.`), wherever they stand at its start."""
    changed = True
    while changed:
        changed = False
        for prefix in WRAPPERS:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def is_state_dict(value) -> bool:
    return (isinstance(value, Mapping) and len(value) > 0
            and all(isinstance(key, str) and isinstance(array, np.ndarray) for key, array in value.items()))


def is_module(value) -> bool:
    return isinstance(value, StandIn) and isinstance(getattr(value, "_modules", None), Mapping)


def network_of_state(state: Mapping, source: str) -> Network:
    """The layers of a state dict, in registration order (the module docstring)."""
    groups: dict[str, dict] = OrderedDict()
    ignored = []
    for raw_key, array in state.items():
        path, _, part = unwrapped(raw_key).rpartition(".")
        if part not in PARTS:
            hint = " (spectral or weight norm: save the model after removing it)" if "orig" in part or part in (
                "weight_g", "weight_v", "weight_u") else ""
            raise CheckpointMismatch(f"{source}: key '{raw_key}' is not a layer's weight, bias or batch norm "
                                     f"statistic{hint}: not a generator this importer reads")
        if part == "num_batches_tracked":
            ignored.append(raw_key)
            continue
        groups.setdefault(path, {})[part] = array
    layers = [_weighted_layer(path, arrays, source, embedding="emb" in path.rpartition(".")[2].lower())
              for path, arrays in groups.items()]
    return Network(layers, len(state), ignored)


def network_of_module(module: StandIn, source: str) -> Network:
    """The layers of a whole pickled model (leaves of its module tree, in order)."""
    layers, keys, ignored = [], 0, []
    for path, leaf in _leaves(module, ""):
        cls = type(leaf).torch_name.rsplit(".", 1)[-1]
        arrays = OrderedDict()
        for group in ("_parameters", "_buffers"):
            for name, value in (getattr(leaf, group, None) or {}).items():
                if value is None:
                    continue
                if not isinstance(value, np.ndarray):
                    raise CheckpointMismatch(f"{source}: {path}.{name} is not a tensor")
                key = f"{path}.{name}" if path else name
                keys += 1
                if name == "num_batches_tracked":
                    ignored.append(key)
                else:
                    arrays[name] = value
        attributes = {name: getattr(leaf, name) for name in ("negative_slope", "eps", "stride", "padding", "p",
                                                             "output_padding", "groups", "dilation")
                      if hasattr(leaf, name)}
        if cls in WEIGHTED:
            layer = _weighted_layer(path, arrays, source, embedding=cls == "Embedding")
            if layer.kind != WEIGHTED[cls]:
                raise CheckpointMismatch(f"{source}: {path} is a {cls} whose arrays do not look like one")
            layer.torch_class, layer.attributes = type(leaf).torch_name, attributes
            layers.append(layer)
        elif cls in ACTIVATIONS:
            layers.append(Layer(path, ACTIVATIONS[cls], torch_class=type(leaf).torch_name, attributes=attributes))
        elif cls in NO_OPS:
            layers.append(Layer(path, "dropout", torch_class=type(leaf).torch_name))
        else:
            what = "with weights " if arrays else ""
            raise CheckpointMismatch(f"{source}: {path or 'the model'} is a {type(leaf).torch_name} {what}that this "
                                     "importer does not read (it reads ConvTranspose2d, Conv2d, BatchNorm, Linear, "
                                     "activations and Dropout)")
    return Network(layers, keys, ignored, from_modules=True)


def _leaves(module: StandIn, path: str):
    children = getattr(module, "_modules", None) or {}
    if not children:
        yield path, module
        return
    own = {name: value for name, value in (getattr(module, "_parameters", None) or {}).items() if value is not None}
    if own:
        raise CheckpointMismatch(f"{type(module).torch_name} holds its own parameters ({', '.join(own)}) beside its "
                                 "submodules: not a chain of layers this importer reads")
    for name, child in children.items():
        if child is None:
            continue
        if not is_module(child):
            raise CheckpointMismatch(f"{path}.{name} is not a module")
        yield from _leaves(child, f"{path}.{name}" if path else str(name))


def _weighted_layer(path: str, arrays: dict, source: str, embedding: bool = False) -> Layer:
    """A layer from its arrays' names and shapes; `embedding`: a weight-only matrix is a class embedding
    (an nn.Embedding, or a state dict key named so: `label_emb.weight`), not a Linear without bias."""
    where = f"{source}: layer '{path}'"
    for name, array in arrays.items():
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)):
            problem = f"dtype {array.dtype}" if array.dtype.kind != "f" else "non-finite values"
            raise CheckpointMismatch(f"{where}'s {name} has {problem}; expected finite float weights")
    arrays = {name: array.astype(np.float32) for name, array in arrays.items()}
    if set(arrays) == set(BATCH_NORM):
        sizes = {array.shape for array in arrays.values()}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise CheckpointMismatch(f"{where}: a batch norm with arrays of shapes {sorted(sizes)}")
        return Layer(path, "bn", arrays)
    weight, bias = arrays.get("weight"), arrays.get("bias")
    if weight is not None and set(arrays) <= {"weight", "bias"} and weight.ndim in (2, 4):
        if bias is not None and bias.shape != (weight.shape[1 if weight.ndim == 4 else 0],) and \
                bias.shape != (weight.shape[0],):
            raise CheckpointMismatch(f"{where}: a bias of shape {list(bias.shape)} beside a weight of "
                                     f"{list(weight.shape)}")
        if embedding and bias is None and weight.ndim == 2:
            return Layer(path, "embedding", arrays)
        return Layer(path, "conv" if weight.ndim == 4 else "linear", arrays)
    shapes = {name: list(array.shape) for name, array in arrays.items()}
    raise CheckpointMismatch(f"{where} ({shapes}) is neither a convolution, a Linear nor a batch norm")
