"""`make bench`, the polish: the polish methods side by side on the same rows.

Per generator, the same problem is inverted with
- `autodiff_lm_20`: the autodiff-Jacobian Levenberg-Marquardt with the settings it first shipped
  with (at most 20 iterations, no per-row stop, switch at <10% over 25 steps);
- `levenberg_marquardt`: the autodiff Jacobian with the shipped settings (isolates the Jacobian);
- `layerwise_lm`: the layer-wise Jacobian, fresh every iteration, with the shipped settings;
- the shipped config (`broyden_lm`: the layer-wise Jacobian kept by rank-1 updates).
Cost is counted in first-order step-equivalents (each row's first-order steps plus the polish's
FLOPs over one step's, cost.py) and timed (the polish's seconds over the seconds of one
first-order step of the same batch, measured in the same run, so a noisy machine shifts both
alike). Numbers are printed and written, never asserted.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.gan.latents import UNIFORM
from dcgan_inversion.gan.model import make_generator

JACOBIANS = ("levenberg_marquardt", "layerwise_lm")  # a fresh Jacobian every iteration: autodiff, layer-wise
AUTODIFF_LM_20 = {"polish": {"method": "levenberg_marquardt", "iterations": 20, "row_patience": 0},
                  "search": {"stall_improvement": 0.1}}
METHOD_NOTES = {"autodiff_lm_20": f"autodiff-Jacobian LM, at most {AUTODIFF_LM_20['polish']['iterations']} iterations, "
                                  "no per-row stop, switch at "
                                  f"<{AUTODIFF_LM_20['search']['stall_improvement']:.0%} improvement per stall window",
                "levenberg_marquardt": "the autodiff Jacobian, fresh every iteration, with the shipped settings",
                "layerwise_lm": "the layer-wise Jacobian, fresh every iteration, with the shipped settings",
                "broyden_lm": "the layer-wise Jacobian kept by Broyden's rank-1 updates"}
NOISE_VARIANCES = (0.01, 0.1, 1.0)
PAPER_STEPS = 100_000


def variants(config) -> dict:
    """The configs compared: autodiff LM with its first settings, each LM Jacobian with the shipped settings,
    and the shipped polish."""
    return {"autodiff_lm_20": config_lib.replace(config, **AUTODIFF_LM_20),
            **{method: config_lib.replace(config, polish={"method": method}) for method in JACOBIANS},
            config.polish.method: config}


def precision_report(generator, config, latents: int, log) -> dict:
    """Counted step-equivalents (cost.py) until 99% / 100% of each mode's rows are below 1e-4 and 1e-8.

    A row that crossed during the polish's i-th iteration has cost the first-order phase plus i
    counted polish iterations; the timed totals stay beside it as the wall-clock view."""
    from dcgan_inversion.paper.experiments import recover_generated_latents

    modes = config.experiments.modes
    result = recover_generated_latents(generator, config, latents)
    first_order = result.first_order_equivalents
    per_iteration = result.polish_iteration_steps
    report = {"method": config.polish.method, "latents_per_mode": latents, "first_order_steps": result.steps,
              "first_order_step_equivalents": first_order, "polish_iterations": result.polish_iterations,
              "step_equivalents": result.step_equivalents, "polish_step_equivalents": result.step_equivalents - first_order,
              "counted_step_equivalents": result.counted_step_equivalents,
              "polish_iteration_step_equivalents": per_iteration, "wall_seconds": result.seconds, "modes": {}}
    history_steps = np.concatenate([[0], result.history_steps])  # step -> steps per row spent so far
    history_equivalents = np.concatenate([[0.0], result.history_equivalents])
    for index, mode in enumerate(modes):
        first = result.first_step[index * latents:(index + 1) * latents]
        final = result.z_error[index * latents:(index + 1) * latents]
        entry = {"final share < 1e-4": float(np.mean(final < 1e-4)), "final share < 1e-8": float(np.mean(final < 1e-8))}
        for threshold in (1e-4, 1e-8):
            crossed = first[:, result.thresholds.index(threshold)]
            as_equivalents = np.where(crossed > result.steps, first_order + _polish_cost_at(result, crossed, index * latents),
                                      np.interp(crossed, history_steps, history_equivalents))
            for share in (0.99, 1.0):
                needed = int(np.ceil(share * latents))
                reached = np.sort(as_equivalents[crossed >= 0])
                entry[f"{share:.0%} < {threshold:g}"] = float(reached[needed - 1]) if len(reached) >= needed else None
        report["modes"][mode] = entry
    log(f"{config.model.image_size} px, {config.polish.method}: {first_order:.0f} first-order steps per row, "
        f"{result.polish_iterations} polish iterations, {result.counted_step_equivalents:.0f} counted step-equivalents "
        f"({report['step_equivalents']:.0f} timed), "
        f"{result.seconds:.0f} s; below 1e-8: "
        + ", ".join(f"{mode} {entry['final share < 1e-8']:.1%}" for mode, entry in report["modes"].items()))
    return report


def _polish_cost_at(result, crossed: np.ndarray, first_row: int) -> np.ndarray:
    """Each row's counted polish cost up to the iteration in which it crossed (0 where it crossed
    before the polish or never)."""
    iteration = np.clip(crossed - result.steps, 1, len(result.polish_counted)) - 1 if result.polish_counted is not None \
        else np.zeros(len(crossed), np.int64)
    rows = first_row + np.arange(len(crossed))
    return result.polish_counted[iteration, rows] if result.polish_counted is not None else np.zeros(len(crossed))


def compare_methods(generator, config, latents: int, log) -> dict:
    return {name: precision_report(generator, variant, latents, log) for name, variant in variants(config).items()}


def demo_methods(run_dir: Path, latents: int, log) -> dict:
    """The trained demo generator, Table 1 settings."""
    from dcgan_inversion.infra.errors import UserError
    from dcgan_inversion.run import load_generator
    from dcgan_inversion.run.paths import saved_config

    config = config_lib.load_config("demo")
    saved = saved_config(run_dir)
    if saved is not None and saved.model != config.model:
        raise UserError(f"steps to precision are measured on the demo config's generator; {run_dir} holds a "
                        f"{saved.model.image_size} px {saved.model.architecture} one: make bench RUN=runs/demo")
    return compare_methods(load_generator(run_dir, config.model), config, latents, log)


def untrained_64px_methods(latents: int, log) -> dict:
    """The celeba config's inversion on a freshly initialised 64 px generator."""
    config = config_lib.load_config("celeba")
    return compare_methods(_untrained(config), config, latents, log)


