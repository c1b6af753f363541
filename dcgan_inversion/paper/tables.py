"""The paper's tables (1 and 2) and ours beside them, as Markdown and CSV.

table1            ours (final and at the switch) beside the paper, with the cost per row.
protocol_table1   a protocol's sticky and final rates beside the paper.
protocols_table1  every protocol run so far beside our default and the paper.
table2            mean pairwise distance of recoveries of one unseen image, and the random baseline.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from dcgan_inversion.config.moved import moved
from dcgan_inversion.gan.latents import symmetric_prior
from dcgan_inversion.infra.io_utils import atomic_write_text
from dcgan_inversion.run import RunPaths
from dcgan_inversion.paper.labels import (PAPER_TABLE1, PAPER_TABLE2, first_order_text, model_text, optimizer_text,
                                          phase_text, counted_cost, protocol_label)
from dcgan_inversion.records import load_results


COST_HEADER = "cost per row (counted / timed step-eq.)"


def _cost_cell(record: dict) -> str:
    """'counted / timed' step-equivalents per row, for a table's cost column."""
    return f"{counted_cost(record):.0f} / {record['step_equivalents']:.0f}"


def write_table(paths: RunPaths, stem: str, header: list, rows: list, notes: list[str]) -> list[Path]:
    def line(cells):  # a "|" inside a cell (as in ||z||) must be escaped in a Markdown table
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    markdown = [line(header), "|" + "---|" * len(header)] + [line(row) for row in rows]
    atomic_write_text(paths.figures / f"{stem}.md", "\n".join(markdown) + "\n\n" + "\n".join(notes) + "\n")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    atomic_write_text(paths.figures / f"{stem}.csv", buffer.getvalue())
    return [paths.figures / f"{stem}.md", paths.figures / f"{stem}.csv"]


def write_table1(paths: RunPaths) -> list[Path]:
    """One row per mode and source: ours (final), ours before the polish, the paper."""
    if paths.protocol:
        return protocol_table1(paths)
    record = load_results(paths, "table1")
    thresholds = [str(t) for t in record["table_thresholds"]]
    header = ["clipping", "source"] + [f"< {float(t):g}" for t in thresholds] + ["< 1e-8", "< 1e-10", "median z error",
                                                                                 COST_HEADER]
    polished = bool(record["polish_iterations"])
    ours = f"ours ({first_order_text(record)} + {record['polish_iterations']} LM)" if polished \
        else f"ours ({record['steps']} steps)"
    rows = []
    for mode, values in record["modes"].items():
        rows.append([mode, ours] + _rates(values["final"], thresholds) + [f"{values['median_z_error']:.1e}",
                                                                          _cost_cell(record)])
        if polished:
            rows.append([mode, f"ours at the switch, before the polish ({first_order_text(record)})"]
                        + _rates(values["before_polish"], thresholds) + ["", f"{record['first_order_step_equivalents']:.0f}"])
        paper = PAPER_TABLE1.get(mode, {})
        rows.append([mode, "paper (100k steps)"] + [f"{paper.get(t, float('nan')):.3f}" for t in thresholds]
                    + ["", "", "", "100000"])
    config = record["config"]
    notes = [f"Share of latents with ||z - z'||² / 100 below each threshold at the end (final state; "
             f"`sticky` rates are in table1.json). Ours: {record['latents_per_mode']} latents per mode, "
             f"{phase_text(record)}, {optimizer_text(config)}, generator {model_text(config)}, seed {record['seed']}, "
             f"{record['wall_seconds']:.0f} s on {record['environment']['device']}. Paper: 1000 latents, 100k updates, "
             "Amos's 64 px CelebA DCGAN. Cost: counted = FLOPs from the layer shapes over a first-order step's "
             "(machine-neutral; see docs/reproducibility.md), timed = the polish's seconds over a first-order step's on this machine."]
    return write_table(paths, "table1", header, rows, notes)


