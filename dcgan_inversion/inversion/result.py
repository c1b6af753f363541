"""What an inversion produced, per row, and how results of consecutive batches are joined."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


def latent_error(z: np.ndarray, z_true: np.ndarray) -> np.ndarray:
    """||z - z'||_2^2 / z_dim per row: the success metric of Table 1."""
    return np.sum(np.square(np.asarray(z, np.float64) - z_true), axis=-1) / z.shape[-1]


def _part(join: str, replaced: bool = False, **default):
    """A field and how the results of consecutive batches join it (`concatenate`): `rows` stacked,
    `sum`, `max`, `same` (every batch's is equal: the first), `padded` ((calls, rows) histories, each
    batch's continued with its last value to the longest, then side by side; None if a batch has
    none), `longest` (the longest batch's), `weighted` (the history of row_steps / rows, weighted by
    rows), `snapshots` (the steps every batch kept, stacked). `replaced`: a restart's better attempt
    replaces the row's value (restarts.py)."""
    return field(metadata={"join": join, "replaced": replaced}, **default)


@dataclass(frozen=True)
class InversionResult:
    """What one inversion produced, per row; numpy arrays so experiments can save them. Frozen: each stage
    returns a new one (dataclasses.replace). Each field says how batches join it, so a new field is one line."""

    z: np.ndarray = _part("rows", True)                    # recovered z', (rows, z_dim)
    pixel_error: np.ndarray = _part("rows", True)          # mean squared pixel error of G(z') vs the target, (rows,)
    z_error: np.ndarray | None = _part("rows", True)       # ||z - z'||^2 / z_dim, when the true z is known
    first_step: np.ndarray | None = _part("rows")          # first step each threshold was crossed, -1 if never, (rows, T)
    thresholds: tuple = _part("same")
    steps: int = _part("max")
    seconds: float = _part("sum")
    first_order_seconds: float = _part("sum", default=0.0)
    seconds_per_step: float = _part("sum", default=0.0)    # first-order cost, measured after the first (tracing) call
    row_steps: int = _part("sum", default=0)               # first-order steps summed over rows (rows may switch early)
    switch_step: np.ndarray | None = _part("rows", True, default=None)  # step at which each row left the first order
    history_steps: np.ndarray = _part("longest", default_factory=lambda: np.zeros(0, np.int64))
    history_equivalents: np.ndarray = _part("weighted", default_factory=lambda: np.zeros(0))  # row_steps / rows so far
    history_z_error: np.ndarray | None = _part("padded", default=None)  # (calls, rows) during the first-order phase
    snapshots: dict = _part("snapshots", default_factory=dict)  # step -> G(z') of `snapshot_rows`
    # Polish phase (polishing.py), when it ran:
    polish_iterations: int = _part("max", default=0)
    polish_row_iterations: int = _part("sum", default=0)   # polish iterations summed over the rows that took them
    polish_row_steps: float = _part("sum", default=0.0)    # the polish's counted step-equivalents (cost.py), summed
    polish_counted: np.ndarray | None = _part("padded", default=None)  # (iterations, rows): each row's counted cost
    polish_seconds: float = _part("sum", default=0.0)
    polish_z_error: np.ndarray | None = _part("padded", default=None)  # (iterations, rows)
    z_before_polish: np.ndarray | None = _part("rows", True, default=None)
    z_error_before_polish: np.ndarray | None = _part("rows", True, default=None)
    # The start screen (screening.py), when it ran:
    screen_row_steps: float = _part("sum", default=0.0)    # every candidate's first-order steps and the bank's cost
    screen_seconds: float = _part("sum", default=0.0)
    # Restarts of stuck rows (restarts.py), when they ran:
    restarts: np.ndarray | None = _part("rows", default=None)  # (rows,): how many times each row started again
    restart_row_steps: float = _part("sum", default=0.0)   # the restarts' counted step-equivalents, summed over rows
    restart_seconds: float = _part("sum", default=0.0)

    @property
    def first_order_equivalents(self) -> float:
        """First-order steps per row on average: rows that switch to the polish early cost fewer."""
        return self.row_steps / len(self.z) if self.row_steps else float(self.steps)

    @property
    def step_equivalents(self) -> float:
        """First-order steps (the screen's too) plus the polish's time counted in first-order steps of this batch."""
        if not self.steps:
            return float(self.polish_iterations)
        return (self.first_order_equivalents + self.screen_row_steps / len(self.z)
                + (self.polish_seconds + self.restart_seconds) / self.seconds_per_step)

    @property
    def counted_step_equivalents(self) -> float:
        """The machine-neutral cost per row: the start screen's and first-order steps plus the polish's FLOPs in
        steps (cost.py), plus every restart's (all phases)."""
        return self.first_order_equivalents + (self.screen_row_steps + self.polish_row_steps
                                               + self.restart_row_steps) / len(self.z)

    @property
    def polish_iteration_steps(self) -> float:
        """One row's polish iteration, counted, on average (every iteration costs the same in LM)."""
        return self.polish_row_steps / self.polish_row_iterations if self.polish_row_iterations else 0.0

    def to_arrays(self) -> dict:
        """Every field as a numpy array (None left out, a snapshot as `snapshot<step>`), for an NPZ file."""
        arrays = {f"snapshot{step}": images for step, images in self.snapshots.items()}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and item.name != "snapshots":
                arrays[item.name] = np.asarray(value)
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> "InversionResult":
        """The result `to_arrays` wrote, from a mapping of arrays (an open NPZ file)."""
        names = list(arrays.files) if hasattr(arrays, "files") else list(arrays)
        values = {item.name: arrays[item.name] for item in fields(cls) if item.name in names}
        values = {name: value if value.ndim else value.item() for name, value in values.items()}
        values["thresholds"] = tuple(values["thresholds"].tolist())
        values["snapshots"] = {int(name[len("snapshot"):]): arrays[name] for name in names
                               if name.startswith("snapshot") and name[len("snapshot"):].isdigit()}
        return cls(**values)

    def below(self, threshold: float) -> np.ndarray:
        """Rows whose final z error is below `threshold`."""
        return self.z_error < threshold

    def ever_below(self, threshold: float) -> np.ndarray:
        """Rows that crossed `threshold` at some step ("sticky", as the authors counted)."""
        return self.first_step[:, self.thresholds.index(threshold)] >= 0