def _untrained(config):
    keras.utils.set_random_seed(config.seed)
    return make_generator(config.model)


def noise_64px(latents: int, log) -> dict:
    """Figure 2's experiment on the untrained 64 px generator: noisy targets never reach the float32
    floor, so what the polish costs per row, and the error it ends at, is the comparison."""
    from dcgan_inversion.paper.experiments import Experiment, noise

    base = config_lib.replace(config_lib.load_config("celeba"),
                              experiments={"noise_latents": latents, "noise_variances": NOISE_VARIANCES,
                                           "modes": ("stochastic",)})
    generator, report = _untrained(base), {}
    for name, config in variants(base).items():
        with tempfile.TemporaryDirectory() as folder:
            record = noise(Experiment(generator, config, Path(folder), progress=False))
        rows = latents * len(NOISE_VARIANCES)
        report[name] = {"rows": rows, "polish_seconds_per_row": record["polish_seconds"] / rows,
                        "polish_iterations": record["polish_iterations"],
                        "step_equivalents": record["step_equivalents"],
                        "mean_z_error": record["modes"]["stochastic"]["mean_z_error"],
                        "mean_pixel_error_vs_noisy": record["modes"]["stochastic"]["mean_pixel_error_vs_noisy"]}
        log(f"64 px noise, {name}: polish {report[name]['polish_seconds_per_row']:.2f} s per row, "
            f"mean z error by variance {', '.join(f'{v:.3g}' for v in report[name]['mean_z_error'])}")
    return report


def _memory_probe(method: str, rows: int) -> None:
    """Run in a fresh process: prints the peak RSS (MB) of polishing `rows` demo-sized rows."""
    from dcgan_inversion.bench.resources import print_peak_rss
    from dcgan_inversion.inversion.polishing import METHODS

    config = config_lib.load_config("demo")
    keras.utils.set_random_seed(0)
    generator = make_generator(config.model)
    rng = np.random.default_rng(0)
    z_true = UNIFORM.sample(rng, (rows, config.model.z_dim))
    starts = np.clip(z_true + rng.uniform(-0.3, 0.3, z_true.shape), -1, 1).astype(np.float32)
    polish = config_lib.replace(config, polish={"iterations": 2}).polish
    METHODS[method](generator, polish).run(starts, generator(z_true, training=False).numpy())
    print_peak_rss()


