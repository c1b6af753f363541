"""The inversion step driven four ways, timed: the engine, a bare loop, the authors' style, eager.

Timings are never asserted anywhere: they depend on the machine. Every loop below does the same
work per step (forward, backward to z, Adam update, clip); only how the steps are driven differs.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dcgan_inversion.inversion.clip import clip_latents, mode_ids  # noqa: E402
from dcgan_inversion.config import InvertConfig, ModelConfig  # noqa: E402
from dcgan_inversion.inversion import LatentInversion, make_optimizer  # noqa: E402
from dcgan_inversion.inversion.cost import forward_flops  # noqa: E402
from dcgan_inversion.gan.latents import UNIFORM  # noqa: E402
from dcgan_inversion.gan.model import make_generator, mixed_precision_copy  # noqa: E402

MODELS = {"demo 32px gf32": ModelConfig(image_size=32, gf_dim=32, df_dim=32),
          "paper 64px gf64": ModelConfig(image_size=64, gf_dim=64, df_dim=64)}
EXPECTED_FLOPS_PER_S = 150e9  # only sizes the timed calls; the report uses measured rates


# ---- the loops being compared ---------------------------------------------------------------

def _problem(model: ModelConfig, rows: int, seed: int = 0):
    keras.utils.set_random_seed(seed)
    generator = make_generator(model)
    rng = np.random.default_rng(seed)
    z_true = UNIFORM.sample(rng, (rows, model.z_dim))
    z_init = UNIFORM.sample(rng, (rows, model.z_dim))
    return generator, generator(z_true, training=False).numpy(), z_init, z_true


def _modes(rows):
    return ["stochastic"] * rows


def _timed(run_steps, min_seconds: float, min_steps: int, repeats: int = 3) -> float:
    """Seconds per call: one warm-up call (tracing), then the best of `repeats` timed blocks,
    each running whole calls until both minimums are met (the best block is the least disturbed)."""
    run_steps(1)
    best = float("inf")
    for _ in range(repeats):
        steps, started = 0, time.perf_counter()
        while steps < min_steps or time.perf_counter() - started < min_seconds / repeats:
            run_steps(1)
            steps += 1
        best = min(best, (time.perf_counter() - started) / steps)
    return best


def engine_seconds_per_step(generator, targets, z_init, z_true, steps_per_call: int, min_seconds: float) -> float:
    """The engine: `steps_per_call` steps in one compiled tf.range loop."""
    inversion = LatentInversion(generator, InvertConfig(), targets, z_init, _modes(len(z_init)), z_true)
    return _timed(lambda _: inversion.run_steps(steps_per_call), min_seconds, 1) / steps_per_call


def _adam_step(generator, targets, z_init):
    """z' as a variable and one forward + backward + Adam update on it, for the loops below."""
    z = tf.Variable(z_init)
    optimizer = make_optimizer(InvertConfig())
    optimizer.build([z])
    targets = tf.constant(targets)

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.reduce_mean(tf.square(generator(z, training=False) - targets), axis=[1, 2, 3]))
        optimizer.apply_gradients([(tape.gradient(loss, z), z)])

    return z, step


def bare_seconds_per_step(generator, targets, z_init, steps_per_call: int, min_seconds: float) -> float:
    """Lower bound: forward + backward + Adam in one compiled loop, no clip and no tracking."""
    _, step = _adam_step(generator, targets, z_init)

    @tf.function
    def run(count):
        for _ in tf.range(count):
            step()

    return _timed(lambda _: run(tf.constant(steps_per_call)), min_seconds, 1) / steps_per_call


def authors_style_seconds_per_step(generator, targets, z_init, min_seconds: float) -> float:
    """A compiled step called from Python once per step, the stochastic clip done in NumPy."""
    z, eager_step = _adam_step(generator, targets, z_init)
    step = tf.function(eager_step)
    rng = np.random.default_rng(0)

    def one(_):
        step()
        values = z.numpy()
        outside = np.abs(values) >= 1.0
        values[outside] = UNIFORM.sample(rng, outside.sum(), np.float64)
        z.assign(values)

    return _timed(one, min_seconds, 3)


