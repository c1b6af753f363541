"""The paper's figures and tables, drawn from a run's results folder.

figure1      G(z') at initialisation, after 100 steps and at the end, beside the target (Fig. 1).
figure2      z error (and pixel error) vs added noise variance, one line per clip mode (Fig. 2).
table1/2     Markdown and CSV with the paper's numbers in adjacent columns (Tables 1 and 2).
convergence  share of latents recovered vs step, per mode and threshold (not in the paper).
training     D and G losses and the generator's last sample grid (not in the paper).
curvature    final z error vs the loss's smallest curvature, measured vs predicted decay (not in the paper).
"""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same output on every machine
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from dcgan_inversion.errors import UserError  # noqa: E402
from dcgan_inversion.images import to_uint8  # noqa: E402
from dcgan_inversion.io_utils import atomic_write_bytes, atomic_write_text  # noqa: E402
from dcgan_inversion.rundir import RunPaths, ensure_writable  # noqa: E402

PAPER_TABLE1 = {  # Table 1: share of ||z - z'||^2 / 100 < eps over 1000 trials, 100k updates
    "none": {"0.0001": 0.98, "0.001": 0.986, "0.01": 0.998, "0.1": 1.0},
    "standard": {"0.0001": 0.984, "0.001": 0.99, "0.01": 1.0, "0.1": 1.0},
    "stochastic": {"0.0001": 1.0, "0.001": 1.0, "0.01": 1.0, "0.1": 1.0},
}
PAPER_TABLE2 = {"none": 2.03e-4, "standard": 1.36e-4, "stochastic": 4.94e-5, "baseline": 0.0815}
MODE_STYLE = {"none": ("tab:gray", "o"), "standard": ("tab:blue", "s"), "stochastic": ("tab:red", "^")}
DPI = 120
plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "svg.hashsalt": "dcgan-inversion",
                     "pdf.fonttype": 42})


def load_results(paths: RunPaths, name: str) -> dict:
    """A results JSON, or one line saying which command makes it."""
    path = paths.results / f"{name}.json"
    if not path.exists():
        option = f" --protocol {paths.protocol}" if paths.protocol else ""
        raise UserError(f"{path} is missing: run `make invert` (or dcgan-invert --run {paths.root}{option} "
                        f"--experiment {name}) first")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("experiment") != name:
            raise ValueError("wrong experiment")
        return record
    except (ValueError, OSError):
        raise UserError(f"{path} is not a valid {name} results file: re-run `make invert`") from None


def load_arrays(paths: RunPaths, name: str) -> dict:
    path = paths.results / f"{name}.npz"
    try:
        with np.load(path) as arrays:
            return dict(arrays)
    except (OSError, ValueError):
        raise UserError(f"{path} is missing or unreadable: re-run `make invert`") from None


def save_figure(figure, stem: Path) -> list[Path]:
    """PNG and PDF, each written atomically."""
    written = []
    for suffix in (".png", ".pdf"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix[1:], dpi=DPI, bbox_inches="tight", metadata={"CreationDate": None}
                       if suffix == ".pdf" else {"Software": None})
        atomic_write_bytes(stem.with_suffix(suffix), buffer.getvalue())
        written.append(stem.with_suffix(suffix))
    plt.close(figure)
    return written


def figure1(paths: RunPaths) -> list[Path]:
    record, arrays = load_results(paths, "trajectory"), load_arrays(paths, "trajectory")
    snapshots, steps, targets = arrays["snapshots"], arrays["snapshot_steps"], arrays["targets"]
    modes = record["config"]["experiments"]["modes"]
    count = len(targets)
    columns = [f"step {s}" if s > 0 else "initialisation" for s in steps]
    if record["polish_iterations"]:
        columns[-1] = f"+{record['polish_iterations']} LM iterations"
    columns.append("target")
    rows = [(mode, index) for mode in modes for index in range(count)]
    figure, axes = plt.subplots(len(rows), len(columns), figsize=(0.9 * len(columns) + 0.6, 0.9 * len(rows) + 0.5),
                                squeeze=False, layout="constrained")
    for row, (mode, index) in enumerate(rows):
        images = [snapshots[s, modes.index(mode) * count + index] for s in range(len(steps))] + [targets[index]]
        for column, image in enumerate(images):
            axis = axes[row, column]
            axis.imshow(to_uint8(image).squeeze(), cmap="gray", interpolation="nearest")
            axis.set_xticks([]), axis.set_yticks([])
            if row == 0:
                axis.set_title(columns[column], fontsize=8)
        axes[row, 0].set_ylabel(f"{mode} #{index}", fontsize=8)
    figure.suptitle("Figure 1: G(z') during inversion")
    return save_figure(figure, paths.figures / "figure1")


