"""PyTorch DCGAN state dicts (pytorch/examples' dcgan, the DCGAN faces tutorial) as this project's
`pytorch_dcgan` Keras models.

The file is read by torch_file.py (no torch, no code run). What it holds may be a plain state dict
(`netG_epoch_N.pth`), or a dict of state dicts (`netG_state_dict` / `netD_state_dict`, `generator`,
`G`, ...); keys may sit under `module.` (nn.DataParallel). Which state dict is G and which is D is
read off the layers, not the key names: a state dict is a numbered `nn.Sequential` (`main.<i>.*`)
whose layers are convolutions (4-d `weight`) and batch norms (`weight`, `bias`, `running_mean`,
`running_var`). G is conv, BN, [conv, BN]*, conv: the first conv (nz, C0, 4, 4) on the 1x1 latent,
the last to 1 or 3 channels. D is conv, [conv, BN]*, conv: the first from 1 or 3 channels, the last
to one logit. Everything about the model (image size, nz, widths, channels) comes from the shapes.

Conversions (REFERENCE "PyTorch DCGAN checkpoints"): ConvTranspose2d weight (in, out, kh, kw) and
Conv2d weight (out, in, kh, kw) both go to Keras's kernel by transposing to (kh, kw, ., .) with no
flip; the first layer's (nz, C0, 4, 4) becomes a dense kernel (nz, 4*4*C0) in NHWC order; batch norm
weight/bias/running_mean/running_var become gamma/beta/moving_mean/moving_variance;
`num_batches_tracked` is a counter, not a weight.
"""
from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.gan.architectures.blocks import num_stages
from dcgan_inversion.gan.imported import CheckpointMismatch, ImportedWeights

KERNEL = 4
KEY = re.compile(r"^(?P<prefix>(?:[A-Za-z_]\w*\.)*?)(?P<index>\d+)\.(?P<part>weight|bias|running_mean|running_var|"
                 r"num_batches_tracked)$")
BATCH_NORM = ("weight", "bias", "running_mean", "running_var")  # gamma, beta, moving mean, moving variance
PREFIXES = ("module.",)  # nn.DataParallel / DistributedDataParallel


@dataclass
class Layer:
    """One numbered entry of the Sequential: a conv (its weight) or a batch norm (its four arrays)."""

    index: int
    kind: str                   # "conv" or "bn"
    arrays: dict


@dataclass
class Network:
    """A state dict read as a DCGAN generator or discriminator."""

    role: str                   # "generator" or "discriminator"
    layers: list
    keys: int                   # entries in the state dict
    ignored: list               # counters (num_batches_tracked)


def state_dicts(saved, source) -> dict[str, Mapping]:
    """The state dicts in what torch.save wrote, by the name they had in it ('' for a plain state dict)."""
    if _is_state_dict(saved):
        return {"": saved}
    if isinstance(saved, Mapping):
        found = {str(name): value for name, value in saved.items() if _is_state_dict(value)}
        for name, value in saved.items():  # one level deeper: {'model': {'netG': ...}}
            if isinstance(value, Mapping) and not _is_state_dict(value):
                found.update({f"{name}.{inner}": v for inner, v in value.items() if _is_state_dict(v)})
        if found:
            return found
    kind = type(saved).__name__
    keys = f" with keys {', '.join(map(str, list(saved)[:6]))}" if isinstance(saved, Mapping) else ""
    raise CheckpointMismatch(f"{source} holds a {kind}{keys} but no state dict of tensors (save "
                             "netG.state_dict(), as pytorch/examples' dcgan does)")


def _unwrapped(key: str) -> str:
    """A key without the wrapper's prefix (`module.` of nn.DataParallel)."""
    for prefix in PREFIXES:
        key = key[len(prefix):] if key.startswith(prefix) else key
    return key


def _is_state_dict(value) -> bool:
    return (isinstance(value, Mapping) and len(value) > 0
            and all(isinstance(key, str) and isinstance(array, np.ndarray) for key, array in value.items()))