def concatenate(parts: list[InversionResult]) -> InversionResult:
    """One result from batches run one after the other, each field joined as it says (`_part`)."""
    return InversionResult(**{item.name: _JOINS[item.metadata["join"]](parts, item.name) for item in fields(InversionResult)})


def replaced_fields() -> list[str]:
    """The per-row fields a restart's better attempt replaces."""
    return [item.name for item in fields(InversionResult) if item.metadata["replaced"]]


def _rows(parts, name):
    values = [getattr(part, name) for part in parts]
    return None if values[0] is None else np.concatenate(values)


def _padded(parts, name):
    """(calls, rows) histories side by side, each continued with its last value to the longest."""
    values = [getattr(part, name) for part in parts]
    if any(value is None for value in values):
        return None
    length = max(len(v) for v in values)
    return np.concatenate([np.concatenate([v, np.repeat(v[-1:], length - len(v), axis=0)]) for v in values], axis=1)


def _longest(parts, name):
    return getattr(max(parts, key=lambda part: len(part.history_steps)), name)


def _weighted(parts, name):
    """The history of row_steps / rows over all batches: each batch's continued with its last value to
    the longest history, weighted by its rows."""
    longest = max(parts, key=lambda part: len(part.history_steps))
    if not len(longest.history_steps):
        return getattr(longest, name)
    weights = np.array([len(part.z) for part in parts], np.float64)
    histories = [np.concatenate([getattr(part, name), np.repeat(getattr(part, name)[-1:], len(longest.history_steps)
                                                                - len(getattr(part, name)))]) for part in parts]
    return weights @ np.stack(histories) / weights.sum()


def _snapshots(parts, name):
    return {step: np.concatenate([part.snapshots[step] for part in parts])
            for step in set.intersection(*(set(part.snapshots) for part in parts))}


_JOINS = {"rows": _rows, "padded": _padded, "longest": _longest, "weighted": _weighted, "snapshots": _snapshots,
          "sum": lambda parts, name: sum(getattr(part, name) for part in parts),
          "max": lambda parts, name: max(getattr(part, name) for part in parts),
          "same": lambda parts, name: getattr(parts[0], name)}