def figure2(paths: RunPaths) -> list[Path]:
    record = load_results(paths, "noise")
    variances = np.asarray(record["variances"])
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for mode, values in record["modes"].items():
        color, marker = MODE_STYLE.get(mode, ("black", "x"))
        left.plot(variances, values["mean_z_error"], marker=marker, color=color, label=mode)
        right.plot(variances, values["mean_pixel_error_vs_clean"], marker=marker, color=color, label=mode)
    for axis, label in ((left, "mean z error  ||z - z'||² / 100"), (right, "mean pixel MSE of G(z') vs clean G(z)")):
        axis.set_xscale("symlog", linthresh=1e-3)
        axis.set_yscale("log")
        axis.set_xlabel("noise variance (pixels in [-1, 1]; 0 = no noise)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(title="clipping")
    figure.suptitle(f"Figure 2: recovery under Gaussian noise ({record['latents_per_variance']} latents per "
                    f"variance, {_phase_text(record)})")
    return save_figure(figure, paths.figures / "figure2")


def _recovery_curves(record: dict, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(steps, z errors per step and row) of a Table 1 run, the polish placed at its counted step cost.

    Rows that switch to the polish early stop costing steps: steps are per row so far.
    """
    steps = arrays["history_equivalents" if "history_equivalents" in arrays else "history_steps"].astype(float)
    history = arrays["history_z_error"]
    if "polish_z_error" in arrays and record["polish_iterations"]:
        first_order = record.get("first_order_step_equivalents", record["steps"])
        total = counted_cost(record)
        total = record["step_equivalents"] if np.isnan(total) else total
        per_iteration = (total - first_order) / record["polish_iterations"]
        polish_steps = steps[-1] + per_iteration * np.arange(1, len(arrays["polish_z_error"]) + 1)
        steps, history = np.concatenate([steps, polish_steps]), np.concatenate([history, arrays["polish_z_error"]])
    return steps, history


def convergence(paths: RunPaths) -> list[Path]:
    """Share of rows below each threshold against first-order steps, the polish at its step cost."""
    if paths.protocol:
        return protocol_convergence(paths)
    record, arrays = load_results(paths, "table1"), load_arrays(paths, "table1")
    modes = list(record["modes"])
    first_order_end = arrays["history_equivalents" if "history_equivalents" in arrays else "history_steps"][-1]
    steps, history = _recovery_curves(record, arrays)
    figure, axis = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    rows = history.shape[1] // len(modes)
    for index, mode in enumerate(modes):
        color, _ = MODE_STYLE.get(mode, ("black", "x"))
        errors = history[:, index * rows:(index + 1) * rows]
        for threshold, style in ((1e-2, ":"), (1e-4, "-"), (1e-8, "--")):
            axis.plot(steps, np.mean(errors < threshold, axis=1), style, color=color, label=f"{mode} < {threshold:g}")
    if record["polish_iterations"]:
        axis.axvline(first_order_end, color="black", lw=0.8)
        axis.annotate("LM polish starts", (first_order_end, 0.05), xytext=(-4, 0), textcoords="offset points",
                      fontsize=8, ha="right")
    axis.set_xlabel("counted step-equivalents per row (first-order steps + the polish's FLOPs)")
    axis.set_ylabel("share of latents recovered")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7, ncol=1, loc="center left")  # the first-order stretch is empty
    axis.set_title(f"Recovery vs steps ({record['latents_per_mode']} latents per mode)")
    return save_figure(figure, paths.figures / "convergence")


CONVERGENCE_LEVELS = ((1e-2, ":"), (1e-4, "-"), (1e-8, "--"))


def protocol_convergence(paths: RunPaths) -> list[Path]:
    """A protocol's recovery against steps (log axis), one panel per mode, our default method's
    curve (step-equivalents, polish included) on the same axes when the run has its results."""
    record, arrays = load_results(paths, "table1"), load_arrays(paths, "table1")
    modes = list(record["modes"])
    curves = {paths.protocol: (arrays["history_steps"].astype(float), arrays["history_z_error"])}
    descriptions = [protocol_label(paths.protocol, record)]
    default = paths.default()
    if (default.results / "table1.json").exists():
        ours = load_results(default, "table1")
        curves["our default"] = _recovery_curves(ours, load_arrays(default, "table1"))
        descriptions.append(f"our default: {_optimizer_text(ours['config'])}, {_phase_text(ours)}")
    figure, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.6), sharey=True, layout="constrained",
                                squeeze=False)
    for axis, (index, mode) in zip(axes[0], enumerate(modes)):
        for (label, (steps, history)), color in zip(curves.items(), ("tab:red", "black")):
            rows = history.shape[1] // len(modes)
            errors = history[:, index * rows:(index + 1) * rows]
            for threshold, style in CONVERGENCE_LEVELS:
                axis.plot(steps, np.mean(errors < threshold, axis=1), style, color=color, label=f"{label} < {threshold:g}")
        axis.set_xscale("log")
        axis.set_xlabel("steps (our default: counted step-equivalents)")
        axis.set_title(f"{mode} clipping")
        axis.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("share of latents below the level")
    axes[0, 0].set_ylim(-0.02, 1.02)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    figure.suptitle(f"Recovery vs steps, {record['latents_per_mode']} latents per mode (state at each step)\n"
                    + "\n".join(descriptions), fontsize=9)
    return save_figure(figure, paths.figures / "convergence")


def curvature(paths: RunPaths) -> list[Path]:
    """Per latent: the final z error against lam_min, and the decay rate measured in the run's last
    steps against gradient descent's 2 eta lam_min (the diagonal: the quadratic model's prediction)."""
    record, arrays = load_results(paths, "curvature"), load_arrays(paths, "curvature")
    count, rate = record["latents"], record["learning_rate_in_window"]
    lam_min = arrays["spectra"][:, 0]
    predicted = 2.0 * rate * lam_min if rate is not None else lam_min
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    for index, mode in enumerate(record["modes"]):
        color, marker = MODE_STYLE.get(mode, ("black", "x"))
        rows = slice(index * count, (index + 1) * count)
        left.scatter(lam_min, arrays["z_error"][rows], s=10, marker=marker, color=color, label=mode)
        decaying = arrays["decay_rates"][rows] > 0
        right.scatter(predicted[decaying], arrays["decay_rates"][rows][decaying], s=10, marker=marker, color=color,
                      label=mode)
    if rate is not None:
        span = np.array([predicted.min(), predicted.max()])
        right.plot(span, span, "k--", lw=1, label="measured = predicted")
    left.set_xlabel("λ_min of the loss's Hessian at the true z")
    left.set_ylabel("final ||z - z'||² / 100")
    right.set_xlabel("predicted decay 2 η λ_min per step" if rate is not None else "λ_min")
    right.set_ylabel("measured decay of ln(z error) per step")
    right.set_title(f"decay over steps {record['window'][0]:.0f}-{record['window'][1]:.0f}")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(title="clipping", fontsize=7)
    spectrum = record["spectrum"]
    figure.suptitle(f"{protocol_label(paths.protocol or 'ours', record)}: curvature at {count} true latents "
                    f"(λ_min median {spectrum['lambda_min']['median']:.1e}, condition ~{spectrum['condition_median']:.0e})",
                    fontsize=9)
    return save_figure(figure, paths.figures / "curvature") + _curvature_table(paths, record)


def _curvature_table(paths: RunPaths, record: dict) -> list[Path]:
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
    return _write_table(paths, "curvature", header, rows, notes)


def protocol_label(protocol: str, record: dict) -> str:
    """'authors: sgd lr 1 (step), batch-statistics BN, 100000 steps' from a protocol's record."""
    invert = record["config"]["invert"]
    norm = "batch-statistics BN" if invert.get("batch_norm") == "batch" else "moving-average BN"
    return f"{protocol}: {_optimizer_text(record['config'])}, {norm}, {record['steps']} steps"


def training(paths: RunPaths) -> list[Path]:
    """D and G losses from the TensorBoard logs, beside the last sample grid."""
    scalars = _read_scalars(paths.logs)
    if not scalars or not paths.latest_samples.exists():
        raise UserError(f"no training logs or samples in {paths.root}: run `make train` first")
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1.4, 1]},
                                         layout="constrained")
    for name in ("d_loss", "g_loss"):
        if name in scalars:
            steps, values = scalars[name]
            left.plot(steps, values, label=name, lw=0.8)
    left.set_xlabel("training step")
    left.set_ylabel("loss")
    left.grid(True, alpha=0.3)
    left.legend()
    right.imshow(np.asarray(Image.open(paths.latest_samples)).squeeze(), cmap="gray")
    right.set_axis_off()
    right.set_title("fixed-z samples, last step")
    figure.suptitle("Generator used for the inversion")
    return save_figure(figure, paths.figures / "training")


