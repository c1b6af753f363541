"""Stopping on SIGTERM without losing work: clusters and clouds preempt jobs with SIGTERM.

A handler only records the request; the training and inversion loops look at it between steps
(`requested()`), save a checkpoint at that consistent point and raise `Preempted`, which the
command line turns into one line and exit status 143 (128 + SIGTERM). The same command resumes.
Raising from inside the handler instead would interrupt TensorFlow calls half-way through a
step's bookkeeping.
"""
from __future__ import annotations

import contextlib
import signal
import threading

from dcgan_inversion.infra.errors import UserError

EXIT_STATUS = 128 + signal.SIGTERM

_requested = threading.Event()
_interrupted = threading.Event()


class Preempted(UserError):
    """The process was asked to stop (SIGTERM) and saved what it needs to resume."""


def requested() -> bool:
    """True once SIGTERM arrived while `watching()`."""
    return _requested.is_set()


@contextlib.contextmanager
def watching():
    """Records SIGTERM for the loops to act on, for the duration of a command."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: _requested.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _requested.clear()


def interrupted() -> bool:
    """True once Ctrl-C arrived inside `interrupts_at_step_boundaries()`."""
    return _interrupted.is_set()


@contextlib.contextmanager
def interrupts_at_step_boundaries():
    """Ctrl-C (SIGINT) inside a training loop, acted on between steps like SIGTERM.

    Python raises KeyboardInterrupt wherever the main thread happens to be, also while TensorFlow's
    iterator and step threads are mid-call; unwinding and saving from there raced them and could
    abort the process (a heap corruption, exit 134) without a checkpoint. Here the first SIGINT is
    only recorded; the loop checks `interrupted()` after each step and raises KeyboardInterrupt at
    that boundary, so the checkpoint is taken with no step in flight. A second Ctrl-C interrupts
    at once, for a user who will not wait for the step to end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def record(signum, frame):
        if _interrupted.is_set():
            raise KeyboardInterrupt
        _interrupted.set()

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupted.clear()
