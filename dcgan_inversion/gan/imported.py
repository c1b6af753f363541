"""What a checkpoint importer hands over: the model it found and its weights by this project's layer
names, in Keras's order (tf1_checkpoint.py for TF1 files, pytorch_checkpoint.py for torch.save files)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dcgan_inversion.config import ModelConfig
from dcgan_inversion.infra.errors import UserError


class CheckpointMismatch(UserError):
    """The file is not a DCGAN checkpoint of this design, or is damaged."""


@dataclass
class ImportedWeights:
    """What a checkpoint holds, mapped onto this project's layer names."""

    prefix: str
    model: ModelConfig
    generator: dict[str, list[np.ndarray]]          # Keras layer name -> weights in Keras order
    discriminator: dict[str, list[np.ndarray]] | None
    layout: str                                     # which codebase's names and schedule
    variables_used: int = 0
    variables_total: int = 0
    ignored: list[str] = field(default_factory=list)  # optimizer slots, counters: not model weights
    assumed: list[str] = field(default_factory=list)  # what the file cannot say and the importer assumed
    notes: list[str] = field(default_factory=list)    # what the user should know (a conditional-looking z, ...)
    label_rows: np.ndarray | None = None             # conditional: each class's row of the first layer
    base_bias: np.ndarray | None = None              # conditional: the first layer's own bias


def assign(model, weights: dict[str, list[np.ndarray]]) -> None:
    """Sets each named layer's weights; every layer with weights must be named (nothing left at its init)."""
    layers = {layer.name: layer for layer in model.layers if layer.weights}
    if set(layers) != set(weights):
        raise CheckpointMismatch(f"the checkpoint's layers {sorted(weights)} do not match the model's {sorted(layers)}")
    for name, values in weights.items():
        layers[name].set_weights(values)
