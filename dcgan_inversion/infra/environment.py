"""Where a result was made: the machine, the library versions and the lock file they came from.

Float rounding differs between CPUs (oneDNN and Eigen pick kernels by instruction set), so the
same config and seed train a slightly different demo generator on another CPU, and every number
downstream moves with it. Each results JSON therefore names the CPU model, the GPUs, the versions
that matter and the hash of `constraints.txt`, so two results can be told apart by where they ran.
"""
from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
from pathlib import Path

LOCK_FILE = Path(__file__).resolve().parents[2] / "constraints.txt"  # beside setup.py in a checkout
PACKAGES = ("dcgan-inversion", "tensorflow", "keras", "numpy")


def cpu_model() -> str:
    """The CPU's model name (`/proc/cpuinfo` on Linux) and the cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{name}, {cores} cores"


def lock_hash() -> str:
    """sha256 (first 16 hex digits) of constraints.txt, or why there is none (an installed wheel)."""
    try:
        return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:16]
    except OSError:
        return "no constraints.txt beside the package"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict:
    """The record every results JSON carries under `environment`."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    gpu_names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
    record = {name.replace("-", "_"): package_version(name) for name in PACKAGES}
    cpu = cpu_model()
    record.update(python=platform.python_version(), cpu=cpu, gpu=", ".join(gpu_names) or "none",
                  device=", ".join(gpu_names) or cpu, lock_sha256=lock_hash())
    return record
