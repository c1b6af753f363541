"""What every figure must honour for a reader: no symlog stretch, nothing zero or negative on a log
axis (such values go on the axis' edge as marked points), and no legend over the data."""
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.path import Path


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
    for collection in axis.collections:
        if isinstance(collection, PolyCollection):  # a filled band: its polygons' corners (its offset is a dummy 0, 0)
            points += [_corners(path) for path in collection.get_paths()]
        else:  # scatter: its markers' positions
            points.append(np.asarray(collection.get_offsets(), float).reshape(-1, 2))
    return np.concatenate(points) if points else np.zeros((0, 2))


def _corners(path: Path) -> np.ndarray:
    """A polygon's vertices without the closing code's placeholder vertex."""
    return path.vertices if path.codes is None else path.vertices[path.codes != Path.CLOSEPOLY]


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