STICKY = "ever below (sticky, as the paper counted)"


FINAL = "at the end (final state)"


def protocol_table1(paths: RunPaths) -> list[Path]:
    """A protocol's Table 1: the sticky rate (the authors' metric) and the final state, beside the paper."""
    record = load_results(paths, "table1")
    thresholds = [str(t) for t in record["table_thresholds"]]
    header = ["clipping", "source"] + [f"< {float(t):g}" for t in thresholds] + ["< 1e-8", "< 1e-10", "median z error",
                                                                                 COST_HEADER]
    rows = []
    for mode, values in record["modes"].items():
        rows.append([mode, f"{paths.protocol}, {STICKY}"] + _rates(values["sticky"], thresholds) + ["", ""])
        rows.append([mode, f"{paths.protocol}, {FINAL}"] + _rates(values["final"], thresholds)
                    + [f"{values['median_z_error']:.1e}", _cost_cell(record)])
        paper = PAPER_TABLE1.get(mode, {})
        rows.append([mode, "paper (100k steps)"] + [f"{paper.get(t, float('nan')):.3f}" for t in thresholds]
                    + ["", "", "", "100000"])
    notes = [f"{protocol_label(paths.protocol, record)}; {record['latents_per_mode']} latents per mode, generator "
             f"{model_text(record['config'])}, seed {record['seed']}, {record['wall_seconds']:.0f} s on "
             f"{record['environment']['device']}. Sticky: a row counts once its ||z - z'||² / 100 was below the "
             "level at any step (the authors' accuracy matrix); final: below it at the last step."]
    return write_table(paths, "table1", header, rows, notes)


def protocols_table1(paths: RunPaths) -> list[Path]:
    """Table 1 of every protocol run on this run, beside our default method and the paper."""
    default = load_results(paths, "table1")
    thresholds = [str(t) for t in default["table_thresholds"]]
    header = ["clipping", "source"] + [f"< {float(t):g}" for t in thresholds] + ["< 1e-8", COST_HEADER]
    protocols = {name: load_results(paths.for_protocol(name), "table1") for name in protocols_with_results(paths)}
    rows = []
    for mode in default["modes"]:
        paper = PAPER_TABLE1.get(mode, {})
        rows.append([mode, "paper (authors' GD, 100k steps, sticky)"]
                    + [f"{paper.get(t, float('nan')):.3f}" for t in thresholds] + ["", "100000"])
        for name, record in protocols.items():
            for label, key in (("sticky", "sticky"), ("final", "final")):
                rows.append([mode, f"{protocol_label(name, record)}, {label}"]
                            + _rates(record["modes"][mode][key], thresholds)[:-1] + [_cost_cell(record)])
        rows.append([mode, f"our default ({phase_text(default)}), final"]
                    + _rates(default["modes"][mode]["final"], thresholds)[:-1] + [_cost_cell(default)])
    notes = [f"Share of latents with ||z - z'||² / 100 below each level; {default['latents_per_mode']} latents per "
             f"mode, generator {model_text(default['config'])}. Sticky: below at any step (the authors' metric); "
             "final: below at the end."]
    return write_table(paths, "table1_protocols", header, rows, notes)


def protocols_with_results(paths: RunPaths) -> list[str]:
    from dcgan_inversion.paper.protocols import available_protocols

    return [name for name in available_protocols() if (paths.for_protocol(name).results / "table1.json").exists()]


def _rates(rates: dict, thresholds: list) -> list:
    """Table thresholds, then 1e-8 and 1e-10 where tracked (blank where not)."""
    extra = [f"{rates[t]:.3f}" if t in rates else "" for t in ("1e-08", "1e-10")]
    return [f"{rates[t]:.3f}" for t in thresholds] + extra


