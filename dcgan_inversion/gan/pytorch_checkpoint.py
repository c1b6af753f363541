"""PyTorch generators (DCGANs and MLP generators, unconditional or conditional) as this project's
Keras models, their layout read from structure.

The file is read by torch_file.py (zip or legacy; no torch, no code run) and its networks by
torch_layers.py (layers in registration order, from a state dict or a whole pickled model). What it
holds may be a plain state dict (`netG_epoch_N.pth`), a dict of state dicts (`netG_state_dict`,
`generator`, `G`, ...), a whole model (`torch.save(netG)`), or one state dict holding both networks
under two names. Which network is G and which D is read off the layers, not the names:
- a DCGAN generator is conv, BN, [conv, BN]*, conv: the first conv (nz, C0, 4, 4) on the 1x1 latent,
  the last to 1 or 3 channels; a discriminator is conv, [conv, BN]*, conv, from 1 or 3 channels to
  one logit;
- an MLP generator is Linear layers (each hidden one optionally followed by a BatchNorm1d), the last
  to C*H*W pixels of a square 1- or 3-channel image.
A conditional generator's first layer takes z and a class (one-hot or embedded: class_inputs.py);
each class's rows become the projection's bias for a chosen class.

Conversions (REFERENCE "PyTorch DCGAN checkpoints"): ConvTranspose2d weight (in, out, kh, kw) and
Conv2d weight (out, in, kh, kw) both go to Keras's kernel by transposing to (kh, kw, ., .) with no
flip; the first layer's (nz, C0, 4, 4) becomes a dense kernel (nz, 4*4*C0) in NHWC order; Linear's
(out, in) is Dense's kernel transposed; batch norm weight/bias/running_mean/running_var become
gamma/beta/moving_mean/moving_variance; `num_batches_tracked` is a counter, not a weight.
"""
from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.config.schema import DCGAN_SIZES
from dcgan_inversion.gan.architectures.blocks import BN_EPSILON, num_stages
from dcgan_inversion.gan.class_inputs import ClassInputs, class_inputs
from dcgan_inversion.gan.imported import CheckpointMismatch, ImportedWeights
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.gan.torch_layers import (BATCH_NORM, Network, is_module, is_state_dict, network_of_module,
                                              network_of_state, unwrapped)

KERNEL = 4
_SIDE = ModelConfig.__dataclass_fields__["image_size"].metadata
MLP_SIDES = (_SIDE["minimum"], _SIDE["maximum"])  # an MLP generator's square image: any side the config allows
ROUND_LATENTS = (16, 20, 32, 50, 62, 64, 100, 128, 200, 256, 512)  # z sizes people choose


@dataclasses.dataclass(frozen=True)
class Hints:
    """What a state dict cannot say, from dcgan-import's options: a one-hot class's count (`--labels`),
    where the class inputs stand (`--label-position`), the hidden activation, an MLP's batch norm eps."""

    labels: int = 0
    activation: str | None = None
    bn_eps: float | None = None
    label_position: str | None = None


@dataclasses.dataclass
class Reading:
    """A network read as a generator: the model, its Keras weights, and what was read or assumed."""

    model: ModelConfig
    weights: dict
    assumed: list
    notes: list
    label_rows: np.ndarray | None = None   # (labels, units): each class's row of the first layer
    base_bias: np.ndarray | None = None    # the first layer's own bias (zeros where it has none)


# --- which networks the file holds ------------------------------------------------------------------

def networks_in(saved, source: str) -> dict[str, Network]:
    """Every network in what torch.save wrote, by where it sat ('' for the whole file)."""
    found = {}
    for name, value in _candidates(saved):
        where = _where(source, name)
        if is_module(value):
            found[name] = network_of_module(value, where)
        else:
            for part, network in _split_networks(value, where).items():
                found[".".join(filter(None, (name, part)))] = network
    if not found:
        kind = type(saved).__name__ if not is_module(saved) else type(saved).torch_name
        keys = f" with keys {', '.join(map(str, list(saved)[:6]))}" if isinstance(saved, Mapping) else ""
        raise CheckpointMismatch(f"{source} holds a {kind}{keys} but no state dict or model (save netG.state_dict() "
                                 "or netG)")
    return found


