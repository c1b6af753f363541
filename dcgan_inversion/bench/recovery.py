"""Our method's recovery on one run's generator, its settings side by side (`make bench RUN=runs/face
ARGS=--recovery-only`).

On a real generator the loss has local minima, so how a row reaches the polish decides whether it is
recovered (docs/your_gan.md). Compared on Table 1's problem, for the paper's latents (U(-1, 1), box
[-1, 1]) and the generator's own prior, each setting described from its resolved config (`method_note`):
- `early switch`: each row leaves for the polish once its loss stalls, no screen, no restarts;
- `long first-order phase`: a minimum number of first-order steps before the stall checks, restarts of
  stuck rows, no screen;
- `screened starts, early switch`: each row goes on from the best of several starts after a few steps
  (screening.py), the stall switch from then on, and restarts (each screened again);
- `screened starts, long phase, polish budget`: the celeba config's (the default): the screen, the long
  first-order phase, and a polish that leaves a row once it has spent its budget of counted
  step-equivalents (a row in a wrong basin creeps on; its restart serves it better).
- `nearest of a bank, long phase, polish budget`: the default with each row starting at the draw of a
  bank of the prior whose image is nearest its target (screening.py), instead of the screen's steps.
Per mode: the share of rows below 1e-8 and 1e-4, and for the rows that failed their z error and
pixel MSE (a local minimum draws another image: pixel MSE far above the recovered rows' ~1e-13).
Cost per row is counted (cost.py): the screen, first-order steps, polish and every restart, all
starts included.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from dcgan_inversion import config as config_lib

DRAWS = {"paper_uniform": "U(-1, 1), box [-1, 1]", "prior": "the generator's prior"}
EARLY_SWITCH = {"invert": {"learning_rate": 0.03}, "search": {"stall_min_steps": 0, "restarts": 0, "screen_starts": 1},
                "polish": {"row_budget": 0}}
LONG_FIRST_ORDER_PHASE = {"search": {"stall_min_steps": 500, "screen_starts": 1}, "polish": {"row_budget": 0}}
SCREEN_EARLY_SWITCH = {"search": {"stall_min_steps": 0, "screen_starts": 4, "screen_steps": 25},
                       "polish": {"row_budget": 0}}
NEAREST_OF_A_BANK = {"search": {"screen_starts": 1, "screen_bank": 128}}
DEFAULT = "screened starts, long phase, polish budget"


def methods(config, shipped=None) -> dict:
    """The settings compared, all on `config`'s model and experiments; `shipped`: the config whose
    inversion, search and polish are the default ones (default: celeba)."""
    shipped = shipped or config_lib.load_config("celeba")
    as_shipped = config_lib.replace(config, invert=dataclasses.asdict(shipped.invert),
                                    search=dataclasses.asdict(shipped.search), polish=dataclasses.asdict(shipped.polish))
    return {"early switch": config_lib.replace(as_shipped, **EARLY_SWITCH),
            "long first-order phase": config_lib.replace(as_shipped, **LONG_FIRST_ORDER_PHASE),
            "screened starts, early switch": config_lib.replace(as_shipped, **SCREEN_EARLY_SWITCH),
            DEFAULT: as_shipped,
            "nearest of a bank, long phase, polish budget": config_lib.replace(as_shipped, **NEAREST_OF_A_BANK)}


def method_note(config) -> str:
    """What a compared setting does, in words, from its config (so a changed setting changes its note)."""
    invert, search, polish = config.invert, config.search, config.polish
    parts = [f"Adam {invert.learning_rate:g}"]
    if search.stall_min_steps > search.stall_window:
        parts.append(f"at least {search.stall_min_steps} steps before the stall checks")
    else:
        parts.append(f"the stall switch checked from step {search.stall_window}")
    if search.screen_bank:
        nearest = "its nearest" if search.screen_starts == 1 else f"the best of its {search.screen_starts} nearest"
        parts.append(f"{nearest} of {search.screen_bank} draws of the prior per row (pixel MSE)"
                     + (f" after {search.screen_steps} steps" if search.screen_starts > 1 else ""))
    else:
        parts.append(f"the best of {search.screen_starts} starts after {search.screen_steps} steps"
                     if search.screen_starts > 1 else "no screen")
    if polish.row_budget:
        parts.append(f"a polish budget of {polish.row_budget:g} per row and attempt")
    parts.append(f"up to {search.restarts} restarts of stuck rows" if search.restarts else "no restarts")
    return ", ".join(parts)


def method_notes(shipped=None) -> dict:
    """Each compared setting's note; the default one says it is the celeba config's."""
    shipped = shipped or config_lib.load_config("celeba")
    notes = {name: method_note(method) for name, method in methods(shipped, shipped).items()}
    notes[DEFAULT] = f"the celeba config's (the default): {notes[DEFAULT]}"
    return notes


def recovery_report(generator, config, latents: int, log, shipped=None, only_methods=None, only_draws=None,
                    resize=None) -> dict:
    """Each latent draw, each method (or those named): Table 1's rows recovered and what they cost;
    `resize` (bench/quick.py) maps each method's config to the size it runs at."""
    from dcgan_inversion.gan.latents import UNIFORM, latent_prior
    from dcgan_inversion.paper.experiments import recover_generated_latents

    report = {}
    for draw, draw_note in DRAWS.items():
        if (draw == "prior" and latent_prior(config) == UNIFORM) or (only_draws and draw not in only_draws):
            continue  # the generator's prior is the paper's: one draw
        report[draw] = {}
        for name, method in methods(config_lib.replace(config, experiments={"latents": draw}), shipped).items():
            if only_methods and name not in only_methods:
                continue
            method = resize(method) if resize else method
            began = time.perf_counter()
            result = recover_generated_latents(generator, method, latents)
            entry = _entry(result, method.experiments.modes, latents, time.perf_counter() - began)
            report[draw][name] = entry
            log(f"recovery, {draw_note}, {name}: {entry['counted_step_equivalents']:.0f} counted step-equivalents "
                f"per row, {entry['wall_seconds']:.0f} s; below 1e-8: "
                + ", ".join(f"{mode} {values['below_1e-8']:.0%}" for mode, values in entry["modes"].items()))
    return report


