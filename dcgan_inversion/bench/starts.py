"""Where rows start, measured side by side (`make bench ARGS=--starts-only`): the paper's random
starts (the default) against the run's trained encoder E(x) (`make encoder`), on Table 1's
problem, in counted step-equivalents per row (cost.py, the start included), timed ones and wall
time, with the share of every mode's rows below 1e-8; and the encoder's own training cost with
the number of rows it must serve to pay for itself."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from dcgan_inversion import config as config_lib


def start_variants(config) -> dict:
    """The run's default (random starts, its polish), the same with a fresh layer-wise Jacobian every
    polish iteration (`layerwise_lm`), the encoder start with the run's first-order
    phase, and the encoder start going to the polish after one step. The encoder's guess replaces the
    start screen (a screen would pay for random candidates beside it); stuck rows still restart from
    draws of the prior."""
    encoder = config_lib.replace(config, invert={"start": "encoder"}, search={"screen_starts": 1})
    at_once = config_lib.replace(encoder, invert={"steps": 1}, search={"switch": "after_steps"})
    variants = {"random start (default)": config, "encoder start": encoder, "encoder start, polish at once": at_once}
    if config.polish.method != "layerwise_lm":
        variants = {"random start, layerwise_lm": config_lib.replace(
            config, polish={"method": "layerwise_lm"}), **variants}
    return variants


def compare_starts(run_dir, latents: int, log, resize=None) -> dict:
    from dcgan_inversion.paper.experiments import recover_generated_latents
    from dcgan_inversion.run import RunPaths, load_encoder, load_generator, trained_config
    from dcgan_inversion.inversion.cost import encoder_start_cost

    config = trained_config(run_dir)
    generator, encoder = load_generator(run_dir), load_encoder(run_dir)
    trained = json.loads(RunPaths(run_dir).encoder_record.read_text(encoding="utf-8"))
    report = {"run": str(run_dir), "image_size": config.model.image_size, "polish": config.polish.method,
              "latents_per_mode": latents, "encoder": {key: trained[key] for key in (
        "steps", "batch_size", "seconds_this_call", "training_step_equivalents", "held_out_z_error_median")},
        "methods": {}}
    for name, variant in start_variants(config).items():
        variant = resize(variant) if resize else variant
        uses_encoder = variant.invert.start == "encoder"
        began = time.perf_counter()
        result = recover_generated_latents(generator, variant, latents, encoder=encoder if uses_encoder else None)
        wall = time.perf_counter() - began
        start = encoder_start_cost(generator, encoder) if uses_encoder else 0.0
        modes = variant.experiments.modes
        errors = result.z_error.reshape(len(modes), latents)
        entry = {"counted_step_equivalents": round(result.counted_step_equivalents + start, 1),
                 "start_step_equivalents": round(start, 3), "timed_step_equivalents": round(result.step_equivalents, 1),
                 "first_order_steps_per_row": round(result.first_order_equivalents, 1),
                 "polish_iterations_per_row": round(result.polish_row_iterations / len(result.z), 2),
                 "wall_seconds": round(wall, 1),
                 "below_1e-8": {mode: float(np.mean(errors[i] < 1e-8)) for i, mode in enumerate(modes)},
                 "below_1e-4": {mode: float(np.mean(errors[i] < 1e-4)) for i, mode in enumerate(modes)}}
        report["methods"][name] = entry
        log(f"starts: {name}: {entry['counted_step_equivalents']:.0f} counted step-equivalents per row "
            f"({entry['timed_step_equivalents']:.0f} timed), {wall:.0f} s; below 1e-8: "
            + ", ".join(f"{mode} {share:.0%}" for mode, share in entry["below_1e-8"].items()))
    default = report["methods"]["random start (default)"]["counted_step_equivalents"]
    best = min(report["methods"].items(), key=lambda item: (-min(item[1]["below_1e-8"].values()),
                                                            item[1]["counted_step_equivalents"]))
    saved = default - best[1]["counted_step_equivalents"]
    report["winner"] = best[0]
    report["break_even_rows"] = (round(trained["training_step_equivalents"] / saved) if saved > 0 else None)
    return report


def markdown(report: dict) -> list[str]:
    methods = report["methods"]
    modes = list(next(iter(methods.values()))["below_1e-8"])
    when = f", measured {report['date']}" if "date" in report else ""
    lines = [f"Where rows start: Table 1's problem on the run `{Path(report.get('run', 'runs/demo')).name}` "
             f"({report.get('image_size', 32)} px{when}), {report['latents_per_mode']} latents per "
             "mode, one run (counted: FLOPs / one first-order step's, the start included):", "",
             "| start | counted / row | timed / row | first-order steps / row | polish iterations / row | wall (s) | "
             + " | ".join(f"{mode} < 1e-8" for mode in modes) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(modes)]
    for name, entry in methods.items():
        lines.append(f"| {name} | {entry['counted_step_equivalents']:.0f} | {entry['timed_step_equivalents']:.0f} | "
                     f"{entry['first_order_steps_per_row']:.0f} | {entry['polish_iterations_per_row']:.1f} | "
                     f"{entry['wall_seconds']:.0f} | "
                     + " | ".join(f"{entry['below_1e-8'][mode]:.0%}" for mode in modes) + " |")
    encoder = report["encoder"]
    lines += ["", f"The encoder: {encoder['steps']} steps of {encoder['batch_size']} generated images, "
              f"{encoder['seconds_this_call']:.0f} s, {encoder['training_step_equivalents']:,} counted step-equivalents; "
              f"held-out z error median {encoder['held_out_z_error_median']:.2e}. Fewest counted per row with every "
              f"mode's rows below 1e-8 (or the most rows there): {report['winner']}"
              + (f"; the encoder pays for itself after {report['break_even_rows']:,} rows." if report["break_even_rows"]
                 else "; it saves nothing here.")]
    return lines
