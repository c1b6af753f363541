"""The paper's experiments, one function each, all on the one inversion engine, and their registry.

table1      Table 1: recovery rates of generated latents per clip mode and threshold.
noise       Figure 2: z error when Gaussian noise is added to G(z).
uniqueness  Table 2: distances between recoveries of one unseen real image from many starts.
trajectory  Figure 1: G(z') at initialisation, after 100 steps and at the end.
completion  (beyond the paper, paper/completion.py) how much of an image pins its latent down.
edits       (beyond the paper, paper/edits.py) walks and vector arithmetic on recovered latents.
Every experiment takes one `Experiment` (what it runs on and where it writes) and writes
`<run>/results/<name>.json` (numbers, resolved config, seed, versions, device, wall time) and
`<name>.npz` (arrays) through `dcgan_inversion.records`.

On a conditional generator (`class_rows`) table1, noise, uniqueness and trajectory draw a class per
latent (per image in uniqueness) and recover z given it; the classes are kept in `<name>.npz`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import Config, seeds
from dcgan_inversion.data.unseen import unseen_images
from dcgan_inversion.gan.latents import UNIFORM, latent_prior
from dcgan_inversion.gan.sampling import encoder_starts, generate, inversion_generator
from dcgan_inversion.infra import preemption
from dcgan_inversion.inversion import InversionProblem, InversionResult, InversionSettings, invert
from dcgan_inversion.inversion import metrics
from dcgan_inversion.records import finished_record, save_results, state_dir


@dataclass(frozen=True)
class Experiment:
    """What an experiment runs on and where it writes: the generator as the inversion sees it, the
    run's config, its results folder; `discriminator` for Amos's perceptual loss (completion),
    `encoder` for Table 1's starts under invert.start: encoder; `class_rows` (gan.labels.ClassRows)
    on a conditional generator whose experiments draw a class per row."""

    generator: object
    config: Config
    results_dir: Path
    progress: bool = True
    strategy: object = None
    discriminator: object = None
    encoder: object = None
    class_rows: object = None

    def title(self, text: str) -> str | None:
        return text if self.progress else None

    def settings(self, name: str, config: Config | None = None, **overrides) -> InversionSettings:
        """The engine's settings for experiment `name`: its config, its checkpoints (`checkpoint_dir`
        overrides where), its progress line."""
        config = config or self.config
        overrides.setdefault("checkpoint_dir", state_dir(self.results_dir, name))
        return InversionSettings.from_config(config, strategy=self.strategy, prior=experiment_prior(config),
                                             class_rows=self.class_rows, **overrides)

    def classes(self, stream: int, count: int) -> np.ndarray | None:
        """A class per latent on a conditional generator (None otherwise), from the experiment's stream."""
        if self.class_rows is None:
            return None
        rng = np.random.default_rng([seeds.stream(self.config.seed, seeds.CLASSES), stream])
        return self.class_rows.draw(rng, count)

    def generate(self, z: np.ndarray, classes: np.ndarray | None, group_rows: int | None = None) -> np.ndarray:
        """G(z), each row with its class on a conditional generator."""
        if classes is None:
            return generate(self.generator, z, group_rows)
        return self.class_rows.generate(self.generator, z, classes, group_rows)


def _tiled(classes: np.ndarray | None, repeats: int) -> np.ndarray | None:
    return None if classes is None else np.tile(classes, repeats)


def _class_arrays(problem: InversionProblem) -> dict:
    """The rows' classes, for the results' arrays (conditional generators only)."""
    return {} if problem.classes is None else {"classes": problem.classes}


def _per_mode(modes, count):
    """Row layout used by every experiment: `count` rows of the first mode, then the next..."""
    return [mode for mode in modes for _ in range(count)]


def mode_rows(result_array, modes, index):
    count = len(result_array) // len(modes)
    return result_array[index * count:(index + 1) * count]


def experiment_prior(config: Config):
    """The prior the experiments draw true latents and starts from, and clip to: the run's own, or with
    experiments.latents: paper_uniform the paper's U(-1, 1) and box [-1, 1] on any generator."""
    return latent_prior(config) if config.experiments.latents == "prior" else UNIFORM