def _read_scalars(log_dir: Path) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    series = {}
    for events in sorted(log_dir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"tensors": 0})
        accumulator.Reload()
        for tag in accumulator.Tags().get("tensors", []):
            for event in accumulator.Tensors(tag):
                series.setdefault(tag, {})[event.step] = float(np.asarray(_tensor_value(event.tensor_proto)))
    return {tag: (np.array(sorted(values)), np.array([values[s] for s in sorted(values)])) for tag, values in series.items()}


def _tensor_value(proto):
    from tensorboard.util import tensor_util

    return tensor_util.make_ndarray(proto)


def _first_order_text(record: dict) -> str:
    """'300 steps', or where each row switched to the polish once its loss stalled, its mean."""
    per_row = record.get("first_order_step_equivalents", record["steps"])
    if per_row < record["steps"] - 0.5:
        return f"stall switch at ~{per_row:.0f} steps per row"
    return f"{record['steps']} steps"


def _phase_text(record: dict) -> str:
    text = f"{_first_order_text(record)} (first-order, at most {record['steps']})"
    if record.get("polish_iterations"):
        text += f" + {record['polish_iterations']} LM iterations ({_cost_text(record)})"
    return text


def counted_cost(record: dict) -> float:
    """Counted step-equivalents per row (cost.py); results written before the count existed have none,
    and a first-order-only run costs its steps."""
    if "counted_step_equivalents" in record:
        return record["counted_step_equivalents"]
    return float("nan") if record.get("polish_iterations") else record.get("first_order_step_equivalents", record["steps"])


