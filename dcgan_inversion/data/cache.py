"""The decoded training set, made once: `data.cache` is `off`, `memory`, or a folder on disk.

A 64 px CelebA is ~2.5 GB as uint8, small enough to decode once instead of every epoch. The
first run decodes every training file natively (decode.py) into one array; with a folder, the
array is stored as `<key>.npy` beside `<key>.json` (which files were skipped) and later epochs and
later runs memory-map it. The key hashes the file list (paths, sizes, modification times), the
crop and the size, so a changed folder or setting builds a new cache. The `.npy` is written under
a temporary name and renamed last, so a cache killed half-way is never used.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dcgan_inversion.data.decode import decoded_files
from dcgan_inversion.infra.errors import UserError, first_line
from dcgan_inversion.infra.io_utils import atomic_file, atomic_write_text, ensure_writable

FORMAT = 1  # bump when the decoded pixels change


@dataclass
class DecodedImages:
    images: np.ndarray   # (readable files, size, size, 3) uint8, in file order; a memory map from disk
    skipped: list        # paths that could not be decoded
    source: str          # "decoded now" or the cache file it came from


def _ignore(path, reason) -> None:
    pass


def decoded_images(files: list, image_size: int, crop_size: int, cache: str, on_skip=_ignore,
                   verbose: bool = True) -> DecodedImages:
    """Every readable file decoded, from the cache folder when it holds this exact set.

    `on_skip(path, reason)` hears of each unreadable file as soon as it is found.
    """
    paths = [str(path) for path in files]
    if cache == "memory":
        images, skipped = _decode_all(paths, image_size, crop_size, on_skip, verbose)
        return DecodedImages(images, skipped, "decoded now")
    folder = Path(cache).expanduser()
    key = cache_key(paths, image_size, crop_size)
    array, manifest = folder / f"{key}.npy", folder / f"{key}.json"
    if array.exists() and manifest.exists():
        try:
            cached = _read_cache(array, manifest, len(paths), image_size, crop_size)
        except DamagedCache as why:
            print(f"warning: data.cache: {why}; decoding the images again", file=sys.stderr, flush=True)
        else:
            for path in cached.skipped:
                on_skip(path, "unreadable when the cache was built")
            return cached
    ensure_writable(folder, "data.cache: ")  # before the decode pass, not after it
    images, skipped = _decode_all(paths, image_size, crop_size, on_skip, verbose)
    atomic_write_text(manifest, json.dumps({"format": FORMAT, "files": len(paths), "image_size": image_size,
                                            "crop_size": crop_size, "skipped": skipped}, indent=1))
    _save_atomically(array, images)
    return DecodedImages(np.load(array, mmap_mode="r"), skipped, str(array))


class DamagedCache(Exception):
    """A cache file that does not hold what its manifest and key promise."""


def _read_cache(array: Path, manifest: Path, files: int, image_size: int, crop_size: int) -> DecodedImages:
    """The cached images, checked against the manifest and the key (row count, size, dtype)."""
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DamagedCache(f"{manifest} cannot be read ({type(error).__name__})") from None
    expected = {"format": FORMAT, "files": files, "image_size": image_size, "crop_size": crop_size}
    if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expected.items()) \
            or not isinstance(meta.get("skipped"), list):
        raise DamagedCache(f"{manifest} is not this cache's manifest")
    try:
        images = np.load(array, mmap_mode="r")
    except (OSError, ValueError, EOFError) as error:  # EOFError: an emptied file
        raise DamagedCache(f"{array} is damaged ({first_line(error)})") \
            from None
    shape = (files - len(meta["skipped"]), image_size, image_size, 3)
    if images.shape != shape or images.dtype != np.uint8:
        raise DamagedCache(f"{array} holds {images.dtype} {images.shape}, the manifest says uint8 {shape}")
    return DecodedImages(images, meta["skipped"], str(array))


def cache_key(paths: list[str], image_size: int, crop_size: int) -> str:
    digest = hashlib.sha256(f"{FORMAT}|{image_size}|{crop_size}".encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return f"images-{image_size}px-crop{crop_size}-{digest.hexdigest()[:16]}"


def _decode_all(paths, image_size, crop_size, on_skip, verbose) -> tuple[np.ndarray, list]:
    """One native pass over the files; a gap in the returned indices is a file that did not decode."""
    images = np.empty((len(paths), image_size, image_size, 3), np.uint8)
    kept, skipped, expected = [], [], 0
    bar = keras.utils.Progbar(len(paths), unit_name="image") if verbose else None
    if verbose:
        print(f"decoding {len(paths)} images once (data.cache)", flush=True)
    for indices, batch in decoded_files(paths, image_size, crop_size).batch(256).as_numpy_iterator():
        for index in indices:
            for missing in range(expected, int(index)):
                skipped.append(paths[missing])
                on_skip(paths[missing], "cannot be decoded")
            expected = int(index) + 1
        images[len(kept):len(kept) + len(indices)] = batch
        kept.extend(indices)
        if bar:
            bar.update(expected)
    for missing in range(expected, len(paths)):
        skipped.append(paths[missing])
        on_skip(paths[missing], "cannot be decoded")
    if bar:
        bar.update(len(paths), finalize=True)
    return images[:len(kept)], skipped


def _save_atomically(path: Path, images: np.ndarray) -> None:
    """The decoded array, readable by whoever can read the manifest beside it (a shared cache)."""
    with atomic_file(path) as file:
        np.save(file, images)
