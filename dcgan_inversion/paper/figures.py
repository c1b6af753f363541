"""The paper's figures, and ours beside them, drawn from a run's results folder.

figure1      G(z') at initialisation, after 100 steps and at the end, beside the target (Fig. 1).
figure2      z error (and pixel error) vs added noise variance, one line per clip mode (Fig. 2).
convergence  share of latents recovered vs counted step-equivalents, per mode and threshold (not in the paper).
training     D and G losses and the generator's last sample grid (not in the paper).
curvature    final z error vs the loss's smallest curvature, measured vs predicted decay (not in the paper).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.ticker import NullFormatter
from PIL import Image

from dcgan_inversion.data.images import to_uint8
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.plotting import plt, save_figure
from dcgan_inversion.run import RunPaths
from dcgan_inversion.paper.labels import counted_cost, optimizer_text, phase_text, protocol_label
from dcgan_inversion.paper.plot_style import legend_below, mode_style, plot_positive
from dcgan_inversion.records import load_arrays, load_results
from dcgan_inversion.paper.tables import curvature_table


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
    """Per clip mode, the z error and G(z')'s pixel error against the added noise's variance. The
    noise levels sit on a log axis; no noise (variance 0) cannot, so it gets a narrow panel of its
    own on the left (a broken axis), not a point squeezed into a linear stretch."""
    record = load_results(paths, "noise")
    variances = np.asarray(record["variances"], float)
    figure = plt.figure(figsize=(9.5, 4.0), layout="constrained")
    grid = figure.add_gridspec(1, 5, width_ratios=[0.5, 4, 0.35, 0.5, 4])
    metrics = (("mean_z_error", "mean z error  ||z - z'||² / 100"),
               ("mean_pixel_error_vs_clean", "mean pixel MSE of G(z') vs clean G(z)"))
    panels = []
    for column, (key, label) in zip((0, 3), metrics):
        zero, noisy = figure.add_subplot(grid[0, column]), figure.add_subplot(grid[0, column + 1])
        noisy.sharey(zero)
        for mode, values in record["modes"].items():
            measured = np.asarray(values[key], float)
            edge = "0 (drawn on the axis' edge)"
            plot_positive(zero, np.zeros(int((variances == 0).sum())), measured[variances == 0], edge,
                          **mode_style(mode), label=mode)
            plot_positive(noisy, variances[variances > 0], measured[variances > 0], edge, **mode_style(mode),
                          label=mode)
        _broken_axis(zero, noisy)
        zero.set_ylabel(label)
        noisy.set_xscale("log")
        noisy.set_xlabel("noise variance (pixels in [-1, 1])")
        panels += [zero, noisy]
    legend_below(figure, panels)
    method = (f"our method, {counted_cost(record):.0f} counted step-equivalents per row" if record.get("polish_iterations")
              else f"{record['steps']:,} first-order steps")
    figure.suptitle(f"Figure 2: how far the recovered z' is from z when noise is added to G(z)\n"
                    f"{record['latents_per_variance']} latents per noise level and clip mode; {method}", fontsize=10)
    return save_figure(figure, paths.figures / "figure2")


def _broken_axis(zero, rest) -> None:
    """`zero` as the narrow no-noise panel left of `rest`, a shared log y axis between them."""
    zero.set_yscale("log")
    zero.set_xlim(-1, 1)
    zero.set_xticks([0], ["0"])
    zero.set_xlabel("no noise")
    zero.spines["right"].set_visible(False)
    rest.spines["left"].set_visible(False)
    rest.tick_params(axis="y", which="both", left=False, labelleft=False)
    for axis in (zero, rest):
        axis.grid(True, which="both", alpha=0.3)
    marks = {"marker": [(-1, -1.5), (1, 1.5)], "markersize": 8, "linestyle": "none", "color": "black", "mec": "black",
             "mew": 1, "clip_on": False}
    zero.plot([1, 1], [0, 1], transform=zero.transAxes, **marks)
    rest.plot([0, 0], [0, 1], transform=rest.transAxes, **marks)


def _recovery_curves(record: dict, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(steps, z errors per step and row) of a Table 1 run, the polish placed at its counted step cost.

    Rows that switch to the polish early stop costing steps: steps are per row so far.
    """
    steps = arrays["history_equivalents" if "history_equivalents" in arrays else "history_steps"].astype(float)
    history = arrays["history_z_error"]
    if "polish_z_error" in arrays and record["polish_iterations"]:
        if "polish_counted" in arrays:  # each iteration at the rows' mean counted cost so far (broyden_lm's vary)
            polish_steps = steps[-1] + arrays["polish_counted"].mean(axis=1)
        else:  # results written before: every iteration at the same cost
            first_order = record.get("first_order_step_equivalents", record["steps"])
            total = counted_cost(record)
            total = record["step_equivalents"] if np.isnan(total) else total
            per_iteration = (total - first_order) / record["polish_iterations"]
            polish_steps = steps[-1] + per_iteration * np.arange(1, len(arrays["polish_z_error"]) + 1)
        steps, history = np.concatenate([steps, polish_steps]), np.concatenate([history, arrays["polish_z_error"]])
    return steps, history


CONVERGENCE_LEVELS = ((1e-2, ":"), (1e-4, "-"), (1e-8, "--"))
PAPER_LEVEL = 1e-4  # Table 1's level for claim (a)
STEP_AXIS = "counted step-equivalents per row (one first-order step = 1; the polish at its FLOPs)"


def _after_restarts(axis, record: dict, modes: list) -> None:
    """The curves follow each row's first attempt; the final shares, after the stuck rows' restarts,
    are points at the whole counted cost per row, every attempt included."""
    cost = record["counted_step_equivalents"]
    for mode in modes:
        point = {**mode_style(mode), "marker": "o", "linestyle": "none", "markersize": 4}
        for threshold, _ in CONVERGENCE_LEVELS:
            axis.plot([cost], [record["modes"][mode]["final"][str(threshold)]], **point)
    axis.axvline(cost, color="black", lw=0.8, linestyle=":")
    axis.annotate(f"after restarts ({record['restarted_rows']} rows)", (cost, 0.5), xytext=(4, 0),
                  textcoords="offset points", fontsize=8, ha="left", rotation=90, va="center")


def convergence(paths: RunPaths) -> list[Path]:
    """Share of rows below each threshold against counted step-equivalents (log axis, as every
    convergence figure), the polish at its step cost."""
    if paths.protocol:
        return protocol_convergence(paths)
    record, arrays = load_results(paths, "table1"), load_arrays(paths, "table1")
    modes = list(record["modes"])
    first_order_end = arrays["history_equivalents" if "history_equivalents" in arrays else "history_steps"][-1]
    steps, history = _recovery_curves(record, arrays)
    counted = steps > 0  # the start (step 0) has no place on a log axis, and nothing is recovered there
    figure, axis = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    rows = history.shape[1] // len(modes)
    for index, mode in enumerate(modes):
        errors = history[counted, index * rows:(index + 1) * rows]
        for threshold, style in CONVERGENCE_LEVELS:
            line = {**mode_style(mode), "marker": None, "linestyle": style}
            axis.plot(steps[counted], np.mean(errors < threshold, axis=1), label=f"{mode} < {threshold:g}", **line)
    if record["polish_iterations"]:
        axis.axvline(first_order_end, color="black", lw=0.8)
        axis.annotate("LM polish starts", (first_order_end, 0.5), xytext=(-4, 0), textcoords="offset points",
                      fontsize=8, ha="right", rotation=90, va="center")
    if record.get("restarted_rows"):
        _after_restarts(axis, record, modes)
    axis.set_xscale("log")
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel(STEP_AXIS)
    axis.set_ylabel("share of latents below the level")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(True, which="both", alpha=0.3)
    legend_below(figure, [axis], columns=len(CONVERGENCE_LEVELS))
    axis.set_title(f"Recovery vs steps ({record['latents_per_mode']} latents per mode)")
    return save_figure(figure, paths.figures / "convergence")


def protocol_convergence(paths: RunPaths) -> list[Path]:
    """A protocol's recovery against steps (log axis), one column per mode, our default method's
    curve (step-equivalents, polish included) on the same axes when the run has its results. Below
    the shares, the median z error and its quartiles: a run of 100,000 steps may bring no row below
    any level, and its progress shows only there."""
    record, arrays = load_results(paths, "table1"), load_arrays(paths, "table1")
    modes = list(record["modes"])
    curves = {paths.protocol: (arrays["history_steps"].astype(float), arrays["history_z_error"])}
    descriptions = [protocol_label(paths.protocol, record)]
    default = paths.default()
    if (default.results / "table1.json").exists():
        ours = load_results(default, "table1")
        curves["our default"] = _recovery_curves(ours, load_arrays(default, "table1"))
        descriptions.append(f"our default: {optimizer_text(ours['config'])}, {phase_text(ours)}")
    figure, axes = plt.subplots(2, len(modes), figsize=(4.2 * len(modes), 6.4), sharex="col", sharey="row",
                                layout="constrained", squeeze=False)
    drawn = []  # every z error the lower panels show, for their shared range
    for column, mode in enumerate(modes):
        shares, errors_axis = axes[0, column], axes[1, column]
        for (label, (steps, history)), color in zip(curves.items(), ("tab:red", "black")):
            rows = history.shape[1] // len(modes)
            errors = history[:, column * rows:(column + 1) * rows]
            _share_curves(shares, steps, errors, color, label)
            drawn += _error_band(errors_axis, steps, errors, color, label)
        for threshold, style in CONVERGENCE_LEVELS:  # the levels of the panel above, as guides
            errors_axis.axhline(threshold, color="grey", lw=0.6, linestyle=style)
        shares.set_title(f"{mode} clipping")
        for axis in (shares, errors_axis):
            axis.set_xscale("log")
            axis.xaxis.set_minor_formatter(NullFormatter())  # a short run spans < 1 decade: minor labels would collide
            axis.grid(True, which="both", alpha=0.3)
        errors_axis.set_yscale("log")  # z errors are positive: a log axis shows every one
    axes[0, 0].set_ylabel("share of latents below the level")
    axes[0, 0].set_ylim(-0.02, 1.02)
    axes[1, 0].set_ylabel("||z - z'||² / 100")
    drawn = np.concatenate(drawn)
    drawn = drawn[drawn > 0]  # an exact recovery (0) has no place on a log axis
    # the data's range and the paper's 1e-4, not every guide: a far 1e-8 would flatten the curves
    axes[1, 0].set_ylim(min(drawn.min(), PAPER_LEVEL) / 2, drawn.max() * 2)
    axes[1, len(modes) // 2].set_xlabel(STEP_AXIS)  # once, under the middle panel: one per panel overlap
    legend_below(figure, axes[:, :1], columns=len(CONVERGENCE_LEVELS) + 1)  # below the panels: curves rise in every corner
    figure.suptitle(f"Recovery vs steps, {record['latents_per_mode']} latents per mode (state at each step)\n"
                    + "\n".join(descriptions), fontsize=9)
    return save_figure(figure, paths.figures / "convergence")


def _share_curves(axis, steps: np.ndarray, errors: np.ndarray, color: str, label: str) -> None:
    """Per level, the share of rows below it at each step. Each level's markers are staggered along
    its curve (spaced on screen, not by index: the axis is log), so levels whose shares coincide
    (all 0, all 1) stay told apart."""
    for level, ((threshold, style), marker) in enumerate(zip(CONVERGENCE_LEVELS, "os^")):
        axis.plot(steps, np.mean(errors < threshold, axis=1), style, color=color, marker=marker, markersize=3,
                  markevery=(0.03 * level, 0.09), label=f"{label} < {threshold:g}")


def _error_band(axis, steps: np.ndarray, errors: np.ndarray, color: str, label: str) -> list[np.ndarray]:
    """The rows' median z error at each step, their quartiles as a band; returns what it drew."""
    low, median, high = np.percentile(errors, (25, 50, 75), axis=1)
    axis.fill_between(steps, low, high, color=color, alpha=0.15, lw=0)
    axis.plot(steps, median, "-", color=color, lw=1, label=f"{label}: median z error (band: quartiles)")
    return [low, high]


def curvature(paths: RunPaths) -> list[Path]:
    """Per latent: the final z error against lam_min, and the decay rate measured in the run's last
    steps against gradient descent's 2 eta lam_min (the diagonal: the quadratic model's prediction)."""
    record, arrays = load_results(paths, "curvature"), load_arrays(paths, "curvature")
    count, rate = record["latents"], record["learning_rate_in_window"]
    lam_min = arrays["spectra"][:, 0]
    predicted = 2.0 * rate * lam_min if rate is not None else lam_min
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    for index, mode in enumerate(record["modes"]):
        style = mode_style(mode)
        points = {"s": style["markersize"] ** 2, "marker": style["marker"], "facecolors": "none",
                  "edgecolors": style["color"], "label": mode}  # open markers: coinciding modes stay visible
        rows = slice(index * count, (index + 1) * count)
        left.scatter(lam_min, arrays["z_error"][rows], **points)
        decaying = arrays["decay_rates"][rows] > 0
        right.scatter(predicted[decaying], arrays["decay_rates"][rows][decaying], **points)
    if rate is not None:
        span = np.array([predicted.min(), predicted.max()])
        right.plot(span, span, "k--", lw=1, label="measured = predicted")
    left.set_xlabel("λ_min of the loss's Hessian at the true z")
    left.set_ylabel("final ||z - z'||² / 100")
    right.set_xlabel("predicted decay 2 η λ_min per step" if rate is not None else "λ_min")
    right.set_ylabel("measured decay of ln(z error) per step")
    right.set_title(f"decay over steps {record['window'][0]:.0f}-{record['window'][1]:.0f}")
    for axis in (left, right):
        if not _positive_in_both(axis):  # e.g. no row decayed: nothing a log scale can show
            axis.text(0.5, 0.5, "no positive values to show", ha="center", va="center", transform=axis.transAxes)
            continue
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    legend_below(figure, (left, right))
    spectrum = record["spectrum"]
    figure.suptitle(f"{protocol_label(paths.protocol or 'ours', record)}: curvature at {count} true latents "
                    f"(λ_min median {spectrum['lambda_min']['median']:.1e}, condition ~{spectrum['condition_median']:.0e})",
                    fontsize=9)
    return save_figure(figure, paths.figures / "curvature") + curvature_table(paths, record)


def _positive_in_both(axis) -> bool:
    """Whether the axis' points have a positive x and a positive y (a log scale needs both)."""
    points = [np.asarray(c.get_offsets()).reshape(-1, 2) for c in axis.collections]
    points += [np.column_stack(line.get_data()) for line in axis.lines]
    points = np.concatenate(points) if points else np.zeros((0, 2))
    return bool(points.size) and bool((points[:, 0] > 0).any()) and bool((points[:, 1] > 0).any())


def training(paths: RunPaths) -> list[Path]:
    """D and G losses from the TensorBoard logs, beside the last sample grid (an imported run: the
    grid its weights drew, and where they came from)."""
    if paths.imported.exists() and paths.latest_samples.exists():
        return _imported_generator(paths)
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
    legend_below(figure, [left])
    right.imshow(np.asarray(Image.open(paths.latest_samples)).squeeze(), cmap="gray")
    right.set_axis_off()
    right.set_title("fixed-z samples, last step")
    figure.suptitle("Generator used for the inversion")
    return save_figure(figure, paths.figures / "training")


def _imported_generator(paths: RunPaths) -> list[Path]:
    record = json.loads(paths.imported.read_text(encoding="utf-8"))
    figure, axis = plt.subplots(figsize=(4.6, 4.9), layout="constrained")
    axis.imshow(np.asarray(Image.open(paths.latest_samples)).squeeze(), cmap="gray")
    axis.set_axis_off()
    step = f", step {record['step']}" if record.get("step") is not None else ""
    package = record.get("pretrained")
    source = f"{package['package']} {package['version']}, " if package else ""
    axis.set_title(f"Generator used for the inversion: imported\n{source}{Path(record['source']).name}{step} "
                   f"(sha256 {record['sha256'][:12]})", fontsize=8)
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
