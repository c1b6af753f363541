"""One writer per run: OS file locks on the run directory and on each results folder.

Training takes the run exclusively (it rewrites the generator and the checkpoints); an inversion
shares the run with other inversions (it only reads the generator) but takes its results folder
exclusively, so two protocols can run side by side while a second `make invert` of the same
results, or a training, fails at once. The kernel releases a lock when its process dies, however
it dies, so a killed run never leaves a stale lock behind. Figures read only finished files
(results are written to a temporary file and renamed) and take no lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from dcgan_inversion.infra.errors import UserError

LOCK_NAME = ".lock"


class RunInUse(UserError):
    """Another process holds the lock."""


@contextlib.contextmanager
def locked(folder, command: str, exclusive: bool = True):
    """Holds `folder`/.lock (exclusively or shared) for the duration; `command` names the holder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
            raise RunInUse(f"{folder} is in use by {holder}: wait for it to finish, or stop it first") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{command} (pid {os.getpid()})\n".encode(), 0)  # names the holder for the next one
        yield
    finally:
        os.close(handle)  # releases the lock
