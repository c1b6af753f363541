"""The counted cost of an inversion: FLOPs from the generator's layer shapes, in first-order steps.

A timed cost (the polish's seconds over the seconds of one first-order step) depends on the
machine: the polish's matrix work and the convolutions speed up differently from one CPU to the
next, so the same inversion measured 467 step-equivalents on one CPU and 695 on another. The
counted cost depends only on the generator and on what the algorithm did, so it can carry a target.

The accounting, per row (z_dim = d, pixels per image = P):
- a forward pass, F: per layer (any layer not named here: one per output element), dense 2·in·out + out (bias); transposed convolution
  2·H_in·W_in·k²·C_in·C_out (TensorFlow's profiler formula for Conv2DBackpropInput) + one per output
  element (bias); batch norm 2 per element (inference: one scale, one shift); ReLU and tanh 1 per
  element; reshape 0. The linear layers are > 98% of F on every shipped generator.
- a first-order step: a forward and a backward pass, 2F (the input gradient of each layer costs
  its forward FLOPs; the clip op and the optimizer update are O(d) and not counted). One
  first-order step is one counted step-equivalent: costs below are FLOPs / 2F.
- a Levenberg-Marquardt iteration, `layerwise_lm`: the primal F, the d tangents through every
  layer d·F, the normal equations J^T J (2·P·d²) and J^T r (2·P·d), the Cholesky factorisation
  (d³/3) and its two triangular solves (2·d²), and the proposal's forward pass F.
- `levenberg_marquardt` (forward-mode autodiff): d copies of the row, each a primal and a tangent
  pass (2·d·F), then the same solve and proposal.
- `broyden_lm` (broyden.py): a row's iteration with a fresh Jacobian is a `layerwise_lm` iteration
  plus the rank-1 update below; an iteration on the updated Jacobian B is J^T r from B (2·P·d),
  the Cholesky factorisation and its solves, the proposal's forward pass F, and the rank-1 update
  of B and of B^T B: B s and B^T u (2·P·d each), the outer product added to B (2·P·d), u and u^T u
  (3·P) and the d x d terms (6·d²).
The count is the algorithm's arithmetic, not the implementation's (the sub-pixel form of the
transposed convolution multiplies zero taps too; batch statistics add a few per-element ops).
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


def _elements(shape) -> int:
    count = 1
    for size in shape[1:]:
        count *= int(size)
    return count


def layer_flops(layer) -> int:
    """FLOPs of one row through `layer` in inference mode (see the module docstring)."""
    if getattr(layer, "linear_observation", False):  # completion's observation of G(z)
        return layer.flops()
    if isinstance(layer, keras.Model):  # a model nested in another (a Keras file's generator, rescaled)
        return sum(layer_flops(inner) for inner in layer.layers)
    if isinstance(layer, layers.Dense):
        fan_in, fan_out = layer.kernel.shape
        return 2 * fan_in * fan_out + (fan_out if layer.use_bias else 0)
    if isinstance(layer, layers.Conv2DTranspose):
        _, height, width, c_in = layer.input.shape
        k_y, k_x, c_out, _ = layer.kernel.shape
        return 2 * height * width * k_y * k_x * c_in * c_out + (_elements(layer.output.shape) if layer.use_bias else 0)
    if isinstance(layer, layers.Conv2D) and not isinstance(layer, layers.Conv2DTranspose):  # the encoder's
        _, height, width, c_out = layer.output.shape
        k_y, k_x, c_in, _ = layer.kernel.shape
        return 2 * height * width * k_y * k_x * c_in * c_out + (_elements(layer.output.shape) if layer.use_bias else 0)
    if isinstance(layer, layers.BatchNormalization):
        return 2 * _elements(layer.output.shape)
    if isinstance(layer, (layers.ReLU, layers.LeakyReLU, layers.Activation)):
        return _elements(layer.output.shape)
    if isinstance(layer, (layers.InputLayer, layers.Reshape, layers.Flatten, layers.Permute)):
        return 0
    # Any other layer (a user's Keras generator): one op per output element, a lower bound that is
    # small beside the linear layers, which dominate every generator counted here.
    return _elements(layer.output.shape)


def forward_flops(generator) -> int:
    """F: FLOPs of one row's forward pass through the generator (or its batch-statistics view)."""
    model = getattr(generator, "generator", generator)  # BatchStatisticsGenerator wraps the Keras model
    if not isinstance(model, keras.Model):
        raise ValueError(f"cost: cannot count the FLOPs of {type(model).__name__}")
    return sum(layer_flops(layer) for layer in model.layers)


def encoder_start_cost(generator, encoder) -> float:
    """Counted cost of one row's start E(x), in generator step-equivalents."""
    return forward_flops(encoder) / (2 * forward_flops(generator))


def solve_flops(z_dim: int, pixels: int) -> int:
    """The damped normal equations of one row: J^T J, J^T r, Cholesky and two triangular solves."""
    return 2 * pixels * z_dim ** 2 + 2 * pixels * z_dim + z_dim ** 3 // 3 + 2 * z_dim ** 2


@dataclass(frozen=True)
class InversionCost:
    """The counted cost of one row's unit of work, in FLOPs and in first-order step-equivalents."""

    forward: int          # F
    z_dim: int
    pixels: int

    @classmethod
    def of(cls, generator) -> "InversionCost":
        model = getattr(generator, "generator", generator)
        return cls(forward_flops(model), int(model.inputs[0].shape[-1]), _elements(model.outputs[0].shape))

    @property
    def step_flops(self) -> int:
        return 2 * self.forward

    def polish_iteration_flops(self, method: str) -> int:
        solve = solve_flops(self.z_dim, self.pixels)
        if method == "layerwise_lm":
            return (1 + self.z_dim) * self.forward + solve + self.forward
        if method == "levenberg_marquardt":
            return 2 * self.z_dim * self.forward + solve + self.forward
        raise ValueError(f"cost: unknown polish method '{method}'")

    def polish_iteration_steps(self, method: str) -> float:
        """One row's polish iteration in counted first-order step-equivalents."""
        return self.polish_iteration_flops(method) / self.step_flops

    @property
    def broyden_update_flops(self) -> int:
        """The rank-1 secant update of one row's Jacobian B and of its normal matrix B^T B."""
        return 6 * self.pixels * self.z_dim + 3 * self.pixels + 6 * self.z_dim ** 2

    @property
    def broyden_iteration_flops(self) -> int:
        """One row's iteration on its updated Jacobian: the gradient, the solve, the proposal, the update."""
        d = self.z_dim
        return 2 * self.pixels * d + d ** 3 // 3 + 2 * d ** 2 + self.forward + self.broyden_update_flops

    def broyden_iteration_steps(self, fresh_jacobian_as: str) -> tuple[float, float]:
        """(an iteration with a fresh Jacobian, one on the updated Jacobian), in step-equivalents."""
        fresh = self.polish_iteration_flops(fresh_jacobian_as) + self.broyden_update_flops
        return fresh / self.step_flops, self.broyden_iteration_flops / self.step_flops
