"""When each row leaves the first-order phase for the polish (`search.switch: stalled`)."""
from __future__ import annotations

import numpy as np


class StallSwitch:
    """Decides when each row leaves the first-order phase for the polish.

    The first-order loss keeps creeping down long after a row is close enough for the polish,
    so a fixed warm-up must be tuned per generator. Instead a row switches once its best pixel
    loss, checked every `stall_window` steps, fell by less than `improvement` since the last check.
    """

    def __init__(self, initial_loss: np.ndarray, improvement: float):
        self.best = np.array(initial_loss, np.float32)
        self.improvement = improvement

    def stalled(self, loss: np.ndarray) -> np.ndarray:
        """Rows (mask) that stalled; `loss` is NaN for rows that no longer step."""
        stepping = ~np.isnan(loss)
        best = np.where(stepping, np.minimum(self.best, loss), self.best)
        stalled = stepping & (best > (1 - self.improvement) * self.best)
        self.best = best
        return stalled