def read_network(state: Mapping, source: str) -> Network:
    """The state dict's layers in order, and whether they make a DCGAN generator or discriminator."""
    entries, ignored = {}, []
    prefixes = set()
    for raw_key, array in state.items():
        match = KEY.match(_unwrapped(raw_key))
        if match is None:
            raise CheckpointMismatch(f"{source}: key '{raw_key}' is not a layer of a numbered nn.Sequential (as "
                                     "main.0.weight in pytorch/examples' DCGAN): not a DCGAN state dict")
        prefixes.add(match["prefix"])
        if match["part"] == "num_batches_tracked":
            ignored.append(raw_key)
            continue
        entries.setdefault(int(match["index"]), {})[match["part"]] = array
    if len(prefixes) != 1:
        raise CheckpointMismatch(f"{source}: layers under several modules ({', '.join(sorted(prefixes))}): expected "
                                 "one nn.Sequential as in pytorch/examples' DCGAN")
    layers = [_layer(index, arrays, source) for index, arrays in sorted(entries.items())]
    return Network(_role(layers, source), layers, len(state), ignored)


def _layer(index: int, arrays: dict, source: str) -> Layer:
    for name, array in arrays.items():
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)):
            problem = f"dtype {array.dtype}" if array.dtype.kind != "f" else "non-finite values"
            raise CheckpointMismatch(f"{source}: layer {index}'s {name} has {problem}; expected finite float weights")
    if set(arrays) == set(BATCH_NORM):
        sizes = {array.shape for array in arrays.values()}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise CheckpointMismatch(f"{source}: batch norm {index} has arrays of shapes {sorted(sizes)}")
        return Layer(index, "bn", {name: array.astype(np.float32) for name, array in arrays.items()})
    if set(arrays) == {"weight"} and arrays["weight"].ndim == 4:
        return Layer(index, "conv", {"weight": arrays["weight"].astype(np.float32)})
    if "bias" in arrays and "weight" in arrays and arrays["weight"].ndim == 4:
        raise CheckpointMismatch(f"{source}: conv {index} has a bias; pytorch/examples' DCGAN convs have none "
                                 "(bias=False): another architecture")
    shapes = {name: list(array.shape) for name, array in arrays.items()}
    raise CheckpointMismatch(f"{source}: layer {index} ({shapes}) is neither a conv nor a batch norm: not a DCGAN")


def _role(layers: list, source: str) -> str:
    kinds = "".join("c" if layer.kind == "conv" else "b" for layer in layers)
    if re.fullmatch(r"cb(cb)*c", kinds):
        return "generator"
    if re.fullmatch(r"c(cb)*c", kinds):
        return "discriminator"
    raise CheckpointMismatch(f"{source}: its layers (conv/batch norm: {' '.join(kinds.replace('c', 'C').replace('b', 'B'))})"
                             " make neither a DCGAN generator (C B [C B]* C) nor a discriminator (C [C B]* C)")


def generator_weights(network: Network, source: str) -> tuple[ModelConfig, dict]:
    """The generator's model config and its weights by this project's layer names."""
    convs = [layer for layer in network.layers if layer.kind == "conv"]
    norms = [layer for layer in network.layers if layer.kind == "bn"]
    first = convs[0].arrays["weight"]
    z_dim, base = first.shape[0], first.shape[1]
    for layer in convs:
        if layer.arrays["weight"].shape[2:] != (KERNEL, KERNEL):
            raise CheckpointMismatch(f"{source}: conv {layer.index} has a {layer.arrays['weight'].shape[2:]} kernel; "
                                     f"pytorch/examples' DCGAN uses {KERNEL}x{KERNEL}")
    channels = [base]
    for layer in convs[1:]:
        c_in, c_out = layer.arrays["weight"].shape[:2]
        if c_in != channels[-1]:
            raise CheckpointMismatch(f"{source}: transposed conv {layer.index} takes {c_in} channels but the layer "
                                     f"before gives {channels[-1]}")
        channels.append(c_out)
    for norm, size in zip(norms, channels):
        if norm.arrays["weight"].shape != (size,):
            raise CheckpointMismatch(f"{source}: batch norm {norm.index} has {norm.arrays['weight'].shape[0]} "
                                     f"channels; the conv before it gives {size}")
    image_size = 4 * 2 ** (len(convs) - 1)
    _check_image(image_size, channels[-1], source, "generator")
    hidden = tuple(channels[:-1])
    gf_dim = hidden[-1]
    halving = tuple(gf_dim * 2 ** (len(hidden) - 1 - i) for i in range(len(hidden)))
    model = ModelConfig(architecture="pytorch_dcgan", latent="normal", image_size=image_size, z_dim=z_dim,
                        gf_dim=gf_dim, df_dim=gf_dim, channels=channels[-1], g_channels=() if hidden == halving else hidden)
    weights = {"project": [np.transpose(first, (0, 2, 3, 1)).reshape(z_dim, 16 * base)]}
    names = ["project"] + [f"deconv{k}" for k in range(1, len(convs))]
    for name, layer in zip(names[1:], convs[1:]):
        weights[name] = [np.transpose(layer.arrays["weight"], (2, 3, 1, 0))]
    for name, norm in zip(names, norms):
        weights[f"{name}_bn"] = [norm.arrays[part] for part in BATCH_NORM]
    return model, weights


