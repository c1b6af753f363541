"""dG/dz per row for the polish, from one primal pass and tangents pushed through each layer.

`tf.autodiff.ForwardAccumulator` over z_dim copies of a row recomputes G's primal on every copy;
on the demo generator that cost ~3x a plain forward pass over the copies. DCGAN's generator is a
chain of affine layers (dense, transposed convolution, batch norm with its moving averages,
reshape) and elementwise activations, so its tangent map is known layer by layer: an affine
layer's linear part, or the activation's derivative at the primal. `LayerwiseJacobian` runs the
primal once per row and the z_dim tangents through those linear parts, about one forward pass
over the copies, with each transposed convolution in its sub-pixel form (faster on this CPU,
see SubpixelConvTranspose): a fifth of the autodiff cost on the demo generator.
`layerwise_jacobian(generator)` returns None for a model it cannot read (a
branch, an unknown layer, batch statistics), and the caller keeps forward-mode autodiff.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers


def _dense(layer, x, y, t):
    return tf.linalg.matmul(t, layer.kernel)


def _conv_transpose(layer, x, y, t):
    return keras.ops.conv_transpose(t, layer.kernel, strides=layer.strides, padding=layer.padding,
                                    output_padding=layer.output_padding, data_format=layer.data_format,
                                    dilation_rate=layer.dilation_rate)


class SubpixelConvTranspose:
    """A 'same' transposed convolution of stride s as a stride-1 convolution and depth_to_space.

    Output pixel s*m + a (phase a) sums input pixels m + d with kernel tap k = a + p - s*d, p the
    padding TensorFlow puts before the equivalent strided convolution. Gathering, per phase, the
    taps into one small kernel gives every phase from one ordinary convolution with s*s*C_out
    outputs; depth_to_space interleaves them. The sum is the same (to float32 rounding); on this
    CPU the 4x4 -> 8x8 layer ran 3-5x faster this way (oneDNN's transposed convolution is slow at
    small sides), the others within +-30%.
    """

    def __init__(self, layer):
        (self.stride,) = set(layer.strides)
        (size,) = set(layer.kernel_size)
        before = max(size - self.stride, 0) // 2
        phases = np.arange(self.stride)
        self.low = -((size - 1 - before) // self.stride)       # most negative input offset d
        high = (self.stride - 1 + before) // self.stride         # most positive
        offsets = np.arange(self.low, high + 1)
        taps = phases[None, :] + before - self.stride * offsets[:, None]  # (offset, phase) -> tap k
        self.select = tf.constant(taps[None] == np.arange(size)[:, None, None], tf.float32)  # (k, offset, phase)
        self.padding = [[0, 0], [-self.low, high], [-self.low, high], [0, 0]]
        self.layer = layer

    @staticmethod
    def supports(layer) -> bool:
        return (layer.padding == "same" and layer.output_padding is None and layer.data_format == "channels_last"
                and set(layer.dilation_rate) == {1} and len(set(layer.strides)) == 1 and layer.strides[0] > 1
                and len(set(layer.kernel_size)) == 1)

    def __call__(self, layer, x, y, t):
        kernel = self.layer.kernel                                 # (ky, kx, out, in)
        phased = tf.einsum("ypa,xqb,yxoi->pqiabo", self.select, self.select, kernel)
        d, c_in, c_out = phased.shape[0], kernel.shape[3], kernel.shape[2]
        merged = tf.reshape(phased, [d, d, c_in, self.stride * self.stride * c_out])
        return tf.nn.depth_to_space(tf.nn.conv2d(t, merged, 1, self.padding), self.stride)


def _reshape(layer, x, y, t):
    return tf.reshape(t, (-1,) + tuple(layer.target_shape))


def _batch_norm(layer, x, y, t):
    """Inference batch norm is affine per channel: the tangent is scaled by gamma / sigma."""
    scale = tf.math.rsqrt(layer.moving_variance + layer.epsilon)
    return t * (scale * layer.gamma if layer.scale else scale)


def _relu(layer, x, y, t):
    return _times_factor(t, tf.cast(x > 0, t.dtype))


def _leaky_relu(layer, x, y, t):
    return _times_factor(t, tf.where(x > 0, tf.ones_like(x), tf.fill(tf.shape(x), tf.cast(layer.negative_slope, x.dtype))))


def _tanh(layer, x, y, t):
    return _times_factor(t, 1.0 - tf.square(y))


def _linear_observation(layer, x, y, t):
    return layer(t)


def _times_factor(t, factor):
    """Multiplies each row's z_dim tangents by that row's elementwise derivative."""
    rows = tf.shape(factor)[0]
    grouped = tf.reshape(t, tf.concat([[rows, -1], tf.shape(factor)[1:]], axis=0))
    return tf.reshape(grouped * factor[:, None], tf.shape(t))


def _rule(layer):
    """The tangent map of one layer, or None where this module does not know it."""
    if getattr(layer, "linear_observation", False):  # completion's masks and pooling: linear, so t -> layer(t)
        return _linear_observation
    linear = getattr(layer, "activation", None) in (None, keras.activations.linear)
    if isinstance(layer, layers.Dense) and linear:
        return _dense
    if isinstance(layer, layers.Conv2DTranspose) and linear:
        return SubpixelConvTranspose(layer) if SubpixelConvTranspose.supports(layer) else _conv_transpose
    if isinstance(layer, layers.Reshape):
        return _reshape
    if isinstance(layer, layers.Permute):  # linear: the tangents move as the image does
        return _linear_observation
    if isinstance(layer, layers.BatchNormalization) and layer.axis in (-1, len(layer.input.shape) - 1):
        return _batch_norm
    if isinstance(layer, layers.ReLU) and not layer.max_value and not layer.negative_slope and not layer.threshold:
        return _relu
    if isinstance(layer, layers.LeakyReLU):
        return _leaky_relu
    if isinstance(layer, layers.Activation) and layer.activation is keras.activations.relu:
        return _relu
    if isinstance(layer, layers.Activation) and layer.activation is keras.activations.tanh:
        return _tanh
    return None


class LayerwiseJacobian:
    """Images and Jacobians of a chain generator: `(G(z), dG/dz)` with shapes (rows, ...), (rows, P, z_dim)."""

    def __init__(self, chain: list):
        self.chain = chain  # (layer, tangent rule) from the first layer after the input to the image

    def __call__(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # A replica with no rows gets empty results: on an empty batch conv2d returns its input's
        # shape (seen on CPU), so the tangents' channels would not match the next layer's.
        return tf.cond(tf.shape(z)[0] > 0, lambda: self._linearize(z), lambda: self._empty(z))

    def _empty(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image_shape = tuple(self.chain[-1][0].output.shape[1:])
        pixels = int(np.prod(image_shape))
        return tf.zeros((0,) + image_shape, z.dtype), tf.zeros((0, pixels, z.shape[1]), z.dtype)

    def _linearize(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        rows, z_dim = tf.shape(z)[0], z.shape[1]
        x = z
        t = tf.tile(tf.eye(z_dim, dtype=z.dtype), [rows, 1])  # one basis direction per copy of each row
        for layer, rule in self.chain:
            y = layer(x, training=False)
            t = rule(layer, x, y, t)
            x = y
        pixels = x.shape[1:].num_elements()
        columns = tf.reshape(t, [rows, z_dim, pixels])
        return x, tf.transpose(columns, [0, 2, 1])


def layerwise_jacobian(generator) -> LayerwiseJacobian | None:
    """A LayerwiseJacobian for a Keras chain of known layers; None otherwise."""
    if not isinstance(generator, keras.Model) or len(generator.inputs) != 1:
        return None
    chain, previous = [], generator.inputs[0]
    for layer in generator.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        rule = _rule(layer)
        if rule is None or len(layer._inbound_nodes) != 1 or layer.input is not previous:
            return None
        chain.append((layer, rule))
        previous = layer.output
    return LayerwiseJacobian(chain) if chain and previous is generator.outputs[0] else None
