"""A run's results files, read and described: what the figures and tables print about a record.

`load_results` / `load_arrays` read `<run>/results/<name>.json` / `.npz` (one line saying which
command makes a missing one); the rest turns a record into the words and numbers the tables and
titles show (its phases, its counted and timed cost, its protocol), beside the paper's own numbers.
"""
from __future__ import annotations

import json
import zipfile

import numpy as np

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.rundir import RunPaths


PAPER_TABLE1 = {  # Table 1: share of ||z - z'||^2 / 100 < eps over 1000 trials, 100k updates
    "none": {"0.0001": 0.98, "0.001": 0.986, "0.01": 0.998, "0.1": 1.0},
    "standard": {"0.0001": 0.984, "0.001": 0.99, "0.01": 1.0, "0.1": 1.0},
    "stochastic": {"0.0001": 1.0, "0.001": 1.0, "0.01": 1.0, "0.1": 1.0},
}


PAPER_TABLE2 = {"none": 2.03e-4, "standard": 1.36e-4, "stochastic": 4.94e-5, "baseline": 0.0815}


def load_results(paths: RunPaths, name: str) -> dict:
    """A results JSON, or one line saying which command makes it."""
    path = paths.results / f"{name}.json"
    if not path.exists():
        option = f" --protocol {paths.protocol}" if paths.protocol else ""
        raise UserError(f"{path} is missing: run `make invert` (or dcgan-invert --run {paths.root}{option} "
                        f"--experiment {name}) first")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("experiment") != name or not isinstance(record.get("config"), dict):
            raise ValueError("not a results record of this experiment")
        if name not in ("curvature", "completion") and not isinstance(record.get("modes"), dict):
            raise ValueError("no per-mode numbers")
        return record
    except (ValueError, OSError):  # UnicodeDecodeError is a ValueError
        raise UserError(f"{path} is not a valid {name} results file: re-run `make invert`") from None


def load_arrays(paths: RunPaths, name: str) -> dict:
    path = paths.results / f"{name}.npz"
    try:
        with np.load(path) as arrays:
            return dict(arrays)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # missing, truncated, not an npz
        raise UserError(f"{path} is missing or unreadable: re-run `make invert`") from None


def counted_cost(record: dict) -> float:
    """Counted step-equivalents per row (cost.py); results written before the count existed have none,
    and a first-order-only run costs its steps."""
    if "counted_step_equivalents" in record:
        return record["counted_step_equivalents"]
    return float("nan") if record.get("polish_iterations") else record.get("first_order_step_equivalents", record["steps"])


def protocol_label(protocol: str, record: dict) -> str:
    """'authors: sgd lr 1 (step), batch-statistics BN, 100000 steps' from a protocol's record."""
    invert = record["config"]["invert"]
    norm = "batch-statistics BN" if invert.get("batch_norm") == "batch" else "moving-average BN"
    return f"{protocol}: {optimizer_text(record['config'])}, {norm}, {record['steps']} steps"


def optimizer_text(config: dict) -> str:
    invert = config["invert"]
    return f"{invert['optimizer']} lr {invert['learning_rate']:g} ({invert['schedule']})"


def model_text(config: dict) -> str:
    model = config["model"]
    return f"{model['image_size']} px gf {model['gf_dim']} ({config['data']['source']})"


def first_order_text(record: dict) -> str:
    """'300 steps', or where each row switched to the polish once its loss stalled, its mean."""
    per_row = record.get("first_order_step_equivalents", record["steps"])
    if per_row < record["steps"] - 0.5:
        return f"stall switch at ~{per_row:.0f} steps per row"
    return f"{record['steps']} steps"


def phase_text(record: dict) -> str:
    text = f"{first_order_text(record)} (first-order, at most {record['steps']})"
    if record.get("polish_iterations"):
        text += f" + {record['polish_iterations']} LM iterations ({cost_text(record)})"
    return text


def cost_text(record: dict) -> str:
    return f"{counted_cost(record):.0f} counted step-equivalents per row, {record['step_equivalents']:.0f} timed"
