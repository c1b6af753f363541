"""A torch.save file read without torch, and without letting its pickle run anything.

torch.save (torch >= 1.6) writes a zip archive: `<folder>/data.pkl`, a pickle (protocol 2) of the
saved object in which every tensor is a call `torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, ...)` and every storage a persistent id `('storage', torch.FloatStorage, key, location,
numel)` whose bytes are the archive's `<folder>/data/<key>`, in the byte order of `<folder>/byteorder`.
`<folder>` is whatever the writer chose (the file's stem, `archive`): it is found, never assumed.

A pickle runs code when it is loaded: it can name any importable callable (`os.system`,
`builtins.eval`) and call it. `SafeUnpickler` resolves exactly the names a state dict needs (the
ordered dict, the tensor rebuild functions, the float/half/double/long/int storage types) to this
module's own stand-ins, and refuses every other name with one line naming it, before anything it
names is imported or called. Tensors come back as NumPy arrays; the rest (dicts, lists, numbers,
strings) as Python objects.
"""
from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcgan_inversion.infra.errors import UserError

# torch.save's legacy (pre-1.6) format starts with a pickled magic number (protocol 2, a long).
LEGACY_HEAD = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[:-1]
STORAGE_DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
                  "BFloat16Storage": np.uint16, "LongStorage": np.int64, "IntStorage": np.int32}


class TorchFileError(UserError):
    """The file is not a torch.save zip this reader accepts, is damaged, or names a forbidden global."""


@dataclass(frozen=True)
class _StorageType:
    """What `torch.FloatStorage` (and the others) resolve to: the element type of a storage."""

    name: str
    dtype: type


def _rebuild_tensor(storage, storage_offset, size, stride, *ignored):
    """torch._utils._rebuild_tensor_v2 / _rebuild_tensor: a view of `storage` copied into an array."""
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
    """torch._utils._rebuild_parameter: an nn.Parameter is its tensor."""
    return data


ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
           ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
           ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
           ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
           **{("torch", name): _StorageType(name, dtype) for name, dtype in STORAGE_DTYPES.items()}}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds state dicts and nothing else (see the module docstring)."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, folder: str, byteorder: str, path: Path):
        super().__init__(io.BytesIO(data))
        self.archive, self.folder, self.byteorder, self.path = archive, folder, byteorder, path
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        raise TorchFileError(f"{self.path}: refused: its pickle names the global {module}.{name}, which is not a "
                             "tensor, a storage or an ordered dict (a pickle can run code when it is loaded; only "
                             "state dicts are read: save model.state_dict() with torch.save)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)):
            raise TorchFileError(f"{self.path}: an unexpected persistent id {str(pid)[:80]} (expected a storage)")
        _, storage_type, key, _location, numel = pid
        if key not in self.storages:
            self.storages[key] = self._storage(storage_type, key, int(numel))
        return self.storages[key]

    def _storage(self, storage_type: _StorageType, key: str, numel: int) -> np.ndarray:
        member = f"{self.folder}/data/{key}"
        try:
            raw = self.archive.read(member)
        except KeyError:
            raise TorchFileError(f"{self.path}: storage {member} is missing from the archive: the file is "
                                 "incomplete") from None
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise TorchFileError(f"{self.path}: cannot read {member}: {error}: the file is damaged") from None
        dtype = np.dtype(storage_type.dtype).newbyteorder("<" if self.byteorder == "little" else ">")
        if len(raw) != numel * dtype.itemsize:
            raise TorchFileError(f"{self.path}: storage {member} holds {len(raw)} bytes, but its {storage_type.name} "
                                 f"of {numel} elements needs {numel * dtype.itemsize}: the file is damaged")
        values = np.frombuffer(raw, dtype).astype(storage_type.dtype)
        if storage_type.name == "BFloat16Storage":  # bfloat16 is float32's upper half
            return (values.astype(np.uint32) << 16).view(np.float32)
        return values


def read_torch_file(path) -> object:
    """The object a torch.save zip file holds, tensors as NumPy arrays; one line for anything else."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise TorchFileError(f"cannot read {path}: {error.strerror or error}") from None
    if head.startswith(LEGACY_HEAD):
        raise TorchFileError(f"{path} is in torch.save's legacy (pre-1.6, non-zip) format: load it with torch and "
                             "save its state_dict() again with torch >= 1.6")
    if not head.startswith(b"PK"):
        raise TorchFileError(f"{path} is not a torch.save file (no zip archive, no legacy torch header)")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_archive(archive, path)
    except zipfile.BadZipFile as error:
        raise TorchFileError(f"{path} is a truncated or damaged zip archive ({error})") from None


def _read_archive(archive: zipfile.ZipFile, path: Path) -> object:
    names = archive.namelist()
    pickles = [name for name in names if name.count("/") == 1 and name.endswith("/data.pkl")]
    folders = {name.split("/", 1)[0] for name in names if "/" in name}
    if any(name.endswith(("/constants.pkl", "/code/")) or "/code/" in name for name in names):
        raise TorchFileError(f"{path} is a TorchScript archive (torch.jit.save): save the model's state_dict() with "
                             "torch.save instead")
    if len(pickles) != 1:
        found = ", ".join(sorted(names)[:4]) or "nothing"
        raise TorchFileError(f"{path} is a zip archive but not a torch.save file: expected one <folder>/data.pkl, "
                             f"found {found}")
    folder = pickles[0].split("/", 1)[0]
    if len(folders) > 1 and any(not name.startswith(folder + "/") for name in names):
        raise TorchFileError(f"{path} holds more than one archive folder ({', '.join(sorted(folders)[:4])})")
    byteorder = "little"
    if f"{folder}/byteorder" in names:
        byteorder = archive.read(f"{folder}/byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise TorchFileError(f"{path}: unknown byte order '{byteorder[:20]}'")
    try:
        data = archive.read(pickles[0])
        return SafeUnpickler(data, archive, folder, byteorder, path).load()
    except TorchFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise TorchFileError(f"{path} is truncated or damaged ({error})") from None
    except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise TorchFileError(f"{path}: its data.pkl cannot be read as a state dict ({type(error).__name__}: "
                             f"{str(error)[:120]})") from None
