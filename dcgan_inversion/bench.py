"""`make bench`: how fast the inversion and training run, against naive loops and the paper.

Prints a table and writes `bench.json` and `bench.md`. Timings are never asserted anywhere:
they depend on the machine. Every loop below does the same work per step (forward, backward
to z, Adam update, clip); only how the steps are driven differs.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dcgan_inversion import bench_input, bench_polish  # noqa: E402
from dcgan_inversion import config as config_lib  # noqa: E402
from dcgan_inversion.clip import clip_latents, mode_ids  # noqa: E402
from dcgan_inversion.config import InvertConfig, ModelConfig  # noqa: E402
from dcgan_inversion.errors import UserError  # noqa: E402
from dcgan_inversion.inversion import LatentInversion, make_optimizer  # noqa: E402
from dcgan_inversion.io_utils import atomic_write_text, write_json  # noqa: E402
from dcgan_inversion.model import make_generator, mixed_precision_copy  # noqa: E402

MODELS = {"demo 32px gf32": ModelConfig(image_size=32, gf_dim=32, df_dim=32),
          "paper 64px gf64": ModelConfig(image_size=64, gf_dim=64, df_dim=64)}
EXPECTED_FLOPS_PER_S = 150e9  # only sizes the timed calls; the report uses measured rates


# ---- FLOPs ---------------------------------------------------------------------------------

def generator_flops_per_row(generator: keras.Model) -> int:
    """Multiply-adds x 2 of one forward pass, from the layer shapes; backward to z costs about
    the same again (TensorFlow prunes the weight gradients nobody asked for)."""
    flops = 0
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            height, width, channels_in = layer.input.shape[1:]
            k_h, k_w, channels_out, _ = layer.kernel.shape
            flops += 2 * height * width * channels_in * k_h * k_w * channels_out
    return flops


# ---- the loops being compared ---------------------------------------------------------------

def _problem(model: ModelConfig, rows: int, seed: int = 0):
    keras.utils.set_random_seed(seed)
    generator = make_generator(model)
    rng = np.random.default_rng(seed)
    z_true = rng.uniform(-1, 1, (rows, model.z_dim)).astype(np.float32)
    z_init = rng.uniform(-1, 1, (rows, model.z_dim)).astype(np.float32)
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
        values[outside] = rng.uniform(-1.0, 1.0, outside.sum())
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


# ---- memory -----------------------------------------------------------------------------------

def _memory_probe(batch: int, steps: int) -> None:
    """Run in a fresh process: prints the peak RSS (MB) of `steps` engine steps at `batch`."""
    generator, targets, z_init, z_true = _problem(MODELS["demo 32px gf32"], batch)
    inversion = LatentInversion(generator, InvertConfig(), targets, z_init, _modes(batch), z_true)
    inversion.run_steps(steps)
    print_peak_rss()


def print_peak_rss() -> None:
    """The last line a memory probe prints: this process's peak RSS in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]) / 1024)


def probe_peak_mb(code: str) -> float:
    """Runs a probe in a fresh process (TensorFlow's allocator never gives memory back in-process)."""
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return float("nan")  # not Linux, or the probe failed: reported as nan


def peak_memory_mb(batch: int, steps: int) -> float:
    return probe_peak_mb(f"from dcgan_inversion.bench import _memory_probe; _memory_probe({batch}, {steps})")


def _sharding_probe(replicas: int, batch: int, min_seconds: float) -> None:
    """Run in a fresh process (the CPU is split before TensorFlow starts): prints JSON timings of
    the default strategy and a mirrored one over `replicas` devices, inversion and training."""
    import json
    import tempfile

    from dcgan_inversion.distribute import make_strategy, split_cpu
    from dcgan_inversion.inversion import ShardedInversion
    from dcgan_inversion.train import DCGANTrainer

    if not tf.config.list_physical_devices("GPU"):
        split_cpu(replicas)
    model = MODELS["demo 32px gf32"]
    generator, targets, z_init, z_true = _problem(model, batch)
    config = config_lib.replace(config_lib.load_config("demo"), model=dataclasses.asdict(model))
    images = tf.data.Dataset.from_tensors(tf.random.uniform((64, 32, 32, 3), -1, 1, seed=0)).repeat()
    timings = {}
    for name in ("default", "mirrored"):
        strategy = make_strategy(name)
        with strategy.scope():
            replicated = make_generator(model)
        replicated.set_weights(generator.get_weights())
        inversion = ShardedInversion(replicated, InvertConfig(), targets, z_init, _modes(batch), z_true, strategy=strategy)
        invert_seconds = _timed(lambda _: inversion.run_steps(5), min_seconds, 1) / 5
        with tempfile.TemporaryDirectory() as run_dir:
            trainer = DCGANTrainer(config, run_dir, strategy)
            batches = iter(trainer.distribute(images))
            train_seconds = _timed(lambda _: trainer.train_step(next(batches))["d_loss"].numpy(), min_seconds, 3)
        timings[name] = {"replicas": strategy.num_replicas_in_sync, "invert_ms_per_step": 1e3 * invert_seconds,
                         "train_ms_per_step": 1e3 * train_seconds}
    print(json.dumps(timings))