def _cost_text(record: dict) -> str:
    return f"{counted_cost(record):.0f} counted step-equivalents per row, {record['step_equivalents']:.0f} timed"


def _cost_cell(record: dict) -> str:
    """'counted / timed' step-equivalents per row, for a table's cost column."""
    return f"{counted_cost(record):.0f} / {record['step_equivalents']:.0f}"


COST_HEADER = "cost per row (counted / timed step-eq.)"


def _write_table(paths: RunPaths, stem: str, header: list, rows: list, notes: list[str]) -> list[Path]:
    def line(cells):  # a "|" inside a cell (as in ||z||) must be escaped in a Markdown table
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    markdown = [line(header), "|" + "---|" * len(header)] + [line(row) for row in rows]
    atomic_write_text(paths.figures / f"{stem}.md", "\n".join(markdown) + "\n\n" + "\n".join(notes) + "\n")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    atomic_write_text(paths.figures / f"{stem}.csv", buffer.getvalue())
    return [paths.figures / f"{stem}.md", paths.figures / f"{stem}.csv"]


def table1(paths: RunPaths) -> list[Path]:
    """One row per mode and source: ours (final), ours before the polish, the paper."""
    if paths.protocol:
        return protocol_table1(paths)
    record = load_results(paths, "table1")
    thresholds = [str(t) for t in record["table_thresholds"]]
    header = ["clipping", "source"] + [f"< {float(t):g}" for t in thresholds] + ["< 1e-8", "< 1e-10", "median z error",
                                                                                 COST_HEADER]
    polished = bool(record["polish_iterations"])
    ours = f"ours ({_first_order_text(record)} + {record['polish_iterations']} LM)" if polished \
        else f"ours ({record['steps']} steps)"
    rows = []
    for mode, values in record["modes"].items():
        rows.append([mode, ours] + _rates(values["final"], thresholds) + [f"{values['median_z_error']:.1e}",
                                                                          _cost_cell(record)])
        if polished:
            rows.append([mode, f"ours, first-order only ({_first_order_text(record)})"]
                        + _rates(values["before_polish"], thresholds) + ["", f"{record['first_order_step_equivalents']:.0f}"])
        paper = PAPER_TABLE1.get(mode, {})
        rows.append([mode, "paper (100k steps)"] + [f"{paper.get(t, float('nan')):.3f}" for t in thresholds]
                    + ["", "", "", "100000"])
    config = record["config"]
    notes = [f"Share of latents with ||z - z'||² / 100 below each threshold at the end (final state; "
             f"`sticky` rates are in table1.json). Ours: {record['latents_per_mode']} latents per mode, "
             f"{_phase_text(record)}, {_optimizer_text(config)}, generator {_model_text(config)}, seed {record['seed']}, "
             f"{record['wall_seconds']:.0f} s on {record['environment']['device']}. Paper: 1000 latents, 100k updates, "
             "Amos's 64 px CelebA DCGAN. Cost: counted = FLOPs from the layer shapes over a first-order step's "
             "(machine-neutral; see the README), timed = the polish's seconds over a first-order step's on this machine."]
    return _write_table(paths, "table1", header, rows, notes)


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
             f"{_model_text(record['config'])}, seed {record['seed']}, {record['wall_seconds']:.0f} s on "
             f"{record['environment']['device']}. Sticky: a row counts once its ||z - z'||² / 100 was below the "
             "level at any step (the authors' accuracy matrix); final: below it at the last step."]
    return _write_table(paths, "table1", header, rows, notes)


