"""Progress bars of the two phases (keras.utils.Progbar), with the tracked z error when known."""
from __future__ import annotations

import keras
import numpy as np


def progress_bar(title: str | None, total: int, tracked: bool):
    """A bar counting to `total` under `title`, or None when the run is silent."""
    if not title:
        return None
    print(title, flush=True)
    return keras.utils.Progbar(total, unit_name="step", stateful_metrics=["median z err", "below 1e-4"] if tracked else None)


def progress_values(z_error) -> list:
    return [("median z err", float(np.median(z_error))), ("below 1e-4", float(np.mean(z_error < 1e-4)))]