def sharding(replicas: int, batch: int, min_seconds: float, log) -> dict:
    """Mirrored vs default strategy, in a fresh process: on one CPU split in logical devices this
    is the cost of sharding (the cores are shared); on several GPUs it is the speed-up."""
    import json
    import subprocess

    code = f"from dcgan_inversion.bench import _sharding_probe; _sharding_probe({replicas}, {batch}, {min_seconds})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    try:
        timings = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        log(f"sharding probe failed: {result.stderr.strip().splitlines()[-1:]}")
        return {}
    log(f"strategies at demo batch {batch} (inversion) and 64 (training): {timings}")
    return {"inversion_batch": batch, **timings}


# ---- sections of the report -------------------------------------------------------------------

def per_step_costs(models, batches, min_seconds: float, naive_max_batch: int, log) -> list[dict]:
    rows = []
    for model_name, model in models.items():
        for batch in batches:
            generator, targets, z_init, z_true = _problem(model, batch)
            flops = 2 * generator_flops_per_row(generator) * batch
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


def memory_scaling(log) -> dict:
    by_batch = {batch: peak_memory_mb(batch, 20) for batch in (64, 256, 1024)}
    by_steps = {steps: peak_memory_mb(256, steps) for steps in (10, 100, 1000)}
    log(f"peak RSS (MB) vs batch {by_batch}; vs steps at batch 256 {by_steps}")
    return {"peak_rss_mb_by_batch": by_batch, "peak_rss_mb_by_steps": by_steps}


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


def training_throughput(models, min_seconds: float, log) -> dict:
    import tempfile

    from dcgan_inversion.train import DCGANTrainer

    result = {}
    for model_name, model in models.items():
        config = config_lib.replace(config_lib.Config(), model=config_lib.to_dict(model))
        with tempfile.TemporaryDirectory() as run_dir:
            trainer = DCGANTrainer(config, run_dir)
            images = tf.random.uniform((64, model.image_size, model.image_size, model.channels), -1, 1)
            seconds = _timed(lambda _: trainer.train_step(images)["d_loss"].numpy(), min_seconds, 3)
        result[model_name] = {"ms_per_step": 1e3 * seconds, "images_per_s": 64 / seconds}
        log(f"training {model_name}: {1e3 * seconds:.0f} ms per step of 64 images, {64 / seconds:.0f} images/s")
    return result


# ---- report ---------------------------------------------------------------------------------

def _format_cost(entry: dict) -> str:
    text = (f"{entry['model']:>16} batch {entry['batch']:>5}: engine {entry['engine_ms']:8.2f} ms/step "
            f"({entry['latent_steps_per_s']:9.0f} latent-steps/s, {entry['gflops']:6.1f} GFLOP/s), "
            f"bare {entry['bare_ms']:8.2f}")
    if "eager_ms" in entry:
        text += f", authors-style {entry['authors_style_ms']:8.2f}, eager {entry['eager_ms']:8.2f}"
    return text


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']} (TensorFlow {report['tensorflow']}).", "",
             "| generator | batch | engine ms/step | latent-steps/s | GFLOP/s | bare loop | authors-style / engine | eager / engine |",
             "|---|---|---|---|---|---|---|---|"]
    for entry in report["per_step"]:
        ratios = [f"{entry[k] / entry['engine_ms']:.2f}x" if k in entry else "—" for k in ("authors_style_ms", "eager_ms")]
        lines.append(f"| {entry['model']} | {entry['batch']} | {entry['engine_ms']:.2f} | {entry['latent_steps_per_s']:.0f} | "
                     f"{entry['gflops']:.1f} | {entry['bare_ms'] / entry['engine_ms']:.2f}x | {ratios[0]} | {ratios[1]} |")
    lines += ["", "`bare loop` is forward + backward + Adam with no clip or tracking, as a ratio of the engine's time "
              "(below 1 means the engine's extras cost that much)."]
    lines += bench_polish.markdown(report)
    if "training" in report:
        lines += ["", "Training: " + "; ".join(f"{name} {v['images_per_s']:.0f} images/s ({v['ms_per_step']:.0f} ms per step of 64)"
                                             for name, v in report["training"].items()) + "."]
    if "memory" in report:
        memory = report["memory"]
        lines += ["", f"Peak RSS (MB), demo generator: by batch {_mb(memory['peak_rss_mb_by_batch'])}; "
                  f"by steps at batch 256 {_mb(memory['peak_rss_mb_by_steps'])}."]
    if "xla" in report:
        xla = report["xla"]["ms_per_step"]
        lines += ["", f"XLA (`invert.jit_compile`), demo batch 256: {xla['xla']:.1f} ms/step vs {xla['default']:.1f} without."]
    if "bfloat16" in report:
        bf16 = report["bfloat16"]
        lines += ["", f"mixed_bfloat16, demo batch 256: {bf16['mixed_bfloat16_ms']:.1f} ms/step vs float32 "
                  f"{bf16['float32_ms']:.1f}; G(z) differs by up to {bf16['max_relative_pixel_difference']:.1e} of its range "
                  "(the float32 polish that follows removes the difference)."]
    if report.get("strategies"):
        strategies = report["strategies"]
        default, mirrored = strategies["default"], strategies["mirrored"]
        lines += ["", f"`distribute.strategy`, demo generator: inversion at batch {strategies['inversion_batch']} "
                  f"{default['invert_ms_per_step']:.1f} ms/step on one device vs {mirrored['invert_ms_per_step']:.1f} "
                  f"mirrored over {mirrored['replicas']} replicas; training at batch 64 {default['train_ms_per_step']:.0f} "
                  f"vs {mirrored['train_ms_per_step']:.0f} ms/step"
                  + (" (CPU split in logical devices: the replicas share the same cores)" if "CPU" in report["machine"] else "") + "."]
    if "input_pipeline" in report:
        lines += bench_input.markdown(report["input_pipeline"], report.get("training"))
    return "\n".join(lines) + "\n"


