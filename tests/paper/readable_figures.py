"""What every figure must honour for a reader: no symlog stretch, nothing zero or negative on a log
axis (such values go on the axis' edge as marked points), and no legend over the data."""
import numpy as np
from matplotlib.figure import Figure


def capture_figures(monkeypatch) -> list:
    """Every matplotlib figure saved from now on, kept for inspection."""
    saved, savefig = [], Figure.savefig

    def keeping(figure, *args, **kwargs):
        if not any(figure is seen for seen in saved):
            saved.append(figure)
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keeping)
    return saved


def _points(axis) -> np.ndarray:
    points = [np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
              for line in axis.lines if line.get_transform() == axis.transData]
    points += [np.asarray(collection.get_offsets(), float).reshape(-1, 2) for collection in axis.collections]
    return np.concatenate(points) if points else np.zeros((0, 2))


def unreadable(figure) -> list[str]:
    """What in `figure` breaks the rules above, one line each (empty: readable)."""
    problems = []
    for index, axis in enumerate(figure.axes):
        name = f"axis {index} ({axis.get_title() or axis.get_ylabel()})"
        points = _points(axis)
        for column, scale in enumerate((axis.get_xscale(), axis.get_yscale())):
            values = points[:, column]
            if scale == "symlog":
                problems.append(f"{name}: a symlog axis")
            if scale == "log" and (values[np.isfinite(values)] <= 0).any():
                problems.append(f"{name}: a value <= 0 on a log axis")
        if axis.get_legend() is not None:
            problems.append(f"{name}: a legend inside the axes")
    return problems
