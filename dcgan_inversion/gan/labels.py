"""A conditional generator as an unconditional one per class.

A cDCGAN feeds its first layer z followed by a one-hot class: W [z; e_k] = W_z z + W[:, k]. So for
a fixed class k the generator is the unconditional one whose first layer has the bias
base + W[:, k] (the k-th class row). The import keeps every class's row (`labels.npz` in the run);
choosing a class sets that bias, and everything downstream (inversion, the layer-wise Jacobian,
the counted cost) sees a plain generator of z.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from dcgan_inversion.infra.errors import UserError

FIRST_LAYER = "project"


def with_label(generator, rows: np.ndarray, base_bias: np.ndarray, label: int):
    """Sets `generator` to draw class `label`; returns it."""
    if not 0 <= label < len(rows):
        raise UserError(f"--label {label}: the generator has classes 0 to {len(rows) - 1}")
    layer = _first_layer(generator)
    kernel, _ = layer.get_weights()
    layer.set_weights([kernel, (base_bias + rows[label]).astype(np.float32)])
    return generator


def _first_layer(generator):
    """The first layer of a Keras generator, or of the one a view (batch statistics) wraps."""
    return getattr(generator, "generator", generator).get_layer(FIRST_LAYER)


@dataclass(frozen=True)
class ClassRows:
    """A conditional run's classes, for experiments that draw a class per row: the engine inverts each
    class's rows with the generator set to that class (`select`), which is then set back (`kept`)."""

    rows: np.ndarray       # (classes, first layer's outputs): W[:, k] of each one-hot input
    base_bias: np.ndarray  # the first layer's own bias

    def select(self, generator, label: int) -> None:
        with_label(generator, self.rows, self.base_bias, int(label))

    @contextlib.contextmanager
    def kept(self, generator):
        """Sets the generator's class back to the one it had, however the block ends."""
        layer = _first_layer(generator)
        kernel, bias = layer.get_weights()
        try:
            yield
        finally:
            layer.set_weights([kernel, bias])

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """A class per row, uniform; sorted, so a class's rows are batched together (the rows are
        independent draws, so their order carries nothing)."""
        return np.sort(rng.integers(0, len(self.rows), count))

    def generate(self, generator, z: np.ndarray, classes: np.ndarray, group_rows: int | None = None) -> np.ndarray:
        """G(z_i | class_i) for every row, a run of one class at a time."""
        from dcgan_inversion.gan.sampling import generate

        images = []
        with self.kept(generator):
            for rows in class_runs(classes):
                self.select(generator, classes[rows.start])
                images.append(generate(generator, z[rows], group_rows))
        return np.concatenate(images)


def class_runs(classes: np.ndarray, limit: int | None = None) -> list[slice]:
    """Consecutive rows of one class, each run cut at `limit` rows."""
    edges = [0, *(np.flatnonzero(np.diff(classes)) + 1).tolist(), len(classes)]
    limit = limit or len(classes)
    return [slice(first, min(first + limit, end)) for start, end in zip(edges, edges[1:])
            for first in range(start, end, limit)]


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
