"""A conditional generator as an unconditional one per class.

A cDCGAN feeds its first layer z followed by a one-hot class: W [z; e_k] = W_z z + W[:, k]. So for
a fixed class k the generator is the unconditional one whose first layer has the bias
base + W[:, k] (the k-th class row). The import keeps every class's row (`labels.npz` in the run);
choosing a class sets that bias, and everything downstream (inversion, the layer-wise Jacobian,
the counted cost) sees a plain generator of z.
"""
from __future__ import annotations

import numpy as np

from dcgan_inversion.infra.errors import UserError

FIRST_LAYER = "project"


def with_label(generator, rows: np.ndarray, base_bias: np.ndarray, label: int):
    """Sets `generator` to draw class `label`; returns it."""
    if not 0 <= label < len(rows):
        raise UserError(f"--label {label}: the generator has classes 0 to {len(rows) - 1}")
    layer = generator.get_layer(FIRST_LAYER)
    kernel, _ = layer.get_weights()
    layer.set_weights([kernel, (base_bias + rows[label]).astype(np.float32)])
    return generator


def label_index(label: str, names: tuple, count: int) -> int:
    """A class given by number or by name."""
    if label in names:
        return names.index(label)
    try:
        index = int(label)
    except ValueError:
        known = ", ".join(names) if names else f"0 to {count - 1}"
        raise UserError(f"--label {label}: not a class of this generator ({known})") from None
    if not 0 <= index < count:
        raise UserError(f"--label {index}: the generator has classes 0 to {count - 1}")
    return index


def read_label_rows(path) -> tuple[np.ndarray, np.ndarray]:
    """The class rows and the first layer's own bias a conditional import kept; one line when the file
    is missing or damaged."""
    import zipfile

    try:
        with np.load(path) as saved:
            return saved["rows"], saved["base_bias"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        raise UserError(f"cannot read {path}, the conditional generator's class rows: import the file again with "
                        "--labels") from None