def _update_report(args, sections: dict) -> None:
    """Sections measured now, written into the report in `args.out` (the rest stays)."""
    import json

    path = args.out / "bench.json"
    if not path.exists():
        raise UserError(f"{path} is missing: run `make bench` once first")
    report = json.loads(path.read_text(encoding="utf-8"))
    report.update(sections)
    write_json(path, report)
    atomic_write_text(args.out / "bench.md", markdown(report))
    print(f"wrote {', '.join(sections)} into {path} and {args.out / 'bench.md'}")


def _add_input_pipeline(args, log) -> None:
    _update_report(args, {"input_pipeline": {**bench_input.input_pipeline(args.input_images, log),
                                             "date": time.strftime("%Y-%m-%d")}})


def _polish_sections(args, log) -> dict:
    """The polish methods side by side, on what the arguments ask for."""
    sections = {}
    if (args.run / "generator.weights.h5").exists():
        sections["steps_to_precision"] = bench_polish.demo_methods(args.run, 4 if args.quick else args.latents, log)
    else:
        log(f"no trained generator in {args.run}: skipping steps to precision (run `make train` first)")
    if not args.quick:
        sections["polish_memory"] = bench_polish.peak_memory()
    if args.paper_scale_latents:
        sections["untrained_64px_precision"] = bench_polish.untrained_64px_methods(args.paper_scale_latents, log)
    if args.noise_latents:
        sections["noise_64px"] = bench_polish.noise_64px(args.noise_latents, log)
    return sections


def _mb(values: dict) -> str:
    return ", ".join(f"{key}: {value:.0f}" for key, value in values.items())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark the inversion engine and training.")
    parser.add_argument("--out", type=Path, default=Path("docs/results"), help="folder for bench.json and bench.md")
    parser.add_argument("--run", type=Path, default=Path("runs/demo"), help="trained demo run for steps to precision")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256, 1024])
    parser.add_argument("--naive-max-batch", type=int, default=256, help="largest batch timed with the naive loops")
    parser.add_argument("--latents", type=int, default=128, help="latents per mode for steps to precision")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="time each measurement at least this long")
    parser.add_argument("--input-images", type=int, default=1024, help="CelebA-shaped files for the input pipeline")
    parser.add_argument("--input-only", action="store_true",
                        help="measure only the input pipeline and add it to the report already in --out")
    parser.add_argument("--polish-only", action="store_true",
                        help="measure only the polish methods and add them to the report already in --out")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark runs")
    parser.add_argument("--paper-scale-latents", type=int, default=0,
                        help="also compare the polish methods on an untrained 64 px generator (minutes per latent on CPU)")
    parser.add_argument("--noise-latents", type=int, default=0,
                        help="also compare the polish methods on the noise experiment at 64 px (latents per variance)")
    args = parser.parse_args(argv)

    def log(text):
        print(text, flush=True)

    try:
        if args.input_only:
            return _add_input_pipeline(args, log)
        if args.polish_only:
            return _update_report(args, {**_polish_sections(args, log), "polish_date": time.strftime("%Y-%m-%d")})
        report = {"date": time.strftime("%Y-%m-%d"), "tensorflow": tf.__version__,
                  "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores" if not tf.config.list_physical_devices("GPU")
                  else ", ".join(d.name for d in tf.config.list_physical_devices("GPU"))}
        models = {"demo 32px gf32": MODELS["demo 32px gf32"]} if args.quick else MODELS
        report["per_step"] = per_step_costs(models, args.batches, args.min_seconds, args.naive_max_batch, log)
        report["training"] = training_throughput(models, args.min_seconds, log)
        report["input_pipeline"] = bench_input.input_pipeline(64 if args.quick else args.input_images, log,
                                                              image_size=16 if args.quick else 64)
        if not args.quick:
            report["memory"] = memory_scaling(log)
            report["xla"] = xla_comparison(args.min_seconds, log)
            report["bfloat16"] = bfloat16_comparison(args.min_seconds, log)
            report["strategies"] = sharding(2, 256, args.min_seconds, log)
        report.update(_polish_sections(args, log))
        write_json(args.out / "bench.json", report)
        text = markdown(report)
        atomic_write_text(args.out / "bench.md", text)
        print("\n" + text + f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