def eager_seconds_per_step(generator, targets, z_init, min_seconds: float) -> float:
    """What a user writes first: an eager Python loop with the same ops."""
    z, step = _adam_step(generator, targets, z_init)
    modes = mode_ids(_modes(len(z_init)))
    rng = tf.random.Generator.from_seed(0)

    def one(_):
        step()
        z.assign(clip_latents(z, modes, rng.uniform(z.shape, -1.0, 1.0)))

    return _timed(one, min_seconds, 3)


# ---- sections of the report -------------------------------------------------------------------

def per_step_costs(models, batches, min_seconds: float, naive_max_batch: int, log) -> list[dict]:
    rows = []
    for model_name, model in models.items():
        for batch in batches:
            generator, targets, z_init, z_true = _problem(model, batch)
            flops = 2 * forward_flops(generator) * batch  # a step: forward + backward (cost.py)
            steps_per_call = int(np.clip(round(0.2 / (flops / EXPECTED_FLOPS_PER_S)), 1, 200))  # calls of ~0.2 s
            engine = engine_seconds_per_step(generator, targets, z_init, z_true, steps_per_call, min_seconds)
            entry = {"model": model_name, "batch": batch, "engine_ms": 1e3 * engine,
                     "latent_steps_per_s": batch / engine, "gflops": flops / engine / 1e9,
                     "bare_ms": 1e3 * bare_seconds_per_step(generator, targets, z_init, steps_per_call, min_seconds)}
            if batch <= naive_max_batch:
                entry["authors_style_ms"] = 1e3 * authors_style_seconds_per_step(generator, targets, z_init, min_seconds)
                entry["eager_ms"] = 1e3 * eager_seconds_per_step(generator, targets, z_init, min_seconds)
            rows.append(entry)
            log(_format_cost(entry))
    return rows


def xla_comparison(min_seconds: float, log) -> dict:
    model = MODELS["demo 32px gf32"]
    generator, targets, z_init, z_true = _problem(model, 256)
    result = {}
    for jit in (False, True):
        inversion = LatentInversion(generator, InvertConfig(jit_compile=jit), targets, z_init, _modes(256), z_true)
        result["xla" if jit else "default"] = 1e3 * _timed(lambda _: inversion.run_steps(5), min_seconds, 1) / 5
    log(f"XLA at demo batch 256: {result['default']:.1f} ms/step without, {result['xla']:.1f} ms/step with")
    return {"ms_per_step": result}


def bfloat16_comparison(min_seconds: float, log) -> dict:
    """`invert.precision: mixed_bfloat16` (AVX-512 / AMX on recent CPUs) vs float32, same weights."""
    model = MODELS["demo 32px gf32"]
    generator, targets, z_init, z_true = _problem(model, 256)
    low = mixed_precision_copy(generator)
    float32 = engine_seconds_per_step(generator, targets, z_init, z_true, 5, min_seconds)
    bf16 = engine_seconds_per_step(low, targets, z_init, z_true, 5, min_seconds)
    error = float(np.max(np.abs(low(z_true, training=False).numpy() - targets)) / np.max(np.abs(targets)))
    log(f"mixed_bfloat16 at demo batch 256: {1e3 * bf16:.1f} ms/step vs float32 {1e3 * float32:.1f}; "
        f"G(z) differs by up to {error:.1e} of its range")
    return {"float32_ms": 1e3 * float32, "mixed_bfloat16_ms": 1e3 * bf16, "max_relative_pixel_difference": error}


def _format_cost(entry: dict) -> str:
    text = (f"{entry['model']:>16} batch {entry['batch']:>5}: engine {entry['engine_ms']:8.2f} ms/step "
            f"({entry['latent_steps_per_s']:9.0f} latent-steps/s, {entry['gflops']:6.1f} GFLOP/s), "
            f"bare {entry['bare_ms']:8.2f}")
    if "eager_ms" in entry:
        text += f", authors-style {entry['authors_style_ms']:8.2f}, eager {entry['eager_ms']:8.2f}"
    return text
