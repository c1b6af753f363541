"""What an inversion produced, per row, and how results of consecutive batches are joined."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


def latent_error(z: np.ndarray, z_true: np.ndarray) -> np.ndarray:
    """||z - z'||_2^2 / z_dim per row: the success metric of Table 1."""
    return np.sum(np.square(np.asarray(z, np.float64) - z_true), axis=-1) / z.shape[-1]


@dataclass
class InversionResult:
    """What one inversion produced, per row; numpy arrays so experiments can save them."""

    z: np.ndarray                      # recovered z', (rows, z_dim)
    pixel_error: np.ndarray            # mean squared pixel error of G(z') vs the target, (rows,)
    z_error: np.ndarray | None         # ||z - z'||^2 / z_dim, when the true z is known
    first_step: np.ndarray | None      # first step each threshold was crossed, -1 if never, (rows, T)
    thresholds: tuple
    steps: int
    seconds: float
    first_order_seconds: float = 0.0
    seconds_per_step: float = 0.0                  # first-order cost, measured after the first (tracing) call
    row_steps: int = 0                             # first-order steps summed over rows (rows may switch early)
    switch_step: np.ndarray | None = None          # step at which each row left the first-order phase
    history_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    history_equivalents: np.ndarray = field(default_factory=lambda: np.zeros(0))  # row_steps / rows so far
    history_z_error: np.ndarray | None = None      # (calls, rows) during the first-order phase
    snapshots: dict = field(default_factory=dict)  # step -> G(z') of `snapshot_rows`
    # Polish phase (polishing.py), when it ran:
    polish_iterations: int = 0
    polish_row_iterations: int = 0                 # polish iterations summed over the rows that took them
    polish_row_steps: float = 0.0                  # the polish's counted step-equivalents (cost.py), summed over rows
    polish_counted: np.ndarray | None = None       # (iterations, rows): each row's counted polish cost so far
    polish_seconds: float = 0.0
    polish_z_error: np.ndarray | None = None       # (iterations, rows)
    z_before_polish: np.ndarray | None = None
    z_error_before_polish: np.ndarray | None = None
    # The start screen (screening.py), when it ran:
    screen_row_steps: float = 0.0                  # every candidate's first-order steps and the bank's cost, summed
    screen_seconds: float = 0.0
    # Restarts of stuck rows (restarts.py), when they ran:
    restarts: np.ndarray | None = None             # (rows,): how many times each row started again
    restart_row_steps: float = 0.0                 # the restarts' counted step-equivalents, summed over rows
    restart_seconds: float = 0.0

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
    """One result from batches run one after the other (histories padded with their last values)."""
    def rows(name):
        values = [getattr(part, name) for part in parts]
        return None if values[0] is None else np.concatenate(values)

    def padded(name):
        values = [getattr(part, name) for part in parts]
        if values[0] is None:
            return None
        length = max(len(v) for v in values)
        return np.concatenate([np.concatenate([v, np.repeat(v[-1:], length - len(v), axis=0)]) for v in values], axis=1)

    longest = max(parts, key=lambda part: len(part.history_steps))
    weights = np.array([len(part.z) for part in parts], np.float64)
    equivalents = [np.concatenate([part.history_equivalents,
                                   np.repeat(part.history_equivalents[-1:], len(longest.history_steps)
                                             - len(part.history_equivalents))]) for part in parts]
    return InversionResult(
        z=rows("z"), pixel_error=rows("pixel_error"), z_error=rows("z_error"), first_step=rows("first_step"),
        thresholds=parts[0].thresholds, steps=max(part.steps for part in parts),
        seconds=sum(part.seconds for part in parts),
        first_order_seconds=sum(part.first_order_seconds for part in parts),
        seconds_per_step=sum(part.seconds_per_step for part in parts),
        row_steps=sum(part.row_steps for part in parts), switch_step=rows("switch_step"),
        history_steps=longest.history_steps, history_z_error=padded("history_z_error"),
        history_equivalents=weights @ np.stack(equivalents) / weights.sum() if len(longest.history_steps) else
        longest.history_equivalents,
        polish_iterations=max(part.polish_iterations for part in parts),
        polish_row_iterations=sum(part.polish_row_iterations for part in parts),
        polish_row_steps=sum(part.polish_row_steps for part in parts),
        polish_counted=padded("polish_counted") if all(part.polish_counted is not None for part in parts) else None,
        polish_seconds=sum(part.polish_seconds for part in parts),
        polish_z_error=padded("polish_z_error") if all(part.polish_z_error is not None for part in parts) else None,
        snapshots={step: np.concatenate([part.snapshots[step] for part in parts])
                   for step in set.intersection(*(set(part.snapshots) for part in parts))},
        z_before_polish=rows("z_before_polish"), z_error_before_polish=rows("z_error_before_polish"),
        screen_row_steps=sum(part.screen_row_steps for part in parts),
        screen_seconds=sum(part.screen_seconds for part in parts),
        restarts=rows("restarts"), restart_row_steps=sum(part.restart_row_steps for part in parts),
        restart_seconds=sum(part.restart_seconds for part in parts),
    )
