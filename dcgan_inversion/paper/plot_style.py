"""How every figure draws the clip modes and the values a log axis cannot show.

Modes often agree (every mode recovers every latent), so their lines lie on top of each other: each
mode gets its own colour, marker size and dash, largest and solid first, so a line drawn over
another leaves it visible. A log axis cannot show zero, and a value clamped to a floor or a cap is
not a measurement: both are drawn as open markers on the axis' edge and named in the legend.
"""
from __future__ import annotations

import numpy as np

MODE_STYLE = {"none": {"color": "tab:gray", "marker": "o", "markersize": 8, "linestyle": "-", "linewidth": 2.4},
              "standard": {"color": "tab:blue", "marker": "s", "markersize": 5.5, "linestyle": "--", "linewidth": 1.6},
              "stochastic": {"color": "tab:red", "marker": "^", "markersize": 4, "linestyle": ":", "linewidth": 1.4}}
OTHER_STYLE = {"color": "black", "marker": "x", "markersize": 5, "linestyle": "-", "linewidth": 1.0}


def mode_style(mode: str) -> dict:
    """matplotlib line keywords of a clip mode (one for any other series)."""
    return dict(MODE_STYLE.get(mode, OTHER_STYLE))


def plot_mode(axis, x, y, mode: str, label: str | None = None, **overrides):
    """One clip mode's line, in its style."""
    return axis.plot(x, y, label=mode if label is None else label, **{**mode_style(mode), **overrides})


def plot_positive(axis, x, y, edge_label: str, **style) -> None:
    """A series on a log y axis: positive values as a line, zeros and negatives as open markers on the
    axis' lower edge (labelled `edge_label`) instead of vanishing or being drawn at a made-up floor."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    positive = y > 0
    axis.plot(np.where(positive, x, np.nan), np.where(positive, y, np.nan), **style)
    if not positive.all():
        floor = y[positive].min() / 10.0 if positive.any() else 1e-12
        axis.plot(x[~positive], np.full((~positive).sum(), floor), linestyle="none", marker="v", markersize=7,
                  markerfacecolor="none", color=style.get("color", "black"), label=edge_label, clip_on=False)


def mark_cap(axis, value: float, label: str) -> None:
    """A horizontal line at a value the measurement is clamped to, named in the legend."""
    axis.axhline(value, color="black", linewidth=0.8, linestyle=(0, (1, 2)), label=label)


def legend_below(figure, axes, columns: int | None = None) -> None:
    """One legend for the figure, under its panels, so it covers no data; each label once."""
    handles, labels = {}, []
    for axis in np.ravel(axes):
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if labels:
        figure.legend([handles[label] for label in labels], labels, loc="outside lower center",
                      ncols=columns or min(len(labels), 4), fontsize=7, frameon=False)
