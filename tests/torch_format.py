"""Writes torch.save-format files without torch, for the tests: the zip layout and the pickle opcodes
torch.save emits (protocol 2), so the reader is tested against files it did not write itself.

Also a NumPy reference of pytorch/examples' DCGAN, written from the definitions of torch's
ConvTranspose2d (each input pixel scatters kernel * value into the output, then `padding` is cropped
from each side), Conv2d (cross-correlation over the zero-padded input) and BatchNorm2d in eval mode.
"""
from __future__ import annotations

import struct
import zipfile
from collections import OrderedDict

import numpy as np

STORAGES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float16): "HalfStorage",
            np.dtype(np.float64): "DoubleStorage", np.dtype(np.int64): "LongStorage",
            np.dtype(np.uint16): "BFloat16Storage"}  # NumPy has no bfloat16: its bits as uint16


class PickleWriter:
    """Protocol-2 pickle opcodes for dicts, ordered dicts, tensors (as torch writes them) and plain values;
    `legacy`: storages named as torch's legacy format names them (a sixth field, the view, None), and
    modules (`Module`) as whole-model files build them (NEWOBJ, then BUILD from their __dict__)."""

    def __init__(self, legacy: bool = False):
        self.out = bytearray(b"\x80\x02")
        self.storages: dict[str, bytes] = {}
        self.dtypes: dict[str, np.dtype] = {}
        self.legacy = legacy

    def global_(self, module: str, name: str) -> None:
        self.out += b"c" + f"{module}\n{name}\n".encode()

    def value(self, value) -> None:
        if isinstance(value, bool):
            self.out += b"\x88" if value else b"\x89"
        elif isinstance(value, int):
            self.out += b"J" + struct.pack("<i", value)
        elif isinstance(value, float):
            self.out += b"G" + struct.pack(">d", value)
        elif isinstance(value, str):
            data = value.encode()
            self.out += b"X" + struct.pack("<I", len(data)) + data
        elif isinstance(value, tuple):
            self.out += b"("
            for item in value:
                self.value(item)
            self.out += b"t"
        elif isinstance(value, list):
            self.out += b"]("
            for item in value:
                self.value(item)
            self.out += b"e"
        elif value is None:
            self.out += b"N"
        elif isinstance(value, np.ndarray):
            self.tensor(value)
        elif isinstance(value, Module):
            self.module(value)
        elif isinstance(value, OrderedDict):
            self.global_("collections", "OrderedDict")
            self.out += b")R"
            self._items(value)
        elif isinstance(value, dict):
            self.out += b"}"
            self._items(value)
        else:
            raise TypeError(type(value))

    def _items(self, mapping) -> None:
        if mapping:
            self.out += b"("
            for key, item in mapping.items():
                self.value(key)
                self.value(item)
            self.out += b"u"

    def tensor(self, array: np.ndarray, fortran: bool = False) -> None:
        """`_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`; `fortran` stores it
        column-major (strides reversed), as a transposed view would be saved."""
        key = str(len(self.storages))
        data = np.asfortranarray(array) if fortran else np.ascontiguousarray(array)
        self.storages[key] = data.tobytes(order="F" if fortran else "C")
        self.dtypes[key] = array.dtype
        strides = tuple(s // array.itemsize for s in data.strides) if array.ndim else ()
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += b"(("
        self.value("storage")
        self.global_("torch", STORAGES[array.dtype])
        self.value(key)
        self.value("cpu")
        self.value(int(array.size))
        if self.legacy:
            self.out += b"N"  # no view
        self.out += b"tQ"  # TUPLE, BINPERSID
        self.value(0)
        self.value(tuple(int(n) for n in array.shape))
        self.value(strides)
        self.value(False)
        self.global_("collections", "OrderedDict")
        self.out += b")R"
        self.out += b"tR"  # the arguments' TUPLE, REDUCE

    def module(self, module: "Module") -> None:
        """`module` as torch.save(model) pickles an nn.Module: its class, NEWOBJ, then its __dict__."""
        self.global_(*module.cls.rsplit(".", 1))
        self.out += b")\x81"  # EMPTY_TUPLE, NEWOBJ
        state = {"training": False, "_parameters": OrderedDict(module.parameters),
                 "_buffers": OrderedDict(module.buffers), "_non_persistent_buffers_set": None,
                 "_backward_hooks": OrderedDict(), "_forward_hooks": OrderedDict(),
                 "_forward_pre_hooks": OrderedDict(), "_state_dict_hooks": OrderedDict(),
                 "_load_state_dict_pre_hooks": OrderedDict(), "_modules": OrderedDict(module.modules),
                 **module.attributes}
        self.out += b"}("
        for key, item in state.items():
            self.value(key)
            if key == "_non_persistent_buffers_set":  # pickled as __builtin__.set([]) by protocol 2
                self.global_("__builtin__", "set")
                self.out += b"]\x85R"  # EMPTY_LIST, TUPLE1, REDUCE
            elif key == "_parameters":
                self.out += b"}(" if item else b"}"  # each through _rebuild_parameter(tensor, grad, hooks)
                for name, array in item.items():
                    self.value(name)
                    self.global_("torch._utils", "_rebuild_parameter")
                    self.out += b"("
                    self.tensor(array)
                    self.value(True)
                    self.global_("collections", "OrderedDict")
                    self.out += b")Rt" + b"R"
                self.out += b"u" if item else b""
            else:
                self.value(item)
        self.out += b"ub"  # SETITEMS, BUILD

    def finish(self) -> bytes:
        return bytes(self.out + b".")


class Module:
    """An nn.Module for the whole-model writer: its class path, weights, submodules and attributes."""

    def __init__(self, cls: str, parameters=(), buffers=(), modules=(), **attributes):
        self.cls, self.attributes = cls, attributes
        self.parameters, self.buffers, self.modules = OrderedDict(parameters), OrderedDict(buffers), OrderedDict(modules)


def write_legacy_torch_file(path, obj, little_endian: bool = True, magic: int = 0x1950A86A20F9469CFC6C,
                            count_change: int = 0, cut: int = 0) -> None:
    """`obj` as torch.save wrote it before 1.6: magic, protocol, system info, the object, the sorted
    storage keys, then each storage's int64 element count and bytes. `count_change` miscounts the
    first storage; `cut` drops that many bytes from the end."""
    import pickle

    writer = PickleWriter(legacy=True)
    writer.value(obj)
    out = bytearray()
    for header in (magic, 1001, {"protocol_version": 1001, "little_endian": little_endian,
                                 "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        out += pickle.dumps(header, protocol=2)
    out += writer.finish()
    keys = sorted(writer.storages)
    out += pickle.dumps(keys, protocol=2)
    for number, key in enumerate(keys):
        count = len(writer.storages[key]) // writer.dtypes[key].itemsize + (count_change if number == 0 else 0)
        out += struct.pack("<q", count) + writer.storages[key]
    with open(path, "wb") as handle:
        handle.write(bytes(out[:len(out) - cut]))


def write_safetensors(path, state) -> None:
    """A safetensors file as its writers make it: an 8-byte header length, the JSON header (sorted by
    name, as `safetensors.torch.save_file` sorts it), then the bytes."""
    import json

    header, blobs, offset = {}, [], 0
    codes = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.float16): "F16"}
    for name in sorted(state):
        data = np.ascontiguousarray(state[name]).tobytes()
        header[name] = {"dtype": codes[state[name].dtype], "shape": list(state[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_torch_file(path, obj, folder: str = "archive", pickle_bytes: bytes | None = None,
                     storages: dict | None = None, drop_storage: str | None = None) -> None:
    """`obj` as torch.save writes it (or raw `pickle_bytes` with `storages`); `drop_storage` leaves one out."""
    if pickle_bytes is None:
        writer = PickleWriter()
        writer.value(obj)
        pickle_bytes, storages = writer.finish(), writer.storages
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{folder}/data.pkl", pickle_bytes)
        archive.writestr(f"{folder}/byteorder", "little")
        for key, data in (storages or {}).items():
            if key != drop_storage:
                archive.writestr(f"{folder}/data/{key}", data)
        archive.writestr(f"{folder}/version", "3\n")


def hostile_pickle(module: str, name: str, argument: str) -> bytes:
    """A pickle that calls module.name(argument) when a plain unpickler loads it (the __reduce__ trick)."""
    writer = PickleWriter()
    writer.global_(module, name)
    writer.value((argument,))
    writer.out += b"R"
    return writer.finish()


# --- pytorch/examples' DCGAN: random state dicts and a NumPy forward pass -------------------------

def generator_state(rng, nz: int, ngf: int, nc: int, image_size: int, prefix: str = "main.") -> OrderedDict:
    """A random state dict of pytorch/examples' netG at `image_size` (batch norms with random statistics)."""
    stages = int(np.log2(image_size // 4))
    channels = [ngf * 2 ** (stages - 1 - k) for k in range(stages)] + [nc]
    state, index, previous = OrderedDict(), 0, nz
    for stage, width in enumerate(channels):
        state[f"{prefix}{index}.weight"] = rng.normal(0, 0.3, (previous, width, 4, 4)).astype(np.float32)
        if stage < stages:
            _batch_norm_state(state, f"{prefix}{index + 1}", width, rng)
        index, previous = index + 3, width
    return state


def discriminator_state(rng, ndf: int, nc: int, image_size: int, prefix: str = "main.") -> OrderedDict:
    """A random state dict of pytorch/examples' netD at `image_size`."""
    stages = int(np.log2(image_size // 4))
    state, previous = OrderedDict(), nc
    state[f"{prefix}0.weight"] = rng.normal(0, 0.1, (ndf, nc, 4, 4)).astype(np.float32)
    previous, index = ndf, 2
    for stage in range(1, stages):
        width = ndf * 2**stage
        state[f"{prefix}{index}.weight"] = rng.normal(0, 0.1, (width, previous, 4, 4)).astype(np.float32)
        _batch_norm_state(state, f"{prefix}{index + 1}", width, rng)
        previous, index = width, index + 3
    state[f"{prefix}{index}.weight"] = rng.normal(0, 0.1, (1, previous, 4, 4)).astype(np.float32)
    return state


def _batch_norm_state(state, name: str, width: int, rng) -> None:
    state[f"{name}.weight"] = rng.uniform(0.5, 1.5, width).astype(np.float32)
    state[f"{name}.bias"] = rng.normal(0, 0.2, width).astype(np.float32)
    state[f"{name}.running_mean"] = rng.normal(0, 0.3, width).astype(np.float32)
    state[f"{name}.running_var"] = rng.uniform(0.5, 2.0, width).astype(np.float32)
    state[f"{name}.num_batches_tracked"] = np.array(1234, np.int64)


def conv_transpose2d(x, weight, stride: int, padding: int):
    """torch.nn.functional.conv_transpose2d: x (N, C_in, H, W), weight (C_in, C_out, k, k)."""
    n, _, height, width = x.shape
    k = weight.shape[2]
    full = np.zeros((n, weight.shape[1], (height - 1) * stride + k, (width - 1) * stride + k))
    for i in range(height):
        for j in range(width):
            full[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], weight)
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]


def conv2d(x, weight, stride: int, padding: int):
    """torch.nn.functional.conv2d (cross-correlation): x (N, C_in, H, W), weight (C_out, C_in, k, k)."""
    k = weight.shape[2]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    height = (padded.shape[2] - k) // stride + 1
    width = (padded.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], weight.shape[0], height, width))
    for i in range(height):
        for j in range(width):
            patch = padded[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, weight)
    return out


def batch_norm2d(x, state, name: str, eps: float = 1e-5):
    """BatchNorm2d in eval mode: the running statistics."""
    shape = (1, -1, 1, 1)
    scale = state[f"{name}.weight"].reshape(shape) / np.sqrt(state[f"{name}.running_var"].reshape(shape) + eps)
    return (x - state[f"{name}.running_mean"].reshape(shape)) * scale + state[f"{name}.bias"].reshape(shape)


def reference_generator(state, z, prefix: str = "main."):
    """netG(z) in NCHW, from the state dict, in float64."""
    convs = sorted(int(key[len(prefix):].split(".")[0]) for key in state if key.endswith(".weight")
                   and state[key].ndim == 4)
    x = z.astype(np.float64)[:, :, None, None]
    for number, index in enumerate(convs):
        weight = state[f"{prefix}{index}.weight"].astype(np.float64)
        x = conv_transpose2d(x, weight, 1, 0) if number == 0 else conv_transpose2d(x, weight, 2, 1)
        if number < len(convs) - 1:
            x = np.maximum(batch_norm2d(x, state, f"{prefix}{index + 1}"), 0.0)
    return np.tanh(x)


def reference_discriminator(state, images, prefix: str = "main."):
    """netD's logit (before the sigmoid) for NCHW images, in float64."""
    convs = sorted(int(key[len(prefix):].split(".")[0]) for key in state if key.endswith(".weight")
                   and state[key].ndim == 4)
    x = images.astype(np.float64)
    for number, index in enumerate(convs[:-1]):
        x = conv2d(x, state[f"{prefix}{index}.weight"].astype(np.float64), 2, 1)
        if number > 0:
            x = batch_norm2d(x, state, f"{prefix}{index + 1}")
        x = np.where(x > 0, x, 0.2 * x)
    return conv2d(x, state[f"{prefix}{convs[-1]}.weight"].astype(np.float64), 1, 0).reshape(len(images), 1)


# --- generators in the wild: named layers, whole models, conditional, MLP -------------------------

def dcgan_layers(rng, nz: int, channels: list, labels: int = 0, bias: bool = False) -> list:
    """A DCGAN generator's layers in order, as (kind, arrays): the first conv takes nz + labels inputs."""
    layers, previous = [], nz + labels
    for number, width in enumerate(channels):
        arrays = {"weight": rng.normal(0, 0.3, (previous, width, 4, 4)).astype(np.float32)}
        if bias:
            arrays["bias"] = rng.normal(0, 0.2, width).astype(np.float32)
        layers.append(("conv", arrays))
        if number < len(channels) - 1:
            norm = OrderedDict()
            _batch_norm_state(norm, "bn", width, rng)
            layers.append(("bn", {key.split(".", 1)[1]: value for key, value in norm.items()}))
        previous = width
    return layers


def mlp_layers(rng, nz: int, widths: list, labels: int = 0, norms: tuple = ()) -> list:
    """An MLP generator's Linear layers (weight (out, in), bias), the first taking nz + labels inputs, a
    BatchNorm1d after each hidden layer numbered in `norms` (PyTorch-GAN's MLP: all but the first)."""
    layers, previous = [], nz + labels
    for number, width in enumerate(widths):
        layers.append(("linear", {"weight": rng.normal(0, 1 / np.sqrt(previous), (width, previous)).astype(np.float32),
                                  "bias": rng.normal(0, 0.1, width).astype(np.float32)}))
        if number in norms:
            layers.append(("bn", {"weight": rng.uniform(0.5, 1.5, width).astype(np.float32),
                                  "bias": rng.normal(0, 0.1, width).astype(np.float32),
                                  "running_mean": rng.normal(0, 0.3, width).astype(np.float32),
                                  "running_var": rng.uniform(0.2, 2.0, width).astype(np.float32),
                                  "num_batches_tracked": np.array(7, np.int64)}))
        previous = width
    return layers


def state_of(layers, names) -> OrderedDict:
    """A state dict of `layers` under `names` (one module path per layer, in order)."""
    state = OrderedDict()
    for (_, arrays), name in zip(layers, names):
        for part, value in arrays.items():
            state[f"{name}.{part}"] = value
    return state


def reference_dcgan(layers, z, onehot=None, slope: float = 0.0):
    """The DCGAN generator of `layers` (NCHW, float64): the one-hot class follows z; ReLU (or leaky)."""
    x = z if onehot is None else np.concatenate([z, onehot], axis=1)
    x = x.astype(np.float64)[:, :, None, None]
    convs = 0
    for kind, arrays in layers:
        if kind == "conv":
            x = conv_transpose2d(x, arrays["weight"].astype(np.float64), *((1, 0) if convs == 0 else (2, 1)))
            if "bias" in arrays:
                x = x + arrays["bias"].reshape(1, -1, 1, 1)
            convs += 1
        else:
            x = batch_norm2d(x, {f"b.{k}": v for k, v in arrays.items()}, "b")
            x = np.where(x > 0, x, slope * x)
    return np.tanh(x)


def reference_mlp(layers, z, channels: int, size: int, onehot=None, slope: float = 0.2, eps: float = 1e-5,
                  class_first: bool = False):
    """The MLP generator of `layers`: Linear, (BatchNorm1d in eval mode), leaky ReLU, ..., Linear, tanh,
    viewed as (N, C, H, W); `onehot`: the class inputs (one-hot or embedded), after z or `class_first`."""
    parts = [z] if onehot is None else [onehot, z] if class_first else [z, onehot]
    x = np.concatenate(parts, axis=1).astype(np.float64)
    linears = sum(kind == "linear" for kind, _ in layers)
    seen = 0
    for number, (kind, arrays) in enumerate(layers):
        if kind == "bn":
            x = (x - arrays["running_mean"]) / np.sqrt(arrays["running_var"].astype(np.float64) + eps) \
                * arrays["weight"] + arrays["bias"]
        else:
            x = x @ arrays["weight"].T.astype(np.float64) + arrays["bias"]
            seen += 1
        following = layers[number + 1][0] if number + 1 < len(layers) else None
        if seen < linears and following != "bn":
            x = np.where(x > 0, x, slope * x)
    return np.tanh(x).reshape(len(z), channels, size, size)


def whole_model(layers, activation=("ReLU", {}), dropout_after: int | None = None, modules_for_activations=True,
                output_padding=(0, 0), bn_eps: float = 1e-5) -> Module:
    """`torch.save(netG)` of a user's Generator holding `main`, an nn.Sequential of the layers with
    their activations (and an nn.Dropout after the `dropout_after`-th activation); an MLP's batch
    norms are BatchNorm1d."""
    mlp = any(kind == "linear" for kind, _ in layers)
    classes = {"conv": "torch.nn.modules.conv.ConvTranspose2d",
               "bn": f"torch.nn.modules.batchnorm.BatchNorm{1 if mlp else 2}d", "linear": "torch.nn.modules.linear.Linear"}
    children, index, convs = [], 0, 0
    weighted = [kind for kind, _ in layers]
    for number, (kind, arrays) in enumerate(layers):
        attributes = {}
        if kind == "conv":
            attributes = {"stride": (1, 1) if convs == 0 else (2, 2), "padding": (0, 0) if convs == 0 else (1, 1),
                          "output_padding": output_padding, "groups": 1, "dilation": (1, 1)}
            convs += 1
        if kind == "bn":
            attributes = {"eps": bn_eps, "momentum": 0.1}
        buffers = {k: v for k, v in arrays.items() if k in ("running_mean", "running_var", "num_batches_tracked")}
        parameters = {k: v for k, v in arrays.items() if k not in buffers}
        children.append(Module(classes[kind], parameters, buffers, **attributes))
        last = number == len(layers) - 1
        next_weighted = None if last else weighted[number + 1]
        if not modules_for_activations:  # F.relu / torch.tanh in forward: no modules for them
            continue
        if last:
            children.append(Module("torch.nn.modules.activation.Tanh"))
        elif kind == "bn" or (kind == "linear" and next_weighted == "linear"):
            children.append(Module(f"torch.nn.modules.activation.{activation[0]}", **activation[1]))
            if dropout_after is not None and sum(1 for c in children if "activation" in c.cls) == dropout_after:
                children.append(Module("torch.nn.modules.dropout.Dropout", p=0.5))
    main = Module("torch.nn.modules.container.Sequential", modules=[(str(i), c) for i, c in enumerate(children)])
    return Module("__main__.Generator", modules=[("main", main)])