def write_table2(paths: RunPaths) -> list[Path]:
    record = load_results(paths, "uniqueness")
    header = ["clipping", "ours E(||z'_i - z'_j|| / 100)", "paper", "ours pixel MSE"]
    rows = [[mode, f"{values['mean_pairwise_distance']:.2e}", f"{PAPER_TABLE2.get(mode, float('nan')):.2e}",
             f"{values['mean_pixel_error']:.2e}"] for mode, values in record["modes"].items()]
    rows.append(["random baseline", f"{record['random_baseline']:.4f}", f"{PAPER_TABLE2['baseline']:.4f}", ""])
    config = record["config"]
    notes = [f"Mean pairwise distance between recoveries of the same unseen real image from "
             f"{record['restarts']} random starts per mode; images: {', '.join(record['images'])}. "
             f"Ours: {phase_text(record)}, {optimizer_text(config)}, generator {model_text(config)}. "
             f"Paper: one unseen image, 1000 recoveries. The baseline is the same distance for independent "
             f"{_baseline_vectors(config)}."]
    return write_table(paths, "table2", header, rows, notes)


def _baseline_vectors(config: dict) -> str:
    """What the random baseline draws: the experiments' prior (experiment_prior: the run's own, or the
    paper's U(-1, 1)^100 with experiments.latents: paper_uniform, expected 0.0816)."""
    model = config["model"]
    if config.get("experiments", {}).get("latents", "prior") == "paper_uniform":
        return f"U(-1, 1)^{model['z_dim']} vectors" + (" (expected 0.0816)" if model["z_dim"] == 100 else "")
    model = moved(config, "a results record", announce=False)["model"]  # a record of any age
    prior = symmetric_prior(model.get("latent", "uniform"), model.get("latent_box"))
    if prior.kind == "normal":
        return f"N(0, 1)^{model['z_dim']} vectors kept in [{prior.low:g}, {prior.high:g}]"
    expected = " (expected 0.0816)" if (prior.box, model["z_dim"]) == ((-1.0, 1.0), 100) else ""
    return f"U({prior.low:g}, {prior.high:g})^{model['z_dim']} vectors{expected}"


def curvature_table(paths: RunPaths, record: dict) -> list[Path]:
    header = ["clipping", "measured decay / step", "2 η λ_min", "measured / predicted", "steps per e-fold (predicted)",
              "rank corr. λ_min vs final error", "< 1e-4 now", "< 1e-4 at 2x steps*", "< 1e-4 at 5x steps*"]
    rows = []
    for mode, values in record["modes"].items():
        def number(key, form):
            return format(values[key], form) if key in values else "n/a"
        rows.append([mode, number("measured_rate_median", ".2e"), number("predicted_rate_median", ".2e"),
                     number("measured_over_predicted_median", ".2f"), number("steps_per_e_fold_median", ",.0f"),
                     number("rank_correlation_lambda_min_final_error", "+.2f"), number("below_target_now", ".3f"),
                     number("below_target_after_2x_steps", ".3f"), number("below_target_after_5x_steps", ".3f")])
    spectrum, rate = record["spectrum"], record["learning_rate_in_window"]
    notes = [f"Medians over {record['latents']} latents per mode. λ: eigenvalues of the per-image loss's Gauss-Newton "
             f"Hessian (2/P) JᵀJ at the true z (λ_min {spectrum['lambda_min']['min']:.1e} - "
             f"{spectrum['lambda_min']['max']:.1e}, median {spectrum['lambda_min']['median']:.1e}; λ_max median "
             f"{spectrum['lambda_max']['median']:.1e}); gradient descent is stable up to a rate of "
             f"{spectrum['largest_stable_rate']:.2f} on every latent"
             + (f", the protocol used {rate:g} in the window" if rate is not None else "") + ". Decay rates: -d ln(z error)"
             f" / d step over steps {record['window'][0]:.0f}-{record['window'][1]:.0f}. *Extrapolated: each row "
             "continued at its measured rate."]
    return write_table(paths, "curvature", header, rows, notes)