def _candidates(saved):
    """(name, state dict or module) pairs: the object itself, or the values of a dict (two levels)."""
    if is_state_dict(saved) or is_module(saved):
        yield "", saved
        return
    if isinstance(saved, Mapping):
        for name, value in saved.items():
            if is_state_dict(value) or is_module(value):
                yield str(name), value
            elif isinstance(value, Mapping):  # {'model': {'netG': ...}}
                for inner, deeper in value.items():
                    if is_state_dict(deeper) or is_module(deeper):
                        yield f"{name}.{inner}", deeper


def _split_networks(state: Mapping, source: str) -> dict[str, Network]:
    """One network, or, when that reads as neither G nor D, one per first name (Lightning's
    `{'generator.main.0.weight': ..., 'discriminator.main.0.weight': ...}`)."""
    whole = network_of_state(state, source)
    if role_of(whole) is not None:
        return {"": whole}
    heads: dict[str, OrderedDict] = OrderedDict()
    for key, value in state.items():
        head, dot, _ = unwrapped(key).partition(".")
        heads.setdefault(head if dot else "", OrderedDict())[key] = value
    if len(heads) >= 2 and "" not in heads:
        parts = {head: network_of_state(group, _where(source, head)) for head, group in heads.items()}
        if all(role_of(network) is not None for network in parts.values()):
            return parts
    return {"": whole}


def role_of(network: Network) -> str | None:
    """'generator', 'mlp_generator', 'discriminator', or None, from the weighted layers' kinds."""
    layers = network.weighted
    kinds = "".join(layer.kind[0] for layer in layers)
    if re.fullmatch(r"cb(cb)*c", kinds):
        last = layers[-1].arrays["weight"]
        return "generator" if last.shape[1] in (1, 3) else None
    if re.fullmatch(r"c(cb)*c", kinds):
        first = layers[0].arrays["weight"]
        return "discriminator" if first.shape[1] in (1, 3) else None
    if re.fullmatch(r"(lb?)+l", kinds) and _mlp_image(layers[-1].arrays["weight"].shape[0]):
        return "mlp_generator"
    return None


def _kinds(network: Network) -> str:
    return " ".join({"c": "Conv", "b": "BN", "l": "Linear"}[layer.kind[0]] for layer in network.weighted)


# --- a generator's layout ---------------------------------------------------------------------------

def read_generator(network: Network, source: str, hints: Hints = Hints()) -> Reading:
    """The generator's model config and Keras weights; `hints`: what the file cannot say."""
    role = role_of(network)
    if role == "generator":
        return _dcgan(network, source, hints)
    if role == "mlp_generator":
        return _mlp(network, source, hints)
    raise CheckpointMismatch(f"{source}: its layers ({_kinds(network) or 'none with weights'}) make neither a DCGAN "
                             "generator (Conv BN [Conv BN]* Conv, to 1 or 3 channels) nor an MLP generator (Linear "
                             "layers, each hidden one optionally with a BatchNorm1d, to a square 1- or 3-channel "
                             "image)")