def discriminator_weights(network: Network, model: ModelConfig, source: str) -> tuple[int, dict]:
    """The discriminator's width df_dim and its weights, checked against the generator's model."""
    convs = [layer for layer in network.layers if layer.kind == "conv"]
    norms = [layer for layer in network.layers if layer.kind == "bn"]
    stages = num_stages(model.image_size)
    if len(convs) != stages + 1:
        raise CheckpointMismatch(f"{source}: the discriminator has {len(convs)} convs; a {model.image_size} px "
                                 f"generator's has {stages + 1}")
    df_dim = convs[0].arrays["weight"].shape[0]
    previous, weights = model.channels, {}
    for stage, layer in enumerate(convs[:-1]):
        expected = (df_dim * 2**stage, previous, KERNEL, KERNEL)
        if layer.arrays["weight"].shape != expected:
            raise CheckpointMismatch(f"{source}: discriminator conv {layer.index} has shape "
                                     f"{list(layer.arrays['weight'].shape)}; expected {list(expected)}")
        weights[f"conv{stage}"] = [np.transpose(layer.arrays["weight"], (2, 3, 1, 0))]
        previous = expected[0]
    for stage, norm in enumerate(norms, 1):
        if norm.arrays["weight"].shape != (df_dim * 2**stage,):
            raise CheckpointMismatch(f"{source}: discriminator batch norm {norm.index} has "
                                     f"{norm.arrays['weight'].shape[0]} channels; expected {df_dim * 2**stage}")
        weights[f"conv{stage}_bn"] = [norm.arrays[part] for part in BATCH_NORM]
    logit = convs[-1].arrays["weight"]
    if logit.shape != (1, previous, KERNEL, KERNEL):
        raise CheckpointMismatch(f"{source}: the discriminator's last conv has shape {list(logit.shape)}; expected "
                                 f"{[1, previous, KERNEL, KERNEL]} (one logit from the 4x4 features)")
    weights["logit"] = [np.transpose(logit, (2, 3, 1, 0))]
    return df_dim, weights


def _check_image(image_size: int, channels: int, source: str, what: str) -> None:
    choices = ModelConfig.__dataclass_fields__["image_size"].metadata["choices"]
    if image_size not in choices or channels not in (1, 3):
        raise CheckpointMismatch(f"{source}: the {what} makes {image_size} px images of {channels} channels; this "
                                 f"design has {choices} px with 1 or 3 channels")


