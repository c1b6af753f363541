"""Loading TensorFlow so that what it logs before its logging is set up obeys `TF_CPP_MIN_LOG_LEVEL`.

While it loads, TensorFlow writes lines straight to stderr, before absl's logging is initialised,
so `TF_CPP_MIN_LOG_LEVEL` cannot filter them. Which lines appear depends on the machine: CPUs with
AVX-512 VNNI / BF16 / AMX get two `I0000 ... port.cc] oneDNN custom operations are on` lines, the
CUDA build without a driver logs its probe (`Could not find cuda drivers`, `E0000 ... failed call
to cuInit`). This module captures those lines and filters them *by their level*, as the logging
would once it is up: absl's `I`/`W`/`E`/`F` prefix (and absl's own `WARNING:` / `ERROR:` lines) against
the level in force, continuation lines going with the line they continue. Errors are kept, so a real
failure while loading still reaches the user; the only errors dropped are the CUDA probe's, and
only on machines with no NVIDIA driver, where they say nothing. On a machine with a driver the
probe's lines are kept like any other.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

# The CUDA build's probe on a machine without a driver: errors that say nothing there.
PROBE_LINES = ("failed call to cuInit", "Unable to register cuDNN factory", "Unable to register cuFFT factory",
               "Unable to register cuBLAS factory", "computation placer already registered")
LEVELS = {"I": 0, "W": 1, "E": 2, "F": 3}
ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")  # I0000 00:00:17.9 2148 port.cc:153]
ABSL_PREFIXED = re.compile(r"^(WARNING|ERROR|FATAL): ")                          # absl's own pre-init notice
PREFIX_LEVELS = {"WARNING": 1, "ERROR": 2, "FATAL": 3}
PYTHON_LINE = re.compile(r"^(Traceback \(most recent call last\):|\S+:\d+: \w*Warning: )")


def has_nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia/version").exists()


def min_log_level() -> int:
    """The level TensorFlow will filter at: `TF_CPP_MIN_LOG_LEVEL` (0 = everything), as TF parses it."""
    try:
        return max(0, int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")))
    except ValueError:
        return 0


def line_level(line: str) -> int | None:
    """A log line's level (0 info ... 3 fatal), or None for a line that does not start a log record."""
    match = ABSL_LINE.match(line)
    if match:
        return LEVELS[match.group(1)]
    match = ABSL_PREFIXED.match(line)
    return PREFIX_LEVELS[match.group(1)] if match else None


def filter_startup_lines(lines: list[str], min_level: int, driver: bool) -> list[str]:
    """The lines a user should see: records below `min_level` dropped, and without a driver the
    CUDA probe's errors too. A line without a log prefix continues the record before it and shares
    its fate (TensorFlow's multi-line INFO `To enable the following instructions: ...`), unless it
    is Python's own (a warning, a traceback): those, and lines before any record, are kept."""
    kept, keep = [], True
    for line in lines:
        level = line_level(line)
        if level is not None:
            keep = level >= min_level and (driver or not any(text in line for text in PROBE_LINES))
        elif PYTHON_LINE.match(line):
            keep = True
        if keep:
            kept.append(line)
    return kept


def load_tensorflow() -> None:
    """Imports TensorFlow and lists its devices (where the probe logs), filtering what it logs meanwhile."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(filter_startup_lines(lines, min_log_level(), has_nvidia_driver())))
            sys.stderr.flush()