def _dcgan(network: Network, source: str, hints: Hints) -> Reading:
    convs = [layer for layer in network.weighted if layer.kind == "conv"]
    norms = [layer for layer in network.weighted if layer.kind == "bn"]
    for layer in convs:
        if layer.arrays["weight"].shape[2:] != (KERNEL, KERNEL):
            raise CheckpointMismatch(f"{source}: conv '{layer.path}' has a {layer.arrays['weight'].shape[2:]} kernel; "
                                     f"a DCGAN generator's are {KERNEL}x{KERNEL}")
    _check_strides(convs, source)
    biased = {"bias" in layer.arrays for layer in convs}
    if len(biased) > 1:
        raise CheckpointMismatch(f"{source}: some of its convs have a bias and some do not: another architecture")
    conv_bias = biased == {True}
    first = convs[0].arrays["weight"]
    classes, class_assumed = class_inputs(first.shape[0], network.embedding, hints.labels, hints.label_position, source)
    z_dim, base = classes.z_dim, first.shape[1]
    channels = [base]
    for layer in convs[1:]:
        c_in, c_out = layer.arrays["weight"].shape[:2]
        if c_in != channels[-1]:
            raise CheckpointMismatch(f"{source}: transposed conv '{layer.path}' takes {c_in} channels but the layer "
                                     f"before gives {channels[-1]}")
        channels.append(c_out)
    for norm, size in zip(norms, channels):
        if norm.arrays["weight"].shape != (size,):
            raise CheckpointMismatch(f"{source}: batch norm '{norm.path}' has {norm.arrays['weight'].shape[0]} "
                                     f"channels; the conv before it gives {size}")
    _check_eps(norms, source)
    image_size = 4 * 2 ** (len(convs) - 1)
    _check_image(image_size, channels[-1], source)
    hidden = tuple(channels[:-1])
    gf_dim = hidden[-1]
    halving = tuple(gf_dim * 2 ** (len(hidden) - 1 - i) for i in range(len(hidden)))
    hidden_activation, assumed = _activations(network, hints.activation, "relu")
    model = ModelConfig(architecture="pytorch_dcgan", latent="normal", image_size=image_size, z_dim=z_dim,
                        gf_dim=gf_dim, df_dim=gf_dim, channels=channels[-1],
                        g_channels=() if hidden == halving else hidden, conv_bias=conv_bias, labels=classes.labels,
                        **hidden_activation)
    rows = np.transpose(first, (0, 2, 3, 1)).reshape(first.shape[0], 16 * base)
    base_bias = (np.broadcast_to(convs[0].arrays["bias"], (4, 4, base)).reshape(-1).copy() if conv_bias
                 else np.zeros(16 * base, np.float32))
    class_rows = classes.class_rows(rows)
    weights = {"project": [classes.z_rows(rows)] + ([base_bias + (0 if class_rows is None else class_rows[0])]
                                                    if conv_bias or classes.labels else [])}
    names = ["project"] + [f"deconv{k}" for k in range(1, len(convs))]
    for name, layer in zip(names[1:], convs[1:]):
        weights[name] = [np.transpose(layer.arrays["weight"], (2, 3, 1, 0))] + (
            [layer.arrays["bias"]] if conv_bias else [])
    for name, norm in zip(names, norms):
        weights[f"{name}_bn"] = _batch_norm_weights(norm)
    if not network.from_modules:
        assumed = [f"strides 1 then 2 and paddings 0 then 1 (pytorch/examples' DCGAN); batch norm eps {BN_EPSILON:g}",
                   *assumed]
    return Reading(model, weights, assumed + class_assumed, _conditional_notes(classes), class_rows,
                   base_bias if classes.labels else None)


def _mlp(network: Network, source: str, hints: Hints) -> Reading:
    linears = [layer for layer in network.weighted if layer.kind == "linear"]
    first = linears[0].arrays["weight"]
    classes, class_assumed = class_inputs(first.shape[1], network.embedding, hints.labels, hints.label_position, source)
    z_dim = classes.z_dim
    widths = [first.shape[0]]
    for layer in linears[1:]:
        out, fan_in = layer.arrays["weight"].shape
        if fan_in != widths[-1]:
            raise CheckpointMismatch(f"{source}: Linear '{layer.path}' takes {fan_in} inputs but the layer before "
                                     f"gives {widths[-1]}")
        widths.append(out)
    if any("bias" not in layer.arrays for layer in linears):
        raise CheckpointMismatch(f"{source}: a Linear layer without a bias: this importer reads MLP generators whose "
                                 "Linear layers have biases (nn.Linear's default)")
    channels, size = _mlp_image(widths[-1])
    hidden_activation, assumed = _activations(network, hints.activation, "leaky_relu")
    norms, norm_options, norm_assumed = _mlp_norms(network, widths, source, hints.bn_eps)
    model = ModelConfig(architecture="mlp", latent="normal", image_size=size, z_dim=z_dim, channels=channels,
                        g_channels=tuple(widths[:-1]), labels=classes.labels, **hidden_activation, **norm_options)
    names = ["project"] + [f"dense{k}" for k in range(1, len(linears) - 1)] + ["pixels"]
    weights = {name: [layer.arrays["weight"].T.copy(), layer.arrays["bias"]] for name, layer in zip(names, linears)}
    weights.update({f"norm{hidden}": _batch_norm_weights(norm) for hidden, norm in norms.items()})
    weights["project"][0] = classes.z_rows(first.T).copy()
    base_bias, class_rows = linears[0].arrays["bias"], classes.class_rows(first.T)
    if class_rows is not None:
        weights["project"][1] = base_bias + class_rows[0]
    assumed = [f"the {widths[-1]} outputs are a {channels} x {size} x {size} image in torch's (C, H, W) order",
               *assumed, *norm_assumed, *class_assumed]
    return Reading(model, weights, assumed, _conditional_notes(classes), class_rows,
                   base_bias if classes.labels else None)


