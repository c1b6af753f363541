"""A PyTorch generator's first-layer inputs: z alone, or z and a class.

Conditional generators feed the class in one of two ways, both read here:
- a one-hot class concatenated to z (`torch.cat([z, onehot], 1)`; `--labels N` declares it), and
- a learned embedding of the class (`nn.Embedding(N, d)`, PyTorch-GAN's cgan: `torch.cat((
  self.label_emb(labels), noise), -1)`), which the file shows by itself.
Either way the first layer computes W_z z + W_c c_k + b, so class k is the bias b + W_c c_k
(c_k the one-hot e_k or the embedding's row k): a row per class, which gan/labels.py sets. Where
the class stands among the inputs (after z, or before it) cannot be read from the weights: one-hot
classes are taken to follow z, embeddings to precede it (the two codes above), and
`--label-position` says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcgan_inversion.gan.imported import CheckpointMismatch

POSITIONS = ("first", "last")


@dataclass(frozen=True)
class ClassInputs:
    """How the first layer's `inputs` split into z and the class inputs."""

    inputs: int
    labels: int = 0                       # classes (0: unconditional)
    embedding: np.ndarray | None = None   # (labels, width): nn.Embedding's weight; None: one-hot
    first: bool = False                   # the class inputs come before z

    @property
    def width(self) -> int:
        """The first layer's inputs that carry the class."""
        return 0 if not self.labels else self.labels if self.embedding is None else self.embedding.shape[1]

    @property
    def z_dim(self) -> int:
        return self.inputs - self.width

    def z_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows of the first layer's (inputs, outputs) matrix that z multiplies."""
        return rows[self.width:] if self.first else rows[:self.z_dim]

    def class_rows(self, rows: np.ndarray) -> np.ndarray | None:
        """(labels, outputs): what each class adds to the first layer's output; None if unconditional."""
        if not self.labels:
            return None
        inputs = rows[:self.width] if self.first else rows[self.z_dim:]
        return (inputs if self.embedding is None else self.embedding.astype(np.float64) @ inputs).astype(np.float32)

    def describe(self) -> str:
        what = (f"a one-hot class of {self.labels}" if self.embedding is None
                else f"an embedding ({self.width}) of {self.labels} classes")
        order = f"{what} then z ({self.z_dim})" if self.first else f"z ({self.z_dim}) then {what}"
        return f"conditional: the first layer's {self.inputs} inputs are {order}"


def class_inputs(inputs: int, embedding, labels: int, position: str | None, source: str) -> tuple[ClassInputs, list]:
    """The split of the first layer's `inputs`, from the file's class embedding (a Layer or None),
    `--labels` and `--label-position`; and what was assumed."""
    if position is not None and position not in POSITIONS:
        raise CheckpointMismatch(f"--label-position {position}: one of {', '.join(POSITIONS)}")
    if embedding is not None:
        table = embedding.arrays["weight"]
        if labels and labels != table.shape[0]:
            raise CheckpointMismatch(f"{source}: --labels {labels}, but its class embedding '{embedding.path}' has "
                                     f"{table.shape[0]} classes")
        labels = table.shape[0]
    elif not labels:
        if position is not None:
            raise CheckpointMismatch("--label-position is for conditional generators (--labels N)")
        return ClassInputs(inputs), []
    first = (position or ("first" if embedding is not None else "last")) == "first"
    split = ClassInputs(inputs, labels, None if embedding is None else table, first)
    if split.z_dim < 1:
        raise CheckpointMismatch(f"{source}: a class of {split.width} inputs leaves no latent: its first layer takes "
                                 f"{inputs} inputs")
    assumed = [] if position is not None else [
        f"the class inputs come {'before' if first else 'after'} z (the weights cannot say; --label-position "
        f"{'last' if first else 'first'} if not)"]
    return split, assumed
