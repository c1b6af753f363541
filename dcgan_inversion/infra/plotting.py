"""matplotlib set up the same way on every machine (no display, fixed fonts and metadata), figures
written atomically."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same output on every machine
import matplotlib.pyplot as plt  # noqa: E402

from dcgan_inversion.infra.io_utils import atomic_write_bytes  # noqa: E402

DPI = 120

plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "svg.hashsalt": "dcgan-inversion",
                     "pdf.fonttype": 42})


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