def _mlp_norms(network: Network, widths: list, source: str, bn_eps: float | None) -> tuple[dict, dict, list]:
    """The MLP's batch norms by the hidden layer they follow, the model options that build them
    (`g_norms`, `g_bn_eps`), and what was assumed: eps cannot be read from a state dict, and
    teaching code uses torch's 1e-5 or, as in `nn.BatchNorm1d(n, 0.8)`, 0.8."""
    norms, hidden = {}, -1
    for layer in network.weighted:
        if layer.kind == "linear":
            hidden += 1
            continue
        if layer.arrays["weight"].shape[0] != widths[hidden]:
            raise CheckpointMismatch(f"{source}: batch norm '{layer.path}' has {layer.arrays['weight'].shape[0]} "
                                     f"features after a Linear of {widths[hidden]}")
        norms[hidden] = layer
    if not norms:
        return {}, {}, []
    read = {layer.attributes["eps"] for layer in norms.values() if "eps" in layer.attributes}
    if len(read) > 1:
        raise CheckpointMismatch(f"{source}: its batch norms have several eps ({sorted(read)}); this importer reads one")
    if read and bn_eps is not None and abs(next(iter(read)) - bn_eps) > 1e-12:
        raise UserError(f"--bn-eps {bn_eps:g}: the model file says its batch norms' eps is {next(iter(read)):g}")
    eps = float(next(iter(read))) if read else BN_EPSILON if bn_eps is None else float(bn_eps)  # a whole model says it
    assumed = [] if read or bn_eps is not None else [
        f"batch norm eps {BN_EPSILON:g} (torch's default): a state dict does not store it; a generator written "
        "nn.BatchNorm1d(n, 0.8) has 0.8 (--bn-eps sets it)"]
    return norms, {"g_norms": tuple(sorted(norms)), "g_bn_eps": eps}, assumed


def _batch_norm_weights(norm) -> list:
    """Keras BatchNormalization's gamma, beta, moving mean and variance."""
    return [norm.arrays[part] for part in BATCH_NORM]


def _mlp_image(pixels: int):
    """(channels, side) of a square image of `pixels` values (MNIST's 784 = 28 x 28 too), 3 channels
    tried first; None if none."""
    for channels in (3, 1):
        side = int(round((pixels / channels) ** 0.5))
        if pixels % channels == 0 and side * side * channels == pixels and MLP_SIDES[0] <= side <= MLP_SIDES[1]:
            return channels, side
    return None


def _conditional_notes(classes: ClassInputs) -> list[str]:
    """What the summary says about a conditional reading, or about a latent size that suggests one."""
    if classes.labels:
        return [classes.describe()]
    inputs = classes.inputs
    if inputs in ROUND_LATENTS:
        return []
    base = max((size for size in ROUND_LATENTS if size < inputs), default=None)
    if base is None or inputs - base > 1000:
        return []
    return [f"warning: z has {inputs} inputs, not a usual latent size: if this is a conditional generator fed z "
            f"({base}) and a one-hot class ({inputs - base}), import it with --labels {inputs - base}; as imported, "
            f"every number on it treats the class inputs as latent"]


def _activations(network: Network, activation: str | None, default: str) -> tuple[dict, list[str]]:
    """The hidden activation read from a whole model, else `activation` or `default` (said as assumed)."""
    hidden = [layer for layer in network.layers if layer.kind not in ("conv", "bn", "linear", "embedding", "dropout")]
    if network.from_modules and hidden:  # (a model applying F.relu in its forward has no activation modules)
        if hidden[-1].kind != "tanh":
            raise CheckpointMismatch(f"the model's last activation is {hidden[-1].torch_class if hidden else 'missing'}"
                                     "; this importer reads generators ending in Tanh (images in [-1, 1])")
        kinds = {(layer.kind, layer.attributes.get("negative_slope")) for layer in hidden[:-1]}
        if len(kinds) != 1 or next(iter(kinds))[0] not in ("relu", "leaky_relu"):
            raise CheckpointMismatch(f"the model's hidden activations are {sorted(kind for kind, _ in kinds)}; this "
                                     "importer reads one kind, ReLU or LeakyReLU")
        kind, slope = next(iter(kinds))
        return ({"g_activation": kind, **({"g_leak": float(slope)} if kind == "leaky_relu" else {})},
                [])
    kind = activation or default
    options = {"g_activation": kind, **({"g_leak": 0.2} if kind == "leaky_relu" else {})}
    said = "ReLU" if kind == "relu" else "LeakyReLU(0.2)"
    where = ("the model applies them in its forward, not as modules" if network.from_modules
             else "a state dict does not store activations")
    return options, [f"hidden activation {said} and output tanh: {where} (--activation relu|leaky_relu sets the "
                     "hidden one)"]


