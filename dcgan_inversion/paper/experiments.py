"""The paper's experiments, one function each, all on the one inversion engine.

table1      Table 1: recovery rates of generated latents per clip mode and threshold.
noise       Figure 2: z error when Gaussian noise is added to G(z).
uniqueness  Table 2: distances between recoveries of one unseen real image from many starts.
trajectory  Figure 1: G(z') at initialisation, after 100 steps and at the end.
Each writes `<run>/results/<name>.json` (numbers, resolved config, seed, versions, device, wall
time) and `<name>.npz` (arrays).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dcgan_inversion import config as config_lib
from dcgan_inversion.paper import metrics
from dcgan_inversion.infra import preemption
from dcgan_inversion.config import Config
from dcgan_inversion.infra.environment import environment, package_version
from dcgan_inversion.data.pipeline import heldout_images, to_model_range
from dcgan_inversion.inversion import InversionProblem, InversionResult, InversionSettings, invert, uses_batch_statistics
from dcgan_inversion.infra.io_utils import write_json, write_npz
from dcgan_inversion.gan.model import BatchStatisticsGenerator


def uniform_latents(rng: np.random.Generator, rows: int, z_dim: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, (rows, z_dim)).astype(np.float32)


def generate(generator, z, group_rows: int | None = None) -> np.ndarray:
    """G(z); under batch statistics each run of `group_rows` rows is generated as one batch."""
    if group_rows is None or not uses_batch_statistics(generator):
        return generator(tf.constant(z), training=False).numpy()
    return np.concatenate([generator(tf.constant(z[first:first + group_rows]), training=False).numpy()
                           for first in range(0, len(z), group_rows)])


def inversion_generator(generator, config: Config):
    """The generator as the inversion sees it: moving averages, or each batch's own statistics."""
    return BatchStatisticsGenerator(generator) if config.invert.batch_norm == "batch" else generator


def state_dir(results_dir: Path, name: str) -> Path:
    """Where an experiment's inversion checkpoints live until its results are written."""
    return Path(results_dir) / ".state" / name


def save_results(results_dir: Path, name: str, config: Config, seconds: float, numbers: dict, **arrays) -> dict:
    """Writes the arrays, then the JSON record, then drops the experiment's checkpoints."""
    record = {"experiment": name, "seed": config.seed, "wall_seconds": round(seconds, 2),
              "environment": environment(), "config": config_lib.to_dict(config), **numbers}
    if arrays:
        write_npz(results_dir / f"{name}.npz", **arrays)
    write_json(results_dir / f"{name}.json", record)
    drop_state(results_dir, name)
    return record