def protocols_table1(paths: RunPaths) -> list[Path]:
    """Table 1 of every protocol run on this run, beside our default method and the paper."""
    default = load_results(paths, "table1")
    thresholds = [str(t) for t in default["table_thresholds"]]
    header = ["clipping", "source"] + [f"< {float(t):g}" for t in thresholds] + ["< 1e-8", COST_HEADER]
    protocols = {name: load_results(RunPaths(paths.root, name), "table1") for name in _protocols_with_results(paths)}
    rows = []
    for mode in default["modes"]:
        paper = PAPER_TABLE1.get(mode, {})
        rows.append([mode, "paper (authors' GD, 100k steps, sticky)"]
                    + [f"{paper.get(t, float('nan')):.3f}" for t in thresholds] + ["", "100000"])
        for name, record in protocols.items():
            for label, key in (("sticky", "sticky"), ("final", "final")):
                rows.append([mode, f"{protocol_label(name, record)}, {label}"]
                            + _rates(record["modes"][mode][key], thresholds)[:-1] + [_cost_cell(record)])
        rows.append([mode, f"our default ({_phase_text(default)}), final"]
                    + _rates(default["modes"][mode]["final"], thresholds)[:-1] + [_cost_cell(default)])
    notes = [f"Share of latents with ||z - z'||² / 100 below each level; {default['latents_per_mode']} latents per "
             f"mode, generator {_model_text(default['config'])}. Sticky: below at any step (the authors' metric); "
             "final: below at the end."]
    return _write_table(paths, "table1_protocols", header, rows, notes)


