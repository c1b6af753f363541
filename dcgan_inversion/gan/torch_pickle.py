"""The pickle inside a torch.save file, read without torch and without letting it run anything.

A pickle runs code when it is loaded: it can name any importable callable (`os.system`,
`builtins.eval`) and call it. `SafeUnpickler` never imports what the file names. It resolves:
- the few names a state dict needs (the ordered dict, the tensor and parameter rebuilders, the
  float/half/double/long/int storage types, `torch.Size`, `torch.device`, the builtin set) to this
  module's own harmless stand-ins;
- every other name to an inert stand-in class (`StandIn`): a plain object that only stores the state
  the pickle hands it. That is how a whole-model file (`torch.save(netG)`) is read: its
  `__main__.Generator`, `torch.nn.modules.conv.ConvTranspose2d`, ... are built by NEWOBJ + BUILD
  from their `__dict__` (`_modules`, `_parameters`, `_buffers`, attributes) and nothing else.
  A pickle *calling* such a name (REDUCE: `os.system("...")`, the `__reduce__` trick) is refused
  before anything runs: a stand-in refuses to be called.
Storages come as persistent ids; the caller's `load_storage` turns each into a NumPy array (zip
members, or the legacy stream's blobs: torch_file.py). Tensors come back as NumPy arrays.
"""
from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dcgan_inversion.infra.errors import UserError

STORAGE_DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
                  "BFloat16Storage": np.uint16, "LongStorage": np.int64, "IntStorage": np.int32,
                  "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                  "BoolStorage": np.bool_}


class TorchFileError(UserError):
    """The file is not a torch.save file this reader accepts, is damaged, or would run code."""


class RefusedCall(Exception):
    """The pickle calls a name it is not allowed to call (turned into a TorchFileError naming the file)."""


@dataclass(frozen=True)
class StorageType:
    """What `torch.FloatStorage` (and the others) resolve to: the element type of a storage."""

    name: str
    dtype: type

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class StorageRef:
    """A storage as a persistent id names it: `('storage', type, key, location, numel[, view])`."""

    type: StorageType
    key: str
    numel: int
    view: tuple | None = None   # legacy format: (view_key, offset, size) of a slice of the storage


class StandIn:
    """An inert object standing for any class a pickle names (torch modules, the user's Generator).

    Pickle builds it with `cls.__new__(cls)` (NEWOBJ) and fills its `__dict__` (BUILD): no method of
    the file's runs, and none of ours does anything but store. Calling the class (how a pickle calls
    a function: REDUCE) is refused.
    """

    torch_name = "?"

    def __init__(self, *args, **kwargs):
        raise RefusedCall(self.torch_name)

    @classmethod
    def named(cls, module: str, name: str) -> type:
        return type(name, (cls,), {"torch_name": f"{module}.{name}", "__module__": __name__})

    def __repr__(self):
        return f"<{self.torch_name}>"


class PendingTensor:
    """A tensor whose storage is not read yet (the legacy format's first pass counts storages only)."""


def _rebuild_tensor(storage, storage_offset, size, stride, *ignored):
    """torch._utils._rebuild_tensor_v2 / _rebuild_tensor: a view of `storage` copied into an array."""
    if isinstance(storage, StorageRef):
        return PendingTensor()
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise TorchFileError("a tensor is rebuilt from something that is not a storage")
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    offset = int(storage_offset)
    if len(size) != len(stride) or offset < 0 or min(size, default=1) < 0 or min(stride, default=0) < 0:
        raise TorchFileError(f"a tensor has an invalid layout: size {list(size)}, stride {list(stride)}, "
                             f"offset {offset}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > len(storage):
        raise TorchFileError(f"a tensor of shape {list(size)} (offset {offset}, stride {list(stride)}) needs "
                             f"{needed} elements of its storage, which holds {len(storage)}: the file is damaged")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=tuple(s * storage.itemsize for s in stride), writeable=False)
    return np.array(view)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *ignored):
    """torch._utils._rebuild_parameter(_with_state): an nn.Parameter is its tensor."""
    return data