def drop_state(results_dir: Path, name: str) -> None:
    """Removes an experiment's checkpoints once its results are written (and `.state` when empty)."""
    folder = state_dir(results_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()
    except OSError:  # other experiments' checkpoints are still there, or it never existed
        pass


def _per_mode(modes, count):
    """Row layout used by every experiment: `count` rows of the first mode, then the next..."""
    return [mode for mode in modes for _ in range(count)]


def mode_rows(result_array, modes, index):
    count = len(result_array) // len(modes)
    return result_array[index * count:(index + 1) * count]


def generated_latents(config: Config, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Table 1's `count` true latents and starts (the same for every mode), from the config's seed."""
    rng = np.random.default_rng(config.seed)
    return uniform_latents(rng, count, config.model.z_dim), uniform_latents(rng, count, config.model.z_dim)


def recover_generated_latents(generator, config: Config, count: int, progress: str | None = None, strategy=None,
                              checkpoint_dir=None, encoder=None) -> InversionResult:
    """`count` latents z ~ U(-1, 1) per clip mode, targets G(z), the same starts for every mode:
    random draws, or with invert.start: encoder the encoder's guess E(G(z))."""
    z_true, z_init = generated_latents(config, count)
    modes = config.experiments.modes
    targets = generate(generator, z_true, count)
    if config.invert.start == "encoder":
        z_init = encoder_starts(encoder, targets)
    problem = InversionProblem(np.tile(targets, (len(modes), 1, 1, 1)),
                               np.tile(z_init, (len(modes), 1)), _per_mode(modes, count),
                               np.tile(z_true, (len(modes), 1)), config.seed, group_rows=count)
    return invert(generator, problem, InversionSettings.from_config(config, progress=progress, strategy=strategy,
                                                                    checkpoint_dir=checkpoint_dir))


def encoder_starts(encoder, images: np.ndarray) -> np.ndarray:
    """E(x) as starts, inside the clip box (tanh can round to +-1)."""
    if encoder is None:
        raise ValueError("invert.start is encoder but no encoder was given")
    return np.clip(encoder(tf.constant(images), training=False).numpy(), -1.0, 1.0).astype(np.float32)


def table1(generator, config: Config, results_dir: Path, progress: bool = True, strategy=None, encoder=None) -> dict:
    """Recovery rates of generated latents per clip mode and threshold (Table 1)."""
    experiments, modes = config.experiments, config.experiments.modes
    result = recover_generated_latents(generator, config, experiments.table1_latents,
                                       "table1: recovering generated latents" if progress else None, strategy,
                                       state_dir(results_dir, "table1"), encoder)
    per_mode = {}
    for index, mode in enumerate(modes):
        errors = mode_rows(result.z_error, modes, index)
        first = mode_rows(result.first_step, modes, index)
        per_mode[mode] = {
            "final": {str(t): metrics.success_rate(errors, t) for t in result.thresholds},
            **({"before_polish": {str(t): metrics.success_rate(mode_rows(result.z_error_before_polish, modes, index), t)
                                  for t in result.thresholds}} if result.polish_iterations else {}),
            "sticky": {str(t): float(np.mean(first[:, i] >= 0)) for i, t in enumerate(result.thresholds)},
            "median_z_error": float(np.median(errors)),
            "steps_to_threshold": {str(t): metrics.steps_summary(first[:, i]) for i, t in enumerate(result.thresholds)},
        }
    numbers = {"latents_per_mode": experiments.table1_latents, "table_thresholds": list(experiments.table1_thresholds),
               **_phases(result), "modes": per_mode}
    if config.invert.start == "encoder":  # the start is part of each row's cost
        from dcgan_inversion.training.encoder import start_cost

        numbers["start_step_equivalents"] = round(start_cost(generator, encoder), 3)
        numbers["counted_step_equivalents"] = round(numbers["counted_step_equivalents"]
                                                    + numbers["start_step_equivalents"], 1)
    return save_results(results_dir, "table1", config, result.seconds, numbers, **_arrays(result))


def noise(generator, config: Config, results_dir: Path, progress: bool = True, strategy=None) -> dict:
    """Gaussian noise of each variance on G(z), target clipped to [-1, 1] (Figure 2)."""
    experiments, z_dim = config.experiments, config.model.z_dim
    rng = np.random.default_rng(config.seed + 1)
    count, variances, modes = experiments.noise_latents, experiments.noise_variances, experiments.modes
    z_true = uniform_latents(rng, count, z_dim)
    z_init = uniform_latents(rng, count, z_dim)
    clean = generate(generator, z_true, count)
    noisy = [np.clip(clean + np.sqrt(v) * rng.standard_normal(clean.shape), -1, 1).astype(np.float32) for v in variances]
    # Row layout: mode-major, then variance, then latent.
    targets = np.concatenate([noisy[v] for _ in modes for v in range(len(variances))])
    problem = InversionProblem(targets, np.tile(z_init, (len(modes) * len(variances), 1)),
                               _per_mode(modes, count * len(variances)), np.tile(z_true, (len(modes) * len(variances), 1)),
                               config.seed, group_rows=count)
    result = invert(generator, problem, InversionSettings.from_config(
        config, steps=experiments.noise_steps, progress="noise: recovering latents from noisy images" if progress else None,
        strategy=strategy, checkpoint_dir=state_dir(results_dir, "noise")))
    clean_pixel_error = np.mean(np.square(generate(generator, result.z, count) - np.tile(clean, (len(modes) * len(variances), 1, 1, 1))),
                                axis=(1, 2, 3))
    per_mode = {}
    for index, mode in enumerate(modes):
        z_errors = mode_rows(result.z_error, modes, index).reshape(len(variances), count)
        pixel = mode_rows(result.pixel_error, modes, index).reshape(len(variances), count)
        clean_pixel = mode_rows(clean_pixel_error, modes, index).reshape(len(variances), count)
        per_mode[mode] = {"mean_z_error": z_errors.mean(axis=1).tolist(), "median_z_error": np.median(z_errors, axis=1).tolist(),
                          "mean_pixel_error_vs_noisy": pixel.mean(axis=1).tolist(),
                          "mean_pixel_error_vs_clean": clean_pixel.mean(axis=1).tolist()}
    numbers = {"variances": list(variances), "latents_per_variance": count, **_phases(result), "modes": per_mode}
    return save_results(results_dir, "noise", config, result.seconds, numbers, **_arrays(result))


def unseen_images(config: Config) -> tuple[np.ndarray, list[str]]:
    """Real images the GAN never saw: the folder experiments.unseen_images names (else the held-out
    training images; an imported run has none), then the shipped real portraits."""
    first, names = _named_unseen_images(config) if config.experiments.unseen_images else _held_out(config)
    portraits = np.stack([_portrait(config, *spec) for spec in _PORTRAITS])
    return (np.concatenate([first, portraits]) if len(first) else portraits), names + [spec[0] for spec in _PORTRAITS]


def portrait_count() -> int:
    return len(_PORTRAITS)


def _held_out(config: Config) -> tuple[np.ndarray, list[str]]:
    held_out = heldout_images(config)
    return held_out, [f"held-out image {i}" for i in range(len(held_out))]


def _named_unseen_images(config: Config) -> tuple[np.ndarray, list[str]]:
    """The readable images under experiments.unseen_images (the command line named the others)."""
    from dcgan_inversion.data.images import read_user_image, sort_user_images

    files, _ = sort_user_images([config.experiments.unseen_images], config.model.image_size)
    if not files:
        return np.zeros((0, config.model.image_size, config.model.image_size, config.model.channels), np.float32), []
    pixels = np.stack([read_user_image(file, config.model.image_size) for file in files])
    return to_model_range(pixels, config.model.channels).numpy(), [file.name for file in files]


# (name, loader, face box (left, top, right, bottom) or None for the centre square)
_PORTRAITS = [("grace_hopper (matplotlib)", "grace_hopper", None), ("astronaut (scikit-image)", "astronaut", (150, 30, 330, 210))]


def _portrait(config: Config, name: str, source: str, box) -> np.ndarray:
    from PIL import Image

    if source == "astronaut":
        from skimage import data as skimage_data

        image = Image.fromarray(skimage_data.astronaut())
    else:
        from matplotlib import cbook

        image = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    if box is None:
        side = min(image.size)
        box = ((image.width - side) // 2, (image.height - side) // 2, (image.width + side) // 2, (image.height + side) // 2)
    size = config.model.image_size
    pixels = np.asarray(image.crop(box).resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None))
    return to_model_range(pixels, config.model.channels).numpy()


def uniqueness(generator, config: Config, results_dir: Path, progress: bool = True, strategy=None) -> dict:
    """Each unseen image recovered M times from different starts, per mode (Table 2)."""
    experiments, z_dim = config.experiments, config.model.z_dim
    images, names = unseen_images(config)
    images, names = images[:experiments.uniqueness_images], names[:experiments.uniqueness_images]
    restarts, modes = experiments.uniqueness_restarts, experiments.modes
    rng = np.random.default_rng(config.seed + 2)
    rows_per_mode = len(images) * restarts
    targets = np.tile(np.repeat(images, restarts, axis=0), (len(modes), 1, 1, 1))
    problem = InversionProblem(targets, uniform_latents(rng, rows_per_mode * len(modes), z_dim),
                               _per_mode(modes, rows_per_mode), seed=config.seed, group_rows=rows_per_mode)
    result = invert(generator, problem, InversionSettings.from_config(
        config, progress="uniqueness: recovering unseen images from many starts" if progress else None,
        strategy=strategy, checkpoint_dir=state_dir(results_dir, "uniqueness")))
    per_mode = {}
    for index, mode in enumerate(modes):
        z = mode_rows(result.z, modes, index).reshape(len(images), restarts, z_dim)
        pixel = mode_rows(result.pixel_error, modes, index).reshape(len(images), restarts)
        distances = [metrics.mean_pairwise_distance(z_image) for z_image in z]
        per_mode[mode] = {"mean_pairwise_distance": float(np.mean(distances)), "per_image": distances,
                          "mean_pixel_error": float(pixel.mean())}
    numbers = {"images": names, "restarts": restarts, **_phases(result),
               "random_baseline": metrics.random_baseline(max(restarts, 1000), z_dim, config.seed), "modes": per_mode}
    return save_results(results_dir, "uniqueness", config, result.seconds, numbers,
                        targets=images, **_arrays(result))


def trajectory(generator, config: Config, results_dir: Path, progress: bool = True, strategy=None) -> dict:
    """G(z') at the snapshot steps and at the end, beside the targets (Figure 1)."""
    experiments, z_dim = config.experiments, config.model.z_dim
    rng = np.random.default_rng(config.seed + 3)
    count, modes = experiments.trajectory_targets, experiments.modes
    z_true = uniform_latents(rng, count, z_dim)
    z_init = uniform_latents(rng, count, z_dim)
    targets = generate(generator, z_true, count)
    steps = experiments.trajectory_steps or config.invert.steps
    no_early_stop = config_lib.replace(config, invert={"early_stop": False})  # the figure's last column is at `steps`
    problem = InversionProblem(np.tile(targets, (len(modes), 1, 1, 1)), np.tile(z_init, (len(modes), 1)),
                               _per_mode(modes, count), np.tile(z_true, (len(modes), 1)), config.seed, group_rows=count)
    result = invert(generator, problem, InversionSettings.from_config(
        no_early_stop, steps=steps, snapshot_steps=tuple(experiments.trajectory_snapshots) + (steps,),
        progress="trajectory: snapshots for Figure 1" if progress else None, strategy=strategy,
        checkpoint_dir=state_dir(results_dir, "trajectory")))
    snapshot_steps = sorted(result.snapshots)
    numbers = {"targets": count, "snapshot_steps": snapshot_steps, **_phases(result),
               "modes": {mode: {"z_error": mode_rows(result.z_error, modes, i).tolist()} for i, mode in enumerate(modes)}}
    snapshots = np.stack([result.snapshots[s] for s in snapshot_steps])  # (snapshots, rows, H, W, C)
    return save_results(results_dir, "trajectory", config, result.seconds, numbers, targets=targets,
                        snapshots=snapshots, snapshot_steps=np.asarray(snapshot_steps), **_arrays(result))


EXPERIMENTS = {"table1": table1, "noise": noise, "uniqueness": uniqueness, "trajectory": trajectory}


def run_experiments(generator, config: Config, results_dir: Path, names=None, progress: bool = True,
                    strategy=None, discriminator=None, encoder=None) -> dict:
    """The experiments named (default: experiments.run); `discriminator`: the completion
    experiment's, for Amos's perceptual loss; `encoder`: Table 1's starts under invert.start: encoder."""
    names = list(names or config.experiments.run)
    generator = inversion_generator(generator, config)
    records = {}
    for name in names:
        if preemption.requested():
            raise preemption.Preempted(f"SIGTERM at step 0 of {name}: the experiments before it are saved; "
                                       "run the same command to resume")
        started = time.time()
        done = _finished_record(results_dir, name, config)
        if done is not None:  # same config and seed give the same numbers: no need to run it again
            records[name] = done
            if progress:
                print(f"{name}: already done with this config in {results_dir / (name + '.json')} "
                      "(delete it to run again)", flush=True)
            continue
        if name == "completion":  # beyond the paper: Amos's loss needs D too
            from dcgan_inversion.paper.completion import completion_experiment

            records[name] = completion_experiment(generator, discriminator, config, results_dir, progress, strategy)
        elif name == "table1":
            records[name] = table1(generator, config, results_dir, progress, strategy, encoder)
        else:
            records[name] = EXPERIMENTS[name](generator, config, results_dir, progress, strategy)
        if progress:
            print(f"{name}: done in {time.time() - started:.1f} s -> {results_dir / (name + '.json')}", flush=True)
    return records


def _finished_record(results_dir: Path, name: str, config: Config) -> dict | None:
    """The experiment's results, if a run with this exact config and package version wrote them."""
    path = Path(results_dir) / f"{name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):  # damaged: the experiment runs again and rewrites it
        return None
    same = (config_lib.is_same_config(record.get("config"), config)
            and record.get("environment", {}).get("dcgan_inversion") == package_version("dcgan-inversion")
            and (Path(results_dir) / f"{name}.npz").exists())
    return record if same else None


def _phases(result: InversionResult) -> dict:
    """How the work was spent: first-order steps, polish iterations, and their cost in steps."""
    return {"steps": result.steps, "polish_iterations": result.polish_iterations,
            "first_order_seconds": round(result.first_order_seconds, 2), "polish_seconds": round(result.polish_seconds, 2),
            "first_order_step_equivalents": round(result.first_order_equivalents, 1),
            "step_equivalents": round(result.step_equivalents, 1),  # timed: depends on the machine
            "polish_row_iterations": result.polish_row_iterations,
            "polish_iteration_step_equivalents": round(result.polish_iteration_steps, 2),
            "counted_step_equivalents": round(result.counted_step_equivalents, 1)}  # FLOPs / (2 F), cost.py


def _arrays(result: InversionResult) -> dict:
    arrays = {"z": result.z, "pixel_error": result.pixel_error}
    if result.z_error is not None:
        arrays.update(z_error=result.z_error, first_step=result.first_step, switch_step=result.switch_step,
                      history_steps=result.history_steps, history_equivalents=result.history_equivalents,
                      history_z_error=result.history_z_error)
    if result.polish_z_error is not None:
        arrays.update(polish_z_error=result.polish_z_error, z_error_before_polish=result.z_error_before_polish)
        if result.polish_counted is not None and len(result.polish_counted) == len(result.polish_z_error):
            arrays.update(polish_counted=result.polish_counted)
    return arrays
