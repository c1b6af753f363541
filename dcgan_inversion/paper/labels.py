"""What the figures and tables print about a results record, and the paper's own numbers.

Turns a results record (read by `dcgan_inversion.records`) into the words and numbers the tables and
titles show (its phases, its counted and timed cost, its protocol), beside the paper's own numbers.
"""
from __future__ import annotations


PAPER_TABLE1 = {  # Table 1: share of ||z - z'||^2 / 100 < eps over 1000 trials, 100k updates
    "none": {"0.0001": 0.98, "0.001": 0.986, "0.01": 0.998, "0.1": 1.0},
    "standard": {"0.0001": 0.984, "0.001": 0.99, "0.01": 1.0, "0.1": 1.0},
    "stochastic": {"0.0001": 1.0, "0.001": 1.0, "0.01": 1.0, "0.1": 1.0},
}


PAPER_TABLE2 = {"none": 2.03e-4, "standard": 1.36e-4, "stochastic": 4.94e-5, "baseline": 0.0815}


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