def read_pytorch_checkpoint(path, discriminator=None) -> ImportedWeights:
    """The generator in the torch.save file `path`, and a discriminator: from the same file, from
    `discriminator` (a path), or from the netD file beside a netG one (pytorch/examples' names)."""
    from dcgan_inversion.gan.torch_file import read_torch_file

    path = Path(path)
    networks = _networks(read_torch_file(path), str(path))
    generators = {name: net for name, net in networks.items() if net.role == "generator"}
    inside = {name: net for name, net in networks.items() if net.role == "discriminator"}
    if not generators:
        raise CheckpointMismatch(f"{path} holds a DCGAN discriminator's state dict, not a generator's: import the "
                                 "generator's file (netG_epoch_N.pth) and name this one with --discriminator")
    if len(generators) > 1 or len(inside) > 1:
        raise CheckpointMismatch(f"{path} holds several state dicts of one role ({', '.join(networks)}): save one "
                                 "generator (and one discriminator) per file")
    (g_name, generator), = generators.items()
    model, g_weights = generator_weights(generator, _where(path, g_name))
    used, total, ignored = _count(generator, g_name)
    d_weights, d_source = None, None
    if inside:
        (d_name, network), = inside.items()
        d_source = _where(path, d_name)
    else:
        d_path = Path(discriminator) if discriminator is not None else _beside(path)
        network, d_name = (_discriminator_file(d_path) if d_path is not None else (None, ""))
        d_source = None if d_path is None else str(d_path)
    if network is not None:
        df_dim, d_weights = discriminator_weights(network, model, d_source)
        model = dataclasses.replace(model, df_dim=df_dim)
        d_used, d_total, d_ignored = _count(network, d_name)
        used, total, ignored = used + d_used, total + d_total, ignored + d_ignored
    hidden = list(model.g_channels) or [model.gf_dim * 2 ** k for k in reversed(range(num_stages(model.image_size)))]
    layout = (f"pytorch_dcgan generator {model.image_size} px, z {model.z_dim}, channels {hidden} -> {model.channels}"
              f" ({_where(path, g_name)})" + (f"; discriminator df {model.df_dim} ({d_source})" if d_weights
                                            else "; no discriminator"))
    return ImportedWeights(str(path), model, g_weights, d_weights, layout, used, total, ignored)


def _networks(saved, source: str) -> dict[str, Network]:
    networks = {}
    for name, state in state_dicts(saved, source).items():
        for part, substate in _split_by_module(state).items():
            full = ".".join(filter(None, (name, part)))
            networks[full] = read_network(substate, _where(source, full))
    return networks


def _split_by_module(state: Mapping) -> dict[str, Mapping]:
    """One state dict holding both networks (Lightning's `{'state_dict': {'generator.main.0.weight': ...,
    'discriminator.main.0.weight': ...}}`) split at the first name when the keys' module paths differ
    there; otherwise the state dict as it is."""
    heads = {}
    for key in state:
        head, _, rest = _unwrapped(key).partition(".")
        heads.setdefault(head, {})[key] = rest
    if len(heads) < 2 or any(not KEY.match(rest) or rest.split(".", 1)[0].isdigit() for group in heads.values()
                             for rest in group.values()):
        return {"": state}
    return {head: OrderedDict((key, state[key]) for key in group) for head, group in heads.items()}


def _where(path, name: str) -> str:
    return f"{path}[{name}]" if name else str(path)


def _count(network: Network, name: str) -> tuple[int, int, list]:
    """Arrays imported, entries in the state dict, and the ignored counters' keys."""
    prefix = f"{name}." if name else ""
    return network.keys - len(network.ignored), network.keys, [prefix + key for key in network.ignored]


def _beside(path: Path) -> Path | None:
    """pytorch/examples writes netG_epoch_N.pth and netD_epoch_N.pth side by side."""
    if "netG" not in path.name:
        return None
    candidate = path.with_name(path.name.replace("netG", "netD"))
    return candidate if candidate.is_file() else None


def _discriminator_file(path: Path) -> tuple[Network, str]:
    from dcgan_inversion.gan.torch_file import read_torch_file

    if not path.is_file():
        raise CheckpointMismatch(f"discriminator file not found: {path}")
    networks = _networks(read_torch_file(path), str(path))
    found = {name: net for name, net in networks.items() if net.role == "discriminator"}
    if len(found) != 1:
        roles = ", ".join(sorted({net.role for net in networks.values()}))
        raise CheckpointMismatch(f"{path} holds no single DCGAN discriminator's state dict (found: {roles})")
    (name, network), = found.items()
    return network, name
