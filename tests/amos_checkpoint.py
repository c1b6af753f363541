"""Test helpers: TF1 checkpoints with Amos's / carpedm20's variable names, written with
`tf.raw_ops.SaveV2` (no TF1 graph), and an independent implementation of Amos's `ops.py`
network in plain `tf.nn` ops to check the imported Keras models against."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

BATCH_NORM = ("beta", "gamma", "moving_mean", "moving_variance")


def amos_variables(image_size=64, gf=64, df=64, z_dim=100, channels=3, seed=0, logit="d_h3_lin",
                   d_norms_from=1, g_channels=None, scope=True) -> dict[str, np.ndarray]:
    """Random weights under Amos's shipped names and shapes (`logit="d_h4_lin"`: carpedm20's;
    `g_channels`: another generator schedule, e.g. Amos's latest code keeping gf*8 in g_h1)."""
    rng = np.random.default_rng(seed)
    stages = int(np.log2(image_size // 4))
    hidden = list(g_channels or [gf * 2 ** (stages - 1 - k) for k in range(stages)])
    g, d = ("generator/", "discriminator/") if scope else ("", "")

    def normal(*shape, scale=0.05):
        return rng.normal(0.0, scale, shape).astype(np.float32)

    def batch_norm(prefix, size):
        return {f"{prefix}/beta": normal(size, scale=0.1), f"{prefix}/gamma": 1 + normal(size, scale=0.1),
                f"{prefix}/moving_mean": normal(size, scale=0.1),
                f"{prefix}/moving_variance": rng.uniform(0.5, 1.5, size).astype(np.float32)}

    variables = {f"{g}g_h0_lin/Matrix": normal(z_dim, 16 * hidden[0]), f"{g}g_h0_lin/bias": normal(16 * hidden[0]),
                 **batch_norm(f"{g}g_bn0", hidden[0])}
    outs = hidden[1:] + [channels]
    for k in range(1, stages + 1):
        out, previous = outs[k - 1], hidden[k - 1]
        variables[f"{g}g_h{k}/w"] = normal(5, 5, out, previous)
        variables[f"{g}g_h{k}/biases"] = normal(out)
        if k < stages:
            variables.update(batch_norm(f"{g}g_bn{k}", out))
    previous = channels
    for k in range(stages):
        out = df * 2**k
        variables[f"{d}d_h{k}_conv/w"] = normal(5, 5, previous, out)
        variables[f"{d}d_h{k}_conv/biases"] = normal(out)
        if k > 0:
            variables.update(batch_norm(f"{d}d_bn{k - 1 + d_norms_from}", out))
        previous = out
    variables[f"{d}{logit}/Matrix"] = normal(16 * previous, 1)
    variables[f"{d}{logit}/bias"] = normal(1)
    return variables


def write_checkpoint(prefix, variables: dict[str, np.ndarray]) -> str:
    """A TF1 name-based checkpoint (prefix.index, prefix.data-00000-of-00001), as tf.train.Saver writes."""
    names = sorted(variables)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(variables[name]) for name in names])
    return str(prefix)


def _batch_norm(x, variables, name):
    return tf.nn.batch_normalization(x, variables[f"{name}/moving_mean"], variables[f"{name}/moving_variance"],
                                     variables[f"{name}/beta"], variables[f"{name}/gamma"], 1e-5)


def amos_generator(variables, z, scope="generator/"):
    """Amos's `sampler`: linear, reshape NHWC 4x4, BN (moving averages), ReLU, then
    conv2d_transpose 5x5 stride 2 SAME + bias (BN, ReLU) ..., tanh."""
    v = {name[len(scope):]: value for name, value in variables.items() if name.startswith(scope)}
    stages = sum(1 for name in v if name.endswith("/w") and name.startswith("g_h"))
    base = v["g_h1/w"].shape[3]
    x = tf.reshape(tf.matmul(z, v["g_h0_lin/Matrix"]) + v["g_h0_lin/bias"], [-1, 4, 4, base])
    x = tf.nn.relu(_batch_norm(x, v, "g_bn0"))
    for k in range(1, stages + 1):
        w = v[f"g_h{k}/w"]
        shape = [tf.shape(x)[0], x.shape[1] * 2, x.shape[2] * 2, w.shape[2]]
        x = tf.nn.bias_add(tf.nn.conv2d_transpose(x, w, output_shape=shape, strides=[1, 2, 2, 1], padding="SAME"),
                           v[f"g_h{k}/biases"])
        if k < stages:
            x = tf.nn.relu(_batch_norm(x, v, f"g_bn{k}"))
    return tf.nn.tanh(x)


def amos_discriminator_logit(variables, images, scope="discriminator/", logit="d_h3_lin", norm_names=None):
    """Amos's `discriminator` with moving-average BN: conv2d 5x5 s2 SAME + bias, lrelu 0.2 (BN from
    the second conv), reshape to [batch, -1] in NHWC order, linear."""
    v = {name[len(scope):]: value for name, value in variables.items() if name.startswith(scope)}
    stages = sum(1 for name in v if name.endswith("_conv/w"))
    norm_names = norm_names or [f"d_bn{k}" for k in range(1, stages)]
    x = images
    for k in range(stages):
        x = tf.nn.bias_add(tf.nn.conv2d(x, v[f"d_h{k}_conv/w"], strides=[1, 2, 2, 1], padding="SAME"),
                           v[f"d_h{k}_conv/biases"])
        if k > 0:
            x = _batch_norm(x, v, norm_names[k - 1])
        x = tf.maximum(x, 0.2 * x)
    return tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), v[f"{logit}/Matrix"]) + v[f"{logit}/bias"]


def as_amos_variables(generator, discriminator=None) -> dict[str, np.ndarray]:
    """A Keras generator (and discriminator) of this project under Amos's shipped names: the
    inverse of the import, written independently of it."""
    variables = _under_names(generator, "generator", _generator_names)
    if discriminator is not None:
        variables.update(_under_names(discriminator, "discriminator", _discriminator_names))
    return variables


def _under_names(model, scope: str, names_of) -> dict[str, np.ndarray]:
    """Every weight of `model` under `scope`/ the name `names_of(layer name)` gives it."""
    variables = {}
    for layer in model.layers:
        values = layer.get_weights()
        if values:
            variables.update({f"{scope}/{name}": value for name, value in zip(names_of(layer.name), values)})
    return variables


def _generator_names(layer: str) -> list[str]:
    if layer == "project":
        return ["g_h0_lin/Matrix", "g_h0_lin/bias"]
    if layer.endswith("_bn"):
        k = 0 if layer == "project_bn" else int(layer[len("deconv"):-len("_bn")])
        return [f"g_bn{k}/{part}" for part in ("gamma", "beta", "moving_mean", "moving_variance")]
    return [f"g_h{layer[len('deconv'):]}/w", f"g_h{layer[len('deconv'):]}/biases"]


def _discriminator_names(layer: str) -> list[str]:
    if layer == "logit":
        return ["d_h3_lin/Matrix", "d_h3_lin/bias"]
    if layer.endswith("_bn"):
        return [f"d_bn{layer[4:-3]}/{part}" for part in ("gamma", "beta", "moving_mean", "moving_variance")]
    return [f"d_h{layer[4:]}_conv/w", f"d_h{layer[4:]}_conv/biases"]