def _size(*dims):
    """torch.Size(...): a tuple."""
    return tuple(*dims) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)


def _device(*args):
    """torch.device('cuda', 0): only its name is kept."""
    return ":".join(str(arg) for arg in args)


ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
           ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
           ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
           ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
           ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
           ("torch", "Size"): _size, ("torch", "device"): _device,
           ("__builtin__", "set"): set, ("builtins", "set"): set,
           ("__builtin__", "frozenset"): frozenset, ("builtins", "frozenset"): frozenset,
           **{("torch", name): StorageType(name, dtype) for name, dtype in STORAGE_DTYPES.items()}}


class SafeUnpickler(pickle.Unpickler):
    """Loads a torch pickle as described in the module docstring; `load_storage(ref)` gives each
    storage's array (or the ref itself, for a pass that only counts storages)."""

    def __init__(self, stream: io.IOBase, load_storage: Callable[[StorageRef], object], source: str):
        super().__init__(stream)
        self.load_storage, self.source = load_storage, source
        self.storages: dict[str, object] = {}
        self.refs: dict[str, StorageRef] = {}
        self._stand_ins: dict[tuple, type] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if (module, name) not in self._stand_ins:
            self._stand_ins[(module, name)] = StandIn.named(module, name)
        return self._stand_ins[(module, name)]

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":
            return pid[1]  # legacy whole-model files: ('module', class, source file, source code)
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], StorageType) and isinstance(pid[2], str) and isinstance(pid[4], int)):
            raise TorchFileError(f"{self.source}: an unexpected persistent id {str(pid)[:80]} (expected a storage)")
        view = pid[5] if len(pid) == 6 else None
        if view is not None and not (isinstance(view, tuple) and len(view) == 3
                                     and all(isinstance(n, int) for n in view[1:])):
            raise TorchFileError(f"{self.source}: a storage view {str(view)[:60]} is not (key, offset, size)")
        ref = StorageRef(pid[1], pid[2], int(pid[4]), view)
        if ref.numel < 0:
            raise TorchFileError(f"{self.source}: storage {ref.key} declares {ref.numel} elements")
        known = self.refs.setdefault(ref.key, ref)
        if (known.type, known.numel) != (ref.type, ref.numel):
            raise TorchFileError(f"{self.source}: storage {ref.key} is declared twice with different sizes")
        if ref.key not in self.storages:
            self.storages[ref.key] = self.load_storage(ref)
        storage = self.storages[ref.key]
        if view is None or isinstance(storage, StorageRef):
            return storage
        _, offset, size = view
        if offset < 0 or size < 0 or offset + size > len(storage):
            raise TorchFileError(f"{self.source}: a view of {size} elements at {offset} lies outside storage "
                                 f"{ref.key} of {len(storage)}: the file is damaged")
        return storage[offset:offset + size]


def unpickle(stream: io.IOBase, load_storage: Callable[[StorageRef], object], source: str):
    """The object pickled at the stream's position, and the storages it named (key -> StorageRef); the
    stream is left just after the pickle. One line (TorchFileError) for anything refused or damaged."""
    unpickler = SafeUnpickler(stream, load_storage, source)
    try:
        return unpickler.load(), unpickler.refs
    except RefusedCall as refused:
        raise TorchFileError(f"{source}: refused: its pickle calls {refused}, which is not a tensor, a storage or a "
                             "container (a pickle can run code when it is loaded: nothing in the file was run)") from None
    except TorchFileError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            RecursionError, MemoryError, UnicodeDecodeError, OverflowError) as error:
        raise TorchFileError(f"{source}: its pickle cannot be read ({type(error).__name__}: "
                             f"{str(error)[:120]}): the file is damaged or not a torch.save file") from None
