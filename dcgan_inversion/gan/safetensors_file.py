"""A `model.safetensors` state dict, read with the format's own library (NumPy, no torch, no pickle).

The file is a JSON header of names, dtypes, shapes and byte offsets, then the raw little-endian
bytes; the `safetensors` package checks the offsets against the file before it reads. The header
does not keep the modules' registration order (writers sort it), so the layers are put back in
order by the numbers in their names (`main.0` < `main.1` < `main.10`; `convTr1`, `batchNorm1`,
`convTr2`: a layer's weights before the batch norm of the same number), which the importer then
checks link by link against the shapes.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

from dcgan_inversion.gan.torch_pickle import TorchFileError

SUFFIX = ".safetensors"
BATCH_NORM_PARTS = ("running_mean", "running_var", "num_batches_tracked")


def is_safetensors(path) -> bool:
    """Named .safetensors, or starting like one: a little-endian header length, then '{'."""
    path = Path(path)
    if path.suffix.lower() == SUFFIX:
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") <= path.stat().st_size


def read_safetensors(path) -> OrderedDict:
    """The state dict in `path`, its layers in the order their names number them."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError, TypeError) as error:
        message = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise TorchFileError(f"{path} is not a readable safetensors file ({message})") from None
    if not arrays:
        raise TorchFileError(f"{path} holds no tensors")
    groups: dict[str, list] = {}
    for key in arrays:
        groups.setdefault(key.rpartition(".")[0], []).append(key)
    ordered = sorted(groups, key=lambda module: _order(module, groups[module]))
    return OrderedDict((key, arrays[key]) for module in ordered for key in groups[module])


def _order(module: str, keys: list) -> tuple:
    numbers = tuple(int(n) for n in re.findall(r"\d+", module))
    is_norm = any(key.rpartition(".")[2] in BATCH_NORM_PARTS for key in keys)
    return numbers, is_norm, module