def report_name(run_name: str, latents: int, reports: dict) -> str:
    """Where a run's measurement goes: under the run's name, or beside it for another number of latents."""
    first = reports.get(run_name)
    return run_name if first is None or first["latents_per_mode"] == latents else f"{run_name} ({latents} latents)"


def merged(before: dict | None, measured: dict) -> dict:
    """A measurement of some methods or draws joins the same run's earlier ones (each entry keeps its date)."""
    if before is None:
        return measured
    draws = {draw: dict(by_method) for draw, by_method in before["draws"].items()}
    for draw, by_method in measured["draws"].items():
        draws.setdefault(draw, {}).update(by_method)
    return {**before, **measured, "draws": draws}


def _entry(result, modes, latents: int, wall: float) -> dict:
    rows = len(result.z)
    entry = {"latents_per_mode": latents, "date": time.strftime("%Y-%m-%d"),
             "counted_step_equivalents": round(result.counted_step_equivalents, 1),
             "screen_step_equivalents_per_row": round(result.screen_row_steps / rows, 1),
             "first_order_steps_per_row": round(result.first_order_equivalents, 1),
             "polish_step_equivalents_per_row": round(result.polish_row_steps / rows, 1),
             "restart_step_equivalents_per_row": round(result.restart_row_steps / rows, 1),
             "restarted_rows": int(np.count_nonzero(result.restarts)),
             "median_switch_step": float(np.median(result.switch_step)), "wall_seconds": round(wall, 1), "modes": {}}
    for index, mode in enumerate(modes):
        rows_of_mode = slice(index * latents, (index + 1) * latents)
        z_error, pixel = result.z_error[rows_of_mode], result.pixel_error[rows_of_mode]
        failed = z_error >= 1e-8
        entry["modes"][mode] = {"below_1e-8": float(np.mean(~failed)), "below_1e-4": float(np.mean(z_error < 1e-4)),
                                "failed": [{"z_error": float(f"{z:.3g}"), "pixel_mse": float(f"{p:.3g}")}
                                           for z, p in zip(z_error[failed], pixel[failed])]}
    return entry


def markdown(report: dict) -> list[str]:
    where = f"the run `{report['run']}`" if report["run"] != "untrained" else "an untrained generator"
    lines = [f"Recovery of generated latents on {where} ({report['generator']}), "
             f"{report['latents_per_mode']} latents per mode, seed 0, Table 1's problem: share of rows below 1e-8 per "
             "clip mode (none / standard / stochastic) and counted step-equivalents per row (the start screen, "
             "first-order steps, the polish and every restart, cost.py). "
             + "; ".join(f"`{name}`: {note}" for name, note in method_notes().items()) + ".", "",
             "| latents | method | below 1e-8 | below 1e-4 | counted per row | screen | first-order | polish | restarts | "
             "restarted rows | wall s | measured |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for draw, by_method in report["draws"].items():
        for name, entry in by_method.items():
            shares = [" / ".join(f"{values[key]:.0%}" for values in entry["modes"].values())
                      for key in ("below_1e-8", "below_1e-4")]
            lines.append(f"| {DRAWS[draw]} | {name} | {shares[0]} | {shares[1]} | {entry['counted_step_equivalents']:.0f} | "
                         f"{entry.get('screen_step_equivalents_per_row', 0):.0f} | "
                         f"{entry['first_order_steps_per_row']:.0f} | {entry['polish_step_equivalents_per_row']:.0f} | "
                         f"{entry['restart_step_equivalents_per_row']:.0f} | {entry['restarted_rows']} | "
                         f"{entry['wall_seconds']:.0f} | {entry.get('date', report['date'])} |")
    return lines


def measure_untrained_64px(latents: int, log, only_methods=None, resize=None) -> dict:
    """The report for a freshly initialised 64 px generator of Amos's architecture (the celeba model)."""
    from dcgan_inversion.bench.polish import _untrained

    config = config_lib.load_config("celeba")
    return {"run": "untrained", "generator": "64 px, amos architecture, freshly initialised (seed 0)",
            "latents_per_mode": latents,
            "draws": recovery_report(_untrained(config), config, latents, log, only_methods=only_methods,
                                     resize=resize)}


def measure_run(run_dir, latents: int, log, only_methods=None, only_draws=None, resize=None) -> dict:
    """The report for the run in `run_dir` (trained or imported)."""
    from dcgan_inversion.run import load_generator, trained_config

    config = trained_config(run_dir)
    return {"run": str(run_dir), "generator": _describe(run_dir, config), "latents_per_mode": latents,
            "draws": recovery_report(load_generator(run_dir), config, latents, log, only_methods=only_methods,
                                     only_draws=only_draws, resize=resize)}


def _describe(run_dir, config) -> str:
    import json
    from pathlib import Path

    imported = Path(run_dir) / "imported.json"
    source = json.loads(imported.read_text(encoding="utf-8")).get("source") if imported.exists() else None
    what = f"{config.model.image_size} px, {config.model.architecture} architecture"
    return f"{what}, imported from {Path(source).name}" if source else f"{what}, trained here"