def _check_strides(convs, source: str) -> None:
    """A whole model says each conv's stride and padding: the DCGAN's, 1/0 then 2/1."""
    for number, layer in enumerate(convs):
        if "stride" not in layer.attributes:
            return
        if not layer.torch_class.endswith("ConvTranspose2d"):
            raise CheckpointMismatch(f"{source}: '{layer.path}' is a {layer.torch_class}; a DCGAN generator's "
                                     "convolutions are ConvTranspose2d")
        expected = ((1, 1), (0, 0)) if number == 0 else ((2, 2), (1, 1))
        found = (tuple(layer.attributes["stride"]), tuple(layer.attributes.get("padding", (0, 0))))
        if found != expected:
            raise CheckpointMismatch(f"{source}: conv '{layer.path}' has stride {found[0]} and padding {found[1]}; a "
                                     f"DCGAN generator's is {expected[0]} and {expected[1]}")
        plain = {"output_padding": (0, 0), "groups": 1, "dilation": (1, 1)}
        for name, value in plain.items():
            if name in layer.attributes and _as_pair(layer.attributes[name]) != _as_pair(value):
                raise CheckpointMismatch(f"{source}: conv '{layer.path}' has {name} {layer.attributes[name]}; a "
                                         f"DCGAN generator's is {value}")


def _as_pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _check_eps(norms, source: str) -> None:
    for norm in norms:
        eps = norm.attributes.get("eps", BN_EPSILON)
        if abs(eps - BN_EPSILON) > 1e-12:
            raise CheckpointMismatch(f"{source}: batch norm '{norm.path}' has eps {eps:g}; this design's is "
                                     f"{BN_EPSILON:g}")


def _check_image(image_size: int, channels: int, source: str) -> None:
    if image_size not in DCGAN_SIZES or channels not in (1, 3):
        raise CheckpointMismatch(f"{source}: the generator makes {image_size} px images of {channels} channels; this "
                                 f"importer reads {list(DCGAN_SIZES)} px with 1 or 3 channels")


# --- the discriminator ------------------------------------------------------------------------------

def discriminator_weights(network: Network, model: ModelConfig, source: str) -> tuple[int, dict]:
    """The discriminator's width df_dim and its weights, checked against the generator's model."""
    if model.architecture != "pytorch_dcgan":
        raise CheckpointMismatch(f"{source}: a discriminator is imported beside DCGAN generators only")
    convs = [layer for layer in network.weighted if layer.kind == "conv"]
    norms = [layer for layer in network.weighted if layer.kind == "bn"]
    if any("bias" in layer.arrays for layer in convs):
        raise CheckpointMismatch(f"{source}: its convs have biases; pytorch/examples' discriminator has none")
    stages = num_stages(model.image_size)
    if len(convs) != stages + 1:
        raise CheckpointMismatch(f"{source}: the discriminator has {len(convs)} convs; a {model.image_size} px "
                                 f"generator's has {stages + 1}")
    df_dim = convs[0].arrays["weight"].shape[0]
    previous, weights = model.channels, {}
    for stage, layer in enumerate(convs[:-1]):
        expected = (df_dim * 2**stage, previous, KERNEL, KERNEL)
        if layer.arrays["weight"].shape != expected:
            raise CheckpointMismatch(f"{source}: discriminator conv '{layer.path}' has shape "
                                     f"{list(layer.arrays['weight'].shape)}; expected {list(expected)}")
        weights[f"conv{stage}"] = [np.transpose(layer.arrays["weight"], (2, 3, 1, 0))]
        previous = expected[0]
    for stage, norm in enumerate(norms, 1):
        if norm.arrays["weight"].shape != (df_dim * 2**stage,):
            raise CheckpointMismatch(f"{source}: discriminator batch norm '{norm.path}' has "
                                     f"{norm.arrays['weight'].shape[0]} channels; expected {df_dim * 2**stage}")
        weights[f"conv{stage}_bn"] = _batch_norm_weights(norm)
    logit = convs[-1].arrays["weight"]
    if logit.shape != (1, previous, KERNEL, KERNEL):
        raise CheckpointMismatch(f"{source}: the discriminator's last conv has shape {list(logit.shape)}; expected "
                                 f"{[1, previous, KERNEL, KERNEL]} (one logit from the 4x4 features)")
    weights["logit"] = [np.transpose(logit, (2, 3, 1, 0))]
    return df_dim, weights


