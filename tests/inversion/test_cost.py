"""cost.py: the counted cost, checked against TensorFlow's own FLOP count on a tiny generator."""
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops

from conftest import tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.inversion.cost import InversionCost, forward_flops, layer_flops, solve_flops
from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert
from dcgan_inversion.gan.model import BatchStatisticsGenerator, make_generator

LINEAR_OPS = ("MatMul", "Conv2DBackpropInput", "BiasAdd")


@pytest.fixture(scope="module", params=["amos", "pytorch_dcgan"])
def generator(request):
    return make_generator(config_lib.replace(tiny_config(), model={"architecture": request.param}).model)


def _profiled(generator):
    """TensorFlow's FLOP registry (what tf.profiler reports) per op type, for one row's forward pass."""
    z_dim = generator.inputs[0].shape[-1]
    graph = tf.function(lambda z: generator(z, training=False)).get_concrete_function(tf.TensorSpec([1, z_dim])).graph
    per_type = {}
    for op in graph.get_operations():
        try:
            flops = ops.get_stats_for_node_def(graph, op.node_def, "flops").value
        except ValueError:  # an op with no registered count (ReLU, tanh, reads)
            flops = None
        if flops:
            per_type[op.type] = per_type.get(op.type, 0) + int(flops)
    return per_type


def test_the_linear_layers_match_tensorflows_flop_count_exactly(generator):
    profiled = _profiled(generator)
    linear = sum(layer_flops(layer) for layer in generator.layers if layer.name.startswith(("project", "deconv"))
                 and not layer.name.endswith("_bn"))
    assert linear == sum(profiled.get(kind, 0) for kind in LINEAR_OPS)


def test_the_whole_forward_pass_is_within_two_percent_of_tensorflows_count(generator):
    # TensorFlow counts batch norm as a few ops per channel and element and has no count for ReLU/tanh.
    total = sum(_profiled(generator).values())
    assert abs(forward_flops(generator) - total) / total < 0.02
    assert forward_flops(BatchStatisticsGenerator(generator)) == forward_flops(generator)


def test_an_lm_iteration_is_the_tangents_the_solve_and_a_proposal(generator):
    cost = InversionCost.of(generator)
    forward, d, pixels = cost.forward, cost.z_dim, cost.pixels
    assert (d, pixels) == (100, 16 * 16 * 3)
    assert solve_flops(d, pixels) == 2 * pixels * d * d + 2 * pixels * d + d ** 3 // 3 + 2 * d * d
    assert cost.polish_iteration_flops("layerwise_lm") == (d + 2) * forward + solve_flops(d, pixels)
    assert cost.polish_iteration_flops("levenberg_marquardt") == (2 * d + 1) * forward + solve_flops(d, pixels)
    assert cost.polish_iteration_steps("layerwise_lm") == pytest.approx(cost.polish_iteration_flops("layerwise_lm")
                                                                      / (2 * forward))


def _invert_four_rows(generator, polish: dict):
    """Four generated latents from random starts: 20 first-order steps, then `polish`."""
    config = config_lib.replace(tiny_config(), invert={"steps": 20, "steps_per_call": 10}, polish=polish)
    rng = np.random.default_rng(0)
    z_true = rng.uniform(-1, 1, (4, 100)).astype(np.float32)
    problem = InversionProblem(generator(z_true, training=False).numpy(), rng.uniform(-1, 1, (4, 100)).astype(np.float32),
                               ["stochastic"] * 4, z_true, seed=0)
    return invert(generator, problem, InversionSettings.from_config(config))


def test_an_inversions_counted_cost_is_its_steps_plus_its_polish_iterations(generator):
    result = _invert_four_rows(generator, {"method": "layerwise_lm", "iterations": 3})
    assert 0 < result.polish_row_iterations <= 4 * 3
    per_iteration = InversionCost.of(generator).polish_iteration_steps("layerwise_lm")
    assert result.counted_step_equivalents == pytest.approx(20 + result.polish_row_iterations * per_iteration / 4)


def test_a_broyden_iteration_costs_a_forward_pass_and_matrix_vector_products(generator):
    cost = InversionCost.of(generator)
    forward, d, pixels = cost.forward, cost.z_dim, cost.pixels
    update = 6 * pixels * d + 3 * pixels + 6 * d * d
    assert cost.broyden_update_flops == update
    fresh, updated = cost.broyden_iteration_steps("layerwise_lm")
    assert fresh == pytest.approx((cost.polish_iteration_flops("layerwise_lm") + update) / (2 * forward))
    assert updated == pytest.approx((forward + 2 * pixels * d + d ** 3 // 3 + 2 * d * d + update) / (2 * forward))
    assert updated < fresh / 20  # what the method is for


def test_a_broyden_polishs_counted_cost_sums_its_rows_iterations(generator):
    """Each row pays a fresh iteration for its first and every refreshed Jacobian, an updated one otherwise."""
    result = _invert_four_rows(generator, {"method": "broyden_lm", "iterations": 6})
    fresh, updated = InversionCost.of(generator).broyden_iteration_steps("layerwise_lm")
    per_row = result.polish_counted[-1]
    iterations = result.polish_row_iterations
    assert result.counted_step_equivalents == pytest.approx(20 + per_row.sum() / 4)
    assert np.all(per_row >= fresh)  # every row starts with a fresh Jacobian
    # the sum is a whole number of fresh and of updated iterations, `iterations` of them in all
    refreshed = (per_row.sum() - iterations * updated) / (fresh - updated)
    assert refreshed == pytest.approx(round(refreshed), abs=1e-6) and 4 <= round(refreshed) <= iterations
