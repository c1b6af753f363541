"""A torch.save file read without torch: both of torch.save's containers, each storage's size
checked before a byte of it is read.

- **zip** (torch >= 1.6): `<folder>/data.pkl`, the pickle of the saved object, and each storage as
  the member `<folder>/data/<key>`, in the byte order of `<folder>/byteorder`. `<folder>` is whatever
  the writer chose (the file's stem, `archive`): it is found, never assumed. torch writes the
  members uncompressed; a member that inflates far beyond its stored size is refused unread.
- **legacy** (torch < 1.6, most DCGAN-era files): a plain stream of pickles: the magic number
  0x1950a86a20f9469cfc6c, the protocol 1001, the system info (`little_endian`, `type_sizes`), the
  saved object (storages as persistent ids `('storage', type, key, location, numel, view)`), the
  sorted list of storage keys, then per key an int64 element count and the raw bytes. The object
  comes before its storages' bytes, so it is unpickled twice: once to learn the storages it names,
  once, after they are read, to build it.
The pickle itself is read by torch_pickle.py: nothing the file names is imported or run.
"""
from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from dcgan_inversion.gan.torch_pickle import StorageRef, TorchFileError, unpickle

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
LEGACY_HEAD = pickle.dumps(LEGACY_MAGIC, protocol=2)[:-1]
MAX_INFLATION = 100  # a zip member may expand at most this much (torch stores members uncompressed)


def read_torch_file(path) -> object:
    """The object a torch.save file (or a safetensors state dict) holds, tensors as NumPy arrays; one
    line for anything else."""
    from dcgan_inversion.gan.safetensors_file import is_safetensors, read_safetensors

    path = Path(path)
    if path.is_file() and is_safetensors(path):
        return read_safetensors(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise TorchFileError(f"cannot read {path}: {error.strerror or error}") from None
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                return _read_archive(archive, path)
        except zipfile.BadZipFile as error:
            raise TorchFileError(f"{path} is a truncated or damaged zip archive ({error})") from None
    if head.startswith(b"\x80"):  # a pickle: the legacy stream starts with the pickled magic number
        with open(path, "rb") as stream:
            return _read_legacy(stream, path)
    if _is_tar(path):
        raise TorchFileError(f"{path} is in torch.save's tar format (torch < 0.1.10): load it with torch and save "
                             "its state_dict() again")
    raise TorchFileError(f"{path} is not a torch.save file (no zip archive, no legacy torch header)")


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


# --- the legacy stream ------------------------------------------------------------------------------

def _read_legacy(stream, path: Path) -> object:
    size = path.stat().st_size
    magic = _plain_pickle(stream, path, "magic number")
    if magic != LEGACY_MAGIC:
        raise TorchFileError(f"{path} is a pickle but not a torch.save file (its first value is not torch's magic "
                             "number)")
    protocol = _plain_pickle(stream, path, "protocol")
    if protocol != LEGACY_PROTOCOL:
        raise TorchFileError(f"{path}: torch legacy protocol {protocol!r}; this reader knows {LEGACY_PROTOCOL}")
    info = _plain_pickle(stream, path, "system info")
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise TorchFileError(f"{path} was written on a big-endian machine (or records no byte order): load it with "
                             "torch there and save its state_dict() again")
    start = stream.tell()
    _, refs = unpickle(stream, lambda ref: ref, str(path))  # first pass: which storages, how large
    keys = _plain_pickle(stream, path, "storage keys")
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(refs):
        raise TorchFileError(f"{path}: its list of storages does not match the storages its tensors name: the "
                             "file is damaged")
    storages = {str(key): _legacy_storage(stream, refs[str(key)], size, path) for key in keys}
    stream.seek(start)
    obj, _ = unpickle(stream, lambda ref: storages[ref.key], str(path))
    return obj


def _plain_pickle(stream, path: Path, what: str):
    """One of the legacy header's plain pickles (numbers, a dict, a list): no global may appear."""
    class Plain(pickle.Unpickler):
        def find_class(self, module, name):
            raise TorchFileError(f"{path}: its {what} names the global {module}.{name}: not a torch.save file")
    try:
        return Plain(stream).load()
    except TorchFileError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, OverflowError) as error:
        raise TorchFileError(f"{path}: its {what} cannot be read ({type(error).__name__}): the file is truncated or "
                             "damaged") from None


def _legacy_storage(stream, ref: StorageRef, file_size: int, path: Path) -> np.ndarray:
    counted = stream.read(8)
    if len(counted) != 8:
        raise TorchFileError(f"{path}: storage {ref.key} is truncated (its element count is missing)")
    (numel,) = struct.unpack("<q", counted)
    if numel != ref.numel:
        raise TorchFileError(f"{path}: storage {ref.key} holds {numel} elements but its tensors declare "
                             f"{ref.numel}: the file is damaged")
    nbytes = numel * ref.type.itemsize
    if nbytes > file_size - stream.tell():
        raise TorchFileError(f"{path}: storage {ref.key} needs {nbytes} bytes, more than the file has left: the "
                             "file is truncated")
    return _storage_array(stream.read(nbytes), ref, "little")


def _storage_array(raw: bytes, ref: StorageRef, byteorder: str) -> np.ndarray:
    dtype = np.dtype(ref.type.dtype).newbyteorder("<" if byteorder == "little" else ">")
    values = np.frombuffer(raw, dtype).astype(ref.type.dtype)
    if ref.type.name == "BFloat16Storage":  # bfloat16 is float32's upper half
        return (values.astype(np.uint32) << 16).view(np.float32)
    return values


# --- the zip archive --------------------------------------------------------------------------------

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
                             f"found {found} (a Keras .keras file? dcgan-import reads those too, by their suffix)")
    folder = pickles[0].split("/", 1)[0]
    if len(folders) > 1 and any(not name.startswith(folder + "/") for name in names):
        raise TorchFileError(f"{path} holds more than one archive folder ({', '.join(sorted(folders)[:4])})")
    byteorder = "little"
    if f"{folder}/byteorder" in names:
        byteorder = archive.read(f"{folder}/byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise TorchFileError(f"{path}: unknown byte order '{byteorder[:20]}'")
    _check_member(archive.getinfo(pickles[0]), path)
    try:
        data = archive.read(pickles[0])
        obj, _ = unpickle(io.BytesIO(data), lambda ref: _zip_storage(archive, folder, ref, byteorder, path), str(path))
        return obj
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise TorchFileError(f"{path} is truncated or damaged ({error})") from None


def _check_member(info: zipfile.ZipInfo, path: Path) -> None:
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_INFLATION * max(info.compress_size, 1 << 14):
        raise TorchFileError(f"{path}: {info.filename} inflates from {info.compress_size} to {info.file_size} bytes; "
                             "torch.save stores its members uncompressed: refused unread")


def _zip_storage(archive: zipfile.ZipFile, folder: str, ref: StorageRef, byteorder: str, path: Path) -> np.ndarray:
    member = f"{folder}/data/{ref.key}"
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise TorchFileError(f"{path}: storage {member} is missing from the archive: the file is incomplete") from None
    needed = ref.numel * ref.type.itemsize
    if info.file_size != needed:
        raise TorchFileError(f"{path}: storage {member} holds {info.file_size} bytes, but its {ref.type.name} of "
                             f"{ref.numel} elements needs {needed}: the file is damaged")
    _check_member(info, path)
    try:
        raw = archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise TorchFileError(f"{path}: cannot read {member}: {error}: the file is damaged") from None
    return _storage_array(raw, ref, byteorder)
