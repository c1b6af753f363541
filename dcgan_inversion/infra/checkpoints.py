"""Resuming from the newest checkpoint that reads completely.

A full disk or an interrupted copy leaves a checkpoint whose data file is short; TensorFlow then
fails deep in its reader (`IndexError: Read less bytes than requested`, `DataLossError`). Such a
checkpoint is moved aside to `<folder>/damaged/` (never deleted) with one warning line, and the
next older one is tried. A checkpoint of another model is not damaged: that error goes on to the
caller.
"""
from __future__ import annotations

import sys
from pathlib import Path

import tensorflow as tf

from dcgan_inversion.infra.errors import UserError, first_line

DAMAGED = (IndexError, tf.errors.DataLossError, tf.errors.NotFoundError, tf.errors.OutOfRangeError)


def restore_newest_intact(checkpoint: tf.train.Checkpoint, folder) -> str | None:
    """Restores the newest intact checkpoint in `folder`; its path, or None when there is none.

    One `UserError` line when checkpoints exist but none of them can be read.
    """
    folder = Path(folder)
    state = tf.train.get_checkpoint_state(str(folder))
    listed = list(state.all_model_checkpoint_paths) if state else []
    found = bool(listed)
    for path in reversed(listed):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except DAMAGED as error:
            set_aside(path, error)
            listed.remove(path)
            _rewrite_state(folder, listed)
    if found:
        raise UserError(f"no checkpoint in {folder} can be read (damaged ones are in {folder / 'damaged'}): "
                        f"delete {folder} to start this run afresh")
    return None


def set_aside(path, error: BaseException, *companions: Path, then: str = "trying an older one") -> None:
    """Moves `path` (a checkpoint prefix: `ckpt-N.index`, `ckpt-N.data-*`; or a file) and `companions`
    into `damaged/` beside them, with one warning line that ends with what happens `then`."""
    prefix = Path(path)
    target = prefix.parent / "damaged"
    target.mkdir(exist_ok=True)
    for part in [prefix, *prefix.parent.glob(prefix.name + ".*"), *companions]:
        if part.is_file():
            part.replace(target / part.name)
    reason = first_line(error)
    print(f"warning: {path} is damaged ({reason}); moved it to {target}, {then}", file=sys.stderr, flush=True)


def _rewrite_state(folder: Path, listed: list[str]) -> None:
    """The `checkpoint` index file lists only the checkpoints still there (newest last)."""
    if listed:
        tf.compat.v1.train.update_checkpoint_state(str(folder), listed[-1], all_model_checkpoint_paths=listed)
    else:
        (folder / "checkpoint").unlink(missing_ok=True)
