"""Loading TensorFlow without its CUDA probe's lines on machines that have no NVIDIA driver.

TensorFlow's CUDA build looks for a GPU when it loads and logs, before its logging is set up
(so `TF_CPP_MIN_LOG_LEVEL` cannot silence them), lines such as `E0000 ... failed call to
cuInit`, which read like errors to someone on a CPU. Where no driver is installed those lines say
nothing, so they are dropped; every other line TensorFlow writes while loading is passed on, and on
a machine with a driver nothing is filtered.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PROBE_LINES = ("All log messages before absl::InitializeLog() is called are written to STDERR",
               "Could not find cuda drivers on your machine", "failed call to cuInit",
               "Unable to register cuDNN factory", "Unable to register cuFFT factory",
               "Unable to register cuBLAS factory", "computation placer already registered")


def has_nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia/version").exists()


def load_tensorflow() -> None:
    """Imports TensorFlow and lists its devices (where the probe logs), dropping the probe's lines."""
    if has_nvidia_driver() or "tensorflow" in sys.modules:
        import tensorflow  # noqa: F401

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
            sys.stderr.write("".join(line for line in lines if not any(probe in line for probe in PROBE_LINES)))
            sys.stderr.flush()