def _latents_and_starts(config: Config, stream: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` true latents of the experiments' prior, then as many starts, from one seed stream."""
    prior, rng = experiment_prior(config), np.random.default_rng(seeds.stream(config.seed, stream))
    return prior.sample(rng, (count, config.model.z_dim)), prior.sample(rng, (count, config.model.z_dim))


def generated_latents(config: Config, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Table 1's `count` true latents and starts (the same for every mode), from the config's seed."""
    return _latents_and_starts(config, seeds.TABLE1, count)


def recover_generated_latents(generator, config: Config, count: int, progress: str | None = None, strategy=None,
                              checkpoint_dir=None, encoder=None, class_rows=None) -> InversionResult:
    """`count` latents of the prior per clip mode recovered from G(z) (generated_problem)."""
    run = Experiment(generator, config, Path(), strategy=strategy, encoder=encoder, class_rows=class_rows)
    return invert(generator, generated_problem(run, count), run.settings("table1", progress=progress,
                                                                          checkpoint_dir=checkpoint_dir))


def generated_problem(run: Experiment, count: int) -> InversionProblem:
    """`count` latents of the prior per clip mode, targets G(z), the same starts for every mode:
    random draws, or with invert.start: encoder the encoder's guess E(G(z)). On a conditional
    generator (`run.class_rows`) each latent has a class drawn, the same in every mode."""
    config = run.config
    z_true, z_init = generated_latents(config, count)
    modes = config.experiments.modes
    classes = run.classes(seeds.TABLE1, count)
    targets = run.generate(z_true, classes, count)
    if config.invert.start == "encoder":
        z_init = encoder_starts(run.encoder, targets, experiment_prior(config))
    return InversionProblem(np.tile(targets, (len(modes), 1, 1, 1)), np.tile(z_init, (len(modes), 1)),
                            _per_mode(modes, count), np.tile(z_true, (len(modes), 1)), config.seed, group_rows=count,
                            generated=True, classes=_tiled(classes, len(modes)))


def table1(run: Experiment) -> dict:
    """Recovery rates of generated latents per clip mode and threshold (Table 1)."""
    config = run.config
    experiments, modes = config.experiments, config.experiments.modes
    problem = generated_problem(run, experiments.table1_latents)
    result = invert(run.generator, problem, run.settings("table1", progress=run.title("table1: recovering "
                                                                                        "generated latents")))
    per_mode = {}
    for index, mode in enumerate(modes):
        errors = mode_rows(result.z_error, modes, index)
        first = mode_rows(result.first_step, modes, index)
        per_mode[mode] = {
            "final": {str(t): float(np.mean(mode_rows(result.below(t), modes, index))) for t in result.thresholds},
            **({"before_polish": {str(t): metrics.success_rate(mode_rows(result.z_error_before_polish, modes, index), t)
                                  for t in result.thresholds}} if result.polish_iterations else {}),
            "sticky": {str(t): float(np.mean(mode_rows(result.ever_below(t), modes, index))) for t in result.thresholds},
            "median_z_error": float(np.median(errors)),
            "steps_to_threshold": {str(t): metrics.steps_summary(first[:, i]) for i, t in enumerate(result.thresholds)},
        }
    numbers = {"latents_per_mode": experiments.table1_latents, "table_thresholds": list(experiments.table1_thresholds),
               **_phases(result), "modes": per_mode}
    if config.invert.start == "encoder":  # the start is part of each row's cost
        from dcgan_inversion.inversion.cost import encoder_start_cost

        numbers["start_step_equivalents"] = round(encoder_start_cost(run.generator, run.encoder), 3)
        numbers["counted_step_equivalents"] = round(numbers["counted_step_equivalents"]
                                                    + numbers["start_step_equivalents"], 1)
    return save_results(run.results_dir, "table1", config, result.seconds, numbers, **_arrays(result),
                        **_class_arrays(problem))


def noise(run: Experiment) -> dict:
    """Gaussian noise of each variance on G(z), target clipped to [-1, 1] (Figure 2)."""
    config, generator = run.config, run.generator
    experiments = config.experiments
    count, variances, modes = experiments.noise_latents, experiments.noise_variances, experiments.modes
    prior, rng = experiment_prior(config), np.random.default_rng(seeds.stream(config.seed, seeds.NOISE))
    z_true = prior.sample(rng, (count, config.model.z_dim))
    z_init = prior.sample(rng, (count, config.model.z_dim))
    classes = run.classes(seeds.NOISE, count)
    clean = run.generate(z_true, classes, count)
    noisy = [np.clip(clean + np.sqrt(v) * rng.standard_normal(clean.shape), -1, 1).astype(np.float32) for v in variances]
    # Row layout: mode-major, then variance, then latent.
    targets = np.concatenate([noisy[v] for _ in modes for v in range(len(variances))])
    repeats = len(modes) * len(variances)
    clean_rows = np.tile(np.repeat(np.asarray(variances) == 0, count), len(modes))  # G's own image: restarts apply
    problem = InversionProblem(targets, np.tile(z_init, (repeats, 1)), _per_mode(modes, count * len(variances)),
                               np.tile(z_true, (repeats, 1)), config.seed, group_rows=count, generated=clean_rows,
                               classes=_tiled(classes, repeats))
    result = invert(generator, problem, run.settings(
        "noise", steps=experiments.noise_steps, progress=run.title("noise: recovering latents from noisy images")))
    clean_pixel_error = np.mean(np.square(run.generate(result.z, problem.classes, count)
                                          - np.tile(clean, (repeats, 1, 1, 1))),
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
    return save_results(run.results_dir, "noise", config, result.seconds, numbers, **_arrays(result),
                        **_class_arrays(problem))


def uniqueness(run: Experiment) -> dict:
    """Each unseen image recovered M times from different starts, per mode (Table 2)."""
    config = run.config
    experiments, z_dim = config.experiments, config.model.z_dim
    images, names = unseen_images(config)
    images, names = images[:experiments.uniqueness_images], names[:experiments.uniqueness_images]
    restarts, modes = experiments.uniqueness_restarts, experiments.modes
    prior, rng = experiment_prior(config), np.random.default_rng(seeds.stream(config.seed, seeds.UNIQUENESS))
    rows_per_mode = len(images) * restarts
    targets = np.tile(np.repeat(images, restarts, axis=0), (len(modes), 1, 1, 1))
    classes = run.classes(seeds.UNIQUENESS, len(images))  # one class per image: its recoveries are compared
    problem = InversionProblem(targets, prior.sample(rng, (rows_per_mode * len(modes), z_dim)),
                               _per_mode(modes, rows_per_mode), seed=config.seed, group_rows=rows_per_mode,
                               classes=None if classes is None else _tiled(np.repeat(classes, restarts), len(modes)))
    result = invert(run.generator, problem, run.settings(
        "uniqueness", progress=run.title("uniqueness: recovering unseen images from many starts")))
    per_mode = {}
    for index, mode in enumerate(modes):
        z = mode_rows(result.z, modes, index).reshape(len(images), restarts, z_dim)
        pixel = mode_rows(result.pixel_error, modes, index).reshape(len(images), restarts)
        distances = [metrics.mean_pairwise_distance(z_image) for z_image in z]
        per_mode[mode] = {"mean_pairwise_distance": float(np.mean(distances)), "per_image": distances,
                          "mean_pixel_error": float(pixel.mean())}
    numbers = {"images": names, "restarts": restarts, **_phases(result),
               "random_baseline": metrics.random_baseline(max(restarts, 1000), z_dim, config.seed, prior),
               "modes": per_mode}
    return save_results(run.results_dir, "uniqueness", config, result.seconds, numbers,
                        targets=images, **_arrays(result), **_class_arrays(problem))


def trajectory(run: Experiment) -> dict:
    """G(z') at the snapshot steps and at the end, beside the targets (Figure 1)."""
    config = run.config
    experiments = config.experiments
    count, modes = experiments.trajectory_targets, experiments.modes
    z_true, z_init = _latents_and_starts(config, seeds.TRAJECTORY, count)
    classes = run.classes(seeds.TRAJECTORY, count)
    targets = run.generate(z_true, classes, count)
    steps = experiments.trajectory_steps or config.invert.steps
    no_early_stop = config_lib.replace(config, invert={"early_stop": False})  # the figure's last column is at `steps`
    problem = InversionProblem(np.tile(targets, (len(modes), 1, 1, 1)), np.tile(z_init, (len(modes), 1)),
                               _per_mode(modes, count), np.tile(z_true, (len(modes), 1)), config.seed, group_rows=count,
                               classes=_tiled(classes, len(modes)))
    result = invert(run.generator, problem, run.settings(
        "trajectory", no_early_stop, steps=steps, snapshot_steps=tuple(experiments.trajectory_snapshots) + (steps,),
        progress=run.title("trajectory: snapshots for Figure 1")))
    snapshot_steps = sorted(result.snapshots)
    numbers = {"targets": count, "snapshot_steps": snapshot_steps, **_phases(result),
               "modes": {mode: {"z_error": mode_rows(result.z_error, modes, i).tolist()} for i, mode in enumerate(modes)}}
    snapshots = np.stack([result.snapshots[s] for s in snapshot_steps])  # (snapshots, rows, H, W, C)
    return save_results(run.results_dir, "trajectory", config, result.seconds, numbers, targets=targets,
                        snapshots=snapshots, snapshot_steps=np.asarray(snapshot_steps), **_arrays(result),
                        **_class_arrays(problem))


def edits(run: Experiment) -> dict:
    """Beyond the paper: walks and vector arithmetic on recovered latents (paper/edits.py)."""
    from dcgan_inversion.paper.edits import edits_experiment

    return edits_experiment(run)


def completion(run: Experiment) -> dict:
    """Beyond the paper: every mask and a sweep of centre squares (paper/completion.py)."""
    from dcgan_inversion.paper.completion import completion_experiment

    return completion_experiment(run)


REGISTRY = {"table1": table1, "noise": noise, "uniqueness": uniqueness, "trajectory": trajectory,
            "completion": completion, "edits": edits}


def run_experiments(generator, config: Config, results_dir: Path, names=None, progress: bool = True,
                    strategy=None, discriminator=None, encoder=None, class_rows=None) -> dict:
    """The experiments named (default: experiments.run), each skipped when its results were written
    with this config and package version, on the generator as the inversion sees it; with `class_rows`
    (a conditional generator) a class drawn per row."""
    run = Experiment(inversion_generator(generator, config), config, Path(results_dir), progress, strategy,
                     discriminator, encoder, class_rows)
    records = {}
    for name in list(names or config.experiments.run):
        if preemption.requested():
            raise preemption.Preempted(f"SIGTERM at step 0 of {name}: the experiments before it are saved; "
                                       "run the same command to resume")
        started = time.time()
        done = finished_record(results_dir, name, config)
        if done is not None:  # same config and seed give the same numbers: no need to run it again
            records[name] = done
            if progress:
                print(f"{name}: already done with this config in {run.results_dir / (name + '.json')} "
                      "(delete it to run again)", flush=True)
            continue
        records[name] = REGISTRY[name](run)
        if progress:
            print(f"{name}: done in {time.time() - started:.1f} s -> {run.results_dir / (name + '.json')}", flush=True)
    return records


def _phases(result: InversionResult) -> dict:
    """How the work was spent: first-order steps, polish iterations, and their cost in steps."""
    return {"steps": result.steps, "polish_iterations": result.polish_iterations,
            "first_order_seconds": round(result.first_order_seconds, 2), "polish_seconds": round(result.polish_seconds, 2),
            "first_order_step_equivalents": round(result.first_order_equivalents, 1),
            "step_equivalents": round(result.step_equivalents, 1),  # timed: depends on the machine
            "polish_row_iterations": result.polish_row_iterations,
            "polish_iteration_step_equivalents": round(result.polish_iteration_steps, 2),
            "counted_step_equivalents": round(result.counted_step_equivalents, 1),  # FLOPs / (2 F), cost.py
            **({"screen_step_equivalents": round(result.screen_row_steps / len(result.z), 1)}
               if result.screen_row_steps else {}),
            **({"restarted_rows": int(np.count_nonzero(result.restarts)),
                "restart_attempts": int(result.restarts.sum()),  # not "restarts": uniqueness counts its starts so
                "restart_step_equivalents": round(result.restart_row_steps / len(result.z), 1)}
               if result.restarts is not None and result.restarts.any() else {})}


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
    if result.restarts is not None and result.restarts.any():
        arrays.update(restarts=result.restarts)
    return arrays
