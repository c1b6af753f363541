"""A run's results files: writing them, reading them back, and the one rule for reusing them.

    <results>/<name>.json   numbers, resolved config, seed, versions, machine, wall time
    <results>/<name>.npz    the arrays behind them
    <results>/.state/<name> an unfinished experiment's inversion checkpoints (gone once it is written)

A record is reused instead of recomputed only when the same config (new keys at their defaults),
the same package version and the same settings made it (`reusable`): the experiments, the
verdict's calibration and anything else that caches a measurement ask the same question here.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.environment import environment, package_version
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import write_json, write_npz


def state_dir(results_dir: Path, name: str) -> Path:
    """Where an experiment's inversion checkpoints live until its results are written."""
    return Path(results_dir) / ".state" / name


def stamped(config, **numbers) -> dict:
    """A record's common part: seed, machine and versions, the resolved config and its fingerprint
    (infra/fingerprints.py: the rule every reuse follows), then the numbers."""
    from dcgan_inversion.infra.fingerprints import fingerprint

    return {"seed": config.seed, "environment": environment(), "config": config_lib.to_dict(config),
            "fingerprint": fingerprint(config), **numbers}


def generator_record(results_dir: Path) -> dict | None:
    """The generator a run's results are made on (run_generator, below) for results written inside a
    run (up to two folders down); None for results outside one (the Python API's own folders)."""
    for folder in list(Path(results_dir).resolve().parents)[:3]:
        record = run_generator(folder)
        if record is not None:
            return record
    return None


def run_generator(folder: Path) -> dict | None:
    """A run's generator: its weights file and sha256, and for an imported run where they came from
    (the package, version and pinned sum, or the file's name and sum, from imported.json); None when
    `folder` is not a run."""
    from dcgan_inversion.gan.keras_file import run_file
    from dcgan_inversion.infra.io_utils import path_sha256
    from dcgan_inversion.run.paths import RunPaths

    paths = RunPaths(Path(folder))
    weights = paths.generator_weights if paths.generator_weights.exists() else run_file(paths.root)
    if weights is None or not paths.config.exists():
        return None
    record = {"weights_file": weights.name, "weights_sha256": path_sha256(weights)}
    if not paths.imported.exists():
        return {**record, "source": "trained in this run"}
    try:
        imported = json.loads(paths.imported.read_text(encoding="utf-8"))
        pretrained = imported.get("pretrained") or {}
    except (OSError, ValueError, AttributeError):
        return {**record, "source": f"imported ({paths.imported.name} unreadable)"}
    keys = ("package", "version", "weights_sha256", "description")
    source = ({key: pretrained[key] for key in keys if key in pretrained} if pretrained
              else {"file": Path(str(imported.get("source", ""))).name, "sha256": imported.get("sha256")})
    return {**record, "source": source}


def save_results(results_dir: Path, name: str, config, seconds: float, numbers: dict, **arrays) -> dict:
    """Writes the arrays, then the JSON record (with the generator it was made on), then drops the
    experiment's checkpoints."""
    record = {"experiment": name, "wall_seconds": round(seconds, 2), **stamped(config, **numbers)}
    generator = generator_record(results_dir)
    if generator is not None:
        record["generator"] = generator
    if arrays:
        write_npz(Path(results_dir) / f"{name}.npz", **arrays)
    write_json(Path(results_dir) / f"{name}.json", record)
    drop_state(results_dir, name)
    return record


def drop_state(results_dir: Path, name: str) -> None:
    """Removes an experiment's checkpoints once its results are written (and `.state` when empty)."""
    folder = state_dir(results_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()
    except OSError:  # other experiments' checkpoints are still there, or it never existed
        pass


def reusable(path: Path, config, needs=(), **settings) -> dict | None:
    """The record in `path` if this package version made it with `config` and `settings` (and the
    files `needs` exist); None when it is missing, damaged or stale (the caller measures again)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("environment"), dict):
        return None
    same = (_same_settings(record, config)
            and record["environment"].get("dcgan_inversion") == package_version("dcgan-inversion")
            and all(record.get(key) == value for key, value in settings.items())
            and all(Path(need).exists() for need in needs))
    return record if same else None


def _same_settings(record: dict, config) -> bool:
    """The record was made with `config`: by its fingerprint (records written before fingerprints were
    kept: by their saved config, with schema keys added since at their defaults)."""
    from dcgan_inversion.infra.fingerprints import fingerprint

    if "fingerprint" in record:
        return record["fingerprint"] == fingerprint(config)
    return config_lib.is_same_config(record.get("config"), config)


def finished_record(results_dir: Path, name: str, config) -> dict | None:
    """An experiment's results, if this config and package version wrote them (with their arrays) on
    the generator the run holds now (a run trained further makes them again)."""
    record = reusable(Path(results_dir) / f"{name}.json", config, needs=[Path(results_dir) / f"{name}.npz"])
    if record is None or "generator" not in record:
        return record
    now = generator_record(results_dir)
    return record if now is None or now["weights_sha256"] == record["generator"]["weights_sha256"] else None


def load_results(paths, name: str) -> dict:
    """A results JSON of `paths` (RunPaths), or one line saying which command makes it."""
    path = paths.results / f"{name}.json"
    if not path.exists():
        option = f" --protocol {paths.protocol}" if paths.protocol else ""
        raise UserError(f"{path} is missing: run `make invert` (or dcgan-invert --run {paths.root}{option} "
                        f"--experiment {name}) first")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("experiment") != name or not isinstance(record.get("config"), dict):
            raise ValueError("not a results record of this experiment")
        if name not in ("curvature", "completion", "edits") and not isinstance(record.get("modes"), dict):
            raise ValueError("no per-mode numbers")
        return record
    except (ValueError, OSError):  # UnicodeDecodeError is a ValueError
        raise UserError(f"{path} is not a valid {name} results file: re-run `make invert`") from None


def load_arrays(paths, name: str) -> dict:
    path = paths.results / f"{name}.npz"
    try:
        with np.load(path) as arrays:
            return dict(arrays)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # missing, truncated, not an npz
        raise UserError(f"{path} is missing or unreadable: re-run `make invert`") from None


def remove_earlier_outputs(folder: Path, patterns) -> None:
    """Files an earlier run left in `folder` under `patterns` would sit beside this run's summary as if
    they were its own (a smaller batch than last time leaves old ones behind)."""
    for pattern in patterns:
        for path in Path(folder).glob(pattern):
            if path.is_file():
                path.unlink()