# --- the file ---------------------------------------------------------------------------------------

def read_pytorch_checkpoint(path, discriminator=None, **hints) -> ImportedWeights:
    """The generator in the torch.save file `path`, and a discriminator: from the same file, from
    `discriminator` (a path), or from the netD file beside a netG one (pytorch/examples' names);
    `hints`: Hints' fields (what the file cannot say)."""
    hints = Hints(**hints)
    from dcgan_inversion.gan.torch_file import read_torch_file

    path = Path(path)
    networks = networks_in(read_torch_file(path), str(path))
    roles = {name: role_of(network) for name, network in networks.items()}
    generators = {name: networks[name] for name, role in roles.items() if role in ("generator", "mlp_generator")}
    inside = {name: networks[name] for name, role in roles.items() if role == "discriminator"}
    if not generators:
        if inside:
            raise CheckpointMismatch(f"{path} holds a DCGAN discriminator's state dict, not a generator's: import the "
                                     "generator's file (netG_epoch_N.pth) and name this one with --discriminator")
        (name, network), = list(networks.items())[:1]
        read_generator(network, _where(path, name), hints)  # raises, naming what it found
    if len(generators) > 1 or len(inside) > 1:
        raise CheckpointMismatch(f"{path} holds several networks of one role ({', '.join(networks)}): save one "
                                 "generator (and one discriminator) per file")
    (g_name, generator), = generators.items()
    reading = read_generator(generator, _where(path, g_name), hints)
    model, notes = reading.model, list(reading.notes)
    used, total, ignored = _count(generator, g_name)
    d_weights, d_source, network = None, None, None
    if inside:
        (d_name, network), = inside.items()
        d_source = _where(path, d_name)
    else:
        d_path = Path(discriminator) if discriminator is not None else _beside(path)
        network, d_name = (_discriminator_file(d_path) if d_path is not None else (None, ""))
        d_source = None if d_path is None else str(d_path)
    if network is not None:
        try:
            df_dim, d_weights = discriminator_weights(network, model, d_source)
        except CheckpointMismatch as mismatch:
            if discriminator is not None:
                raise
            notes.append(f"discriminator not imported ({mismatch}); completion's perceptual loss needs one")
        else:
            model = dataclasses.replace(model, df_dim=df_dim)
            d_used, d_total, d_ignored = _count(network, d_name)
            used, total, ignored = used + d_used, total + d_total, ignored + d_ignored
    layout = (_describe(model, generator) + f" ({_where(path, g_name)})"
              + (f"; discriminator df {model.df_dim} ({d_source})" if d_weights else "; no discriminator"))
    return ImportedWeights(str(path), model, reading.weights, d_weights, layout, used, total, ignored,
                           assumed=reading.assumed, notes=notes, label_rows=reading.label_rows,
                           base_bias=reading.base_bias)


def _describe(model: ModelConfig, network: Network) -> str:
    source = "a whole model" if network.from_modules else "a state dict"
    activation = "LeakyReLU" if model.g_activation == "leaky_relu" else "ReLU"
    kind = "an embedding" if network.embedding is not None else "one-hot"
    condition = f" + {kind} of {model.labels} classes" if model.labels else ""
    if model.architecture == "mlp":
        return (f"mlp generator {model.image_size} px, z {model.z_dim}{condition}, widths {list(model.g_channels)} -> "
                f"{model.channels} x {model.image_size} x {model.image_size}, {activation}, from {source}")
    hidden = list(model.g_channels) or [model.gf_dim * 2 ** k for k in reversed(range(num_stages(model.image_size)))]
    bias = ", conv biases" if model.conv_bias else ""
    return (f"pytorch_dcgan generator {model.image_size} px, z {model.z_dim}{condition}, channels {hidden} -> "
            f"{model.channels}{bias}, {activation}, from {source}")


def _where(path, name: str) -> str:
    return f"{path}[{name}]" if name else str(path)


def _count(network: Network, name: str) -> tuple[int, int, list]:
    """Arrays imported, arrays in the file for this network, and the ignored counters' keys."""
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
    networks = networks_in(read_torch_file(path), str(path))
    found = {name: net for name, net in networks.items() if role_of(net) == "discriminator"}
    if len(found) != 1:
        roles = ", ".join(sorted({str(role_of(net)) for net in networks.values()}))
        raise CheckpointMismatch(f"{path} holds no single DCGAN discriminator's state dict (found: {roles})")
    (name, network), = found.items()
    return network, name