def _protocols_with_results(paths: RunPaths) -> list[str]:
    from dcgan_inversion.protocols import available_protocols

    return [name for name in available_protocols() if (RunPaths(paths.root, name).results / "table1.json").exists()]


def _rates(rates: dict, thresholds: list) -> list:
    """Table thresholds, then 1e-8 and 1e-10 where tracked (blank where not)."""
    extra = [f"{rates[t]:.3f}" if t in rates else "" for t in ("1e-08", "1e-10")]
    return [f"{rates[t]:.3f}" for t in thresholds] + extra


def table2(paths: RunPaths) -> list[Path]:
    record = load_results(paths, "uniqueness")
    header = ["clipping", "ours E(||z'_i - z'_j|| / 100)", "paper", "ours pixel MSE"]
    rows = [[mode, f"{values['mean_pairwise_distance']:.2e}", f"{PAPER_TABLE2.get(mode, float('nan')):.2e}",
             f"{values['mean_pixel_error']:.2e}"] for mode, values in record["modes"].items()]
    rows.append(["random baseline", f"{record['random_baseline']:.4f}", f"{PAPER_TABLE2['baseline']:.4f}", ""])
    config = record["config"]
    notes = [f"Mean pairwise distance between recoveries of the same unseen real image from "
             f"{record['restarts']} random starts per mode; images: {', '.join(record['images'])}. "
             f"Ours: {_phase_text(record)}, {_optimizer_text(config)}, generator {_model_text(config)}. "
             "Paper: one unseen image, 1000 recoveries. The baseline is the same distance for independent "
             "U(-1, 1)^100 vectors (expected 0.0816)."]
    return _write_table(paths, "table2", header, rows, notes)


def _optimizer_text(config: dict) -> str:
    invert = config["invert"]
    return f"{invert['optimizer']} lr {invert['learning_rate']:g} ({invert['schedule']})"


def _model_text(config: dict) -> str:
    model = config["model"]
    return f"{model['image_size']} px gf {model['gf_dim']} ({config['data']['source']})"


FIGURES = {"figure1": figure1, "figure2": figure2, "table1": table1, "table2": table2,
           "convergence": convergence, "training": training, "protocols": protocols_table1, "curvature": curvature}
RESULTS = {"figure1": "trajectory", "figure2": "noise", "table1": "table1", "table2": "uniqueness",
           "convergence": "table1", "protocols": "table1", "curvature": "curvature"}


def make_figures(run_dir, names=None, protocol: str | None = None) -> list[Path]:
    """Renders the figures and tables named (default: all of them); a missing result is a `UserError`.

    A protocol's results come one experiment at a time (hours each on a CPU), so by default its
    figures are those whose results exist; the others are named on stderr.
    """
    paths = RunPaths(run_dir, protocol)
    if not paths.results.is_dir():
        option = f" --protocol {protocol}" if protocol else ""
        raise UserError(f"no results in {paths.results}: run `make invert{option.replace(' --protocol ', ' PROTOCOL=')}` "
                        f"(dcgan-invert --run {paths.root}{option}) first")
    ensure_writable(paths.figures)
    written = []
    for name in names or _default_figures(paths):
        written += FIGURES[name](paths)
    return written


def _default_figures(paths: RunPaths) -> list[str]:
    if not paths.protocol:  # protocols and curvature only once there is something to draw
        return [name for name in FIGURES if (name != "protocols" or _protocols_with_results(paths))
                and (name != "curvature" or (paths.results / "curvature.json").exists())]
    names = [name for name in FIGURES if name not in ("training", "protocols")]
    missing = [name for name in names if not (paths.results / f"{RESULTS[name]}.json").exists()]
    for name in missing:
        print(f"skipped {name}: {paths.results / (RESULTS[name] + '.json')} is not there yet", file=sys.stderr)
    return [name for name in names if name not in missing]
