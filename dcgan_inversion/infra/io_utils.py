"""Atomic file writes, so a crash never leaves a truncated file a later step would read."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def update_digest(digest, path: Path):
    """Feeds a file to a hashlib digest in 1 MB blocks; returns the digest."""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def file_sha256(path: Path) -> str:
    return update_digest(hashlib.sha256(), path).hexdigest()


def path_sha256(path: Path) -> str:
    """A file's sha256, or a folder's (a SavedModel) over its files' names and sums."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(item for item in path.rglob("*") if item.is_file()):
        digest.update(str(member.relative_to(path)).encode() + bytes.fromhex(file_sha256(member)))
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(temporary, path: Path) -> None:
    """Gives a finished temporary file ordinary permissions (mkstemp makes it 0600), then renames it."""
    os.chmod(temporary, 0o666 & ~_umask())
    os.replace(temporary, path)


def publish_folder(temporary: Path, path: Path) -> None:
    """The same for a folder built whole beside its destination (mkdtemp makes it 0700); an empty
    folder at `path` is replaced."""
    os.chmod(temporary, 0o777 & ~_umask())
    if path.is_dir():
        path.rmdir()
    os.replace(temporary, path)


@contextlib.contextmanager
def atomic_file(path: Path):
    """A binary stream whose file appears at `path` whole, with the umask's permissions like any other
    file the package writes, only once the block finishes; nothing is left behind when it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        publish(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path) as stream:
        stream.write(data)


def atomic_write_text(path: Path, text: str, errors: str = "strict") -> None:
    atomic_write_bytes(path, text.encode("utf-8", errors))


def write_csv(path: Path, rows: list[dict]) -> None:
    """Rows of one shape (their first row's keys are the header), written atomically. A file name
    holding bytes that are not UTF-8 (kept by Python as lone surrogates) is written as those bytes,
    so the row still names its file exactly."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue(), errors="surrogateescape")


def write_json(path: Path, payload) -> None:
    """JSON, ASCII-escaped: a file name's non-UTF-8 bytes (lone surrogates) stay as \\udcXX escapes,
    which json.loads and os.fsencode turn back into the exact name."""
    atomic_write_text(path, json.dumps(payload, indent=2, default=_json_default) + "\n")


def write_npz(path: Path, **arrays) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def write_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())


def write_png(path: Path, image_uint8: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.squeeze(image_uint8)).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def ensure_writable(folder: Path, what: str = "") -> None:
    """Makes `folder` and writes a file in it, so a folder that cannot take the outputs is refused
    before the work, not after; `what` names the setting behind it in the message."""
    from dcgan_inversion.infra.errors import UserError

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UserError(f"{what}cannot write to {folder}: {error.strerror or error}") from None