def peak_memory(rows: tuple = (32, 256)) -> dict:
    """Peak RSS of a fresh process polishing more and more rows, chunk_rows fixed (demo: 16)."""
    from dcgan_inversion.bench.resources import probe_peak_mb

    report = {}
    for method in (*JACOBIANS, "broyden_lm"):
        report[method] = {}
        for count in rows:
            report[method][str(count)] = probe_peak_mb(
                f"from dcgan_inversion.bench.polish import _memory_probe; _memory_probe({method!r}, {count})")
    return report


def _cell(value) -> str:
    return f"{value:.0f}" if value is not None else "not reached"


def markdown(report: dict) -> list[str]:
    lines = []
    if "steps_to_precision" in report:
        runs = report["steps_to_precision"]
        first = next(iter(runs.values()))
        when = f"measured {report['polish_date']}, " if "polish_date" in report else ""
        lines += ["", f"Polish methods side by side ({when}demo generator, Table 1 settings, {first['latents_per_mode']} "
                  "latents per mode, seed 0): counted step-equivalents (first-order steps per row plus the polish's FLOPs "
                  "in first-order steps, from the layer shapes) until 99% / 100% of a mode's rows are below 1e-4 and "
                  "1e-8; totals counted and timed (the polish's seconds in first-order steps of the same batch); "
                  f"the paper: {PAPER_STEPS:,} updates. "
                  + "; ".join(f"`{name}`: {METHOD_NOTES.get(name, 'as shipped')}" for name in runs)
                  + f". The shipped polish when measured: `{list(runs)[-1]}`.", "",
                  "| polish | clipping | 99% < 1e-4 | 100% < 1e-4 | 99% < 1e-8 | 100% < 1e-8 | first-order | counted total | timed total | wall s |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, run in runs.items():
            for mode, entry in run["modes"].items():
                cells = [_cell(entry[k]) for k in ("99% < 0.0001", "100% < 0.0001", "99% < 1e-08", "100% < 1e-08")]
                counted = _cell(run.get("counted_step_equivalents"))
                lines.append(f"| {name} | {mode} | " + " | ".join(cells) + f" | {run['first_order_step_equivalents']:.0f} | "
                             f"{counted} | {run['step_equivalents']:.0f} | {run['wall_seconds']:.0f} |")
    if "untrained_64px_precision" in report:
        lines += [""] + [f"Untrained 64 px generator, celeba settings, `{name}`, {entry['latents_per_mode']} latents per "
                         f"mode: {entry['first_order_step_equivalents']:.0f} first-order steps per row, "
                         + (f"{entry['counted_step_equivalents']:.0f} counted step-equivalents in all "
                            f"({entry['step_equivalents']:.0f} timed)" if entry.get("counted_step_equivalents") is not None
                            else f"{entry['step_equivalents']:.0f} step-equivalents in all, timed (not counted then)")
                         + f", {entry['wall_seconds']:.0f} s; "
                         + ", ".join(f"{mode} {values['final share < 1e-8']:.0%}" for mode, values in entry["modes"].items())
                         + " below 1e-8." for name, entry in report["untrained_64px_precision"].items()]
    if "noise_64px" in report:
        noise = report["noise_64px"]
        lines += ["", "Noise experiment, untrained 64 px generator, stochastic clipping, variances "
                  + ", ".join(f"{v:g}" for v in NOISE_VARIANCES) + ": polish seconds per row and the mean z error it "
                  "ends at, per variance.", "", "| polish | rows | polish s per row | mean z error by variance |", "|---|---|---|---|"]
        lines += [f"| {name} | {entry['rows']} | {entry['polish_seconds_per_row']:.2f} | "
                  + ", ".join(f"{v:.4g}" for v in entry["mean_z_error"]) + " |" for name, entry in noise.items()]
    if "polish_memory" in report:
        lines += ["", "Peak RSS (MB) of a process polishing N demo rows, chunk_rows 16: "
                  + "; ".join(f"`{method}` " + ", ".join(f"{rows} rows {mb:.0f}" for rows, mb in values.items())
                              for method, values in report["polish_memory"].items()) + "."]
    return lines
