"""Resources beside speed: peak memory (in fresh processes), tf.distribute strategies, training throughput."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import tensorflow as tf

from dcgan_inversion import config as config_lib
from dcgan_inversion.bench.loops import MODELS, _modes, _problem, _timed
from dcgan_inversion.config import InvertConfig
from dcgan_inversion.gan.model import make_generator
from dcgan_inversion.inversion import LatentInversion


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
    return probe_peak_mb(f"from dcgan_inversion.bench.resources import _memory_probe; _memory_probe({batch}, {steps})")


def _sharding_probe(replicas: int, batch: int, min_seconds: float) -> None:
    """Run in a fresh process (the CPU is split before TensorFlow starts): prints JSON timings of
    the default strategy and a mirrored one over `replicas` devices, inversion and training."""
    import json
    import tempfile

    from dcgan_inversion.infra.distribute import make_strategy, split_cpu
    from dcgan_inversion.inversion import ShardedInversion
    from dcgan_inversion.training.trainer import DCGANTrainer

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

    code = f"from dcgan_inversion.bench.resources import _sharding_probe; _sharding_probe({replicas}, {batch}, {min_seconds})"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    try:
        timings = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        log(f"sharding probe failed: {result.stderr.strip().splitlines()[-1:]}")
        return {}
    log(f"strategies at demo batch {batch} (inversion) and 64 (training): {timings}")
    return {"inversion_batch": batch, **timings}


def memory_scaling(log) -> dict:
    by_batch = {batch: peak_memory_mb(batch, 20) for batch in (64, 256, 1024)}
    by_steps = {steps: peak_memory_mb(256, steps) for steps in (10, 100, 1000)}
    log(f"peak RSS (MB) vs batch {by_batch}; vs steps at batch 256 {by_steps}")
    return {"peak_rss_mb_by_batch": by_batch, "peak_rss_mb_by_steps": by_steps}



def training_throughput(models, min_seconds: float, log) -> dict:
    import tempfile

    from dcgan_inversion.training.trainer import DCGANTrainer

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
