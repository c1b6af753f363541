"""One rule for "is this the same computation?": a digest of the settings dataclasses and the
problem's arrays. Checkpoints, kept batches, the start screen and results records all reuse what
they find only when its fingerprint is this one.

Opt-in options (config fields with `opt_in` metadata: their default does what runs did before the
option existed) are left out at their default, so adding one keeps earlier runs' state reusable.
"""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np


def fingerprint(config, *inputs) -> str:
    """Identifies a computation: its settings and its inputs (arrays by their bytes, the rest by
    `settings_text`), so saved state is only reused by the run that would make it again."""
    digest = hashlib.sha256(settings_text(config).encode())
    for value in inputs:
        value = value.numpy() if hasattr(value, "numpy") else value
        is_array = isinstance(value, np.ndarray)
        digest.update(np.ascontiguousarray(value).tobytes() if is_array else settings_text(value).encode())
    return digest.hexdigest()


def _default(field: dataclasses.Field):
    """A field's default, from its factory where it has one (tuples and lists)."""
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


def settings_text(value) -> str:
    """repr() of settings, leaving out opt-in options at their default (config fields with
    `opt_in` metadata: their default does what runs did before the option existed), so adding one
    keeps the checkpoints and finished batches of earlier runs resumable."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = [f"{field.name}={settings_text(getattr(value, field.name))}" for field in dataclasses.fields(value)
                 if field.repr and not (field.metadata.get("opt_in") and getattr(value, field.name) == _default(field))]
        return f"{type(value).__qualname__}({', '.join(shown)})"
    if isinstance(value, tuple):
        items = [settings_text(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(settings_text(item) for item in value)}]"
    return repr(value)


TARGETS_TOLERANCE = 1e-5  # on a signature: float rounding of another CPU is ~1e-7, another image >= 1e-2


def targets_signature(targets) -> np.ndarray:
    """Per row, the image's mean and four fixed random projections (float64): equal up to float rounding
    for the same images, far apart for others.

    Generated targets are G(z) computed again on resume, and another CPU's kernels (AVX-512 or AVX2)
    round them differently in the last bits; a digest of their bytes would then refuse state that a
    run of hours left on another machine."""
    rows = np.asarray(targets, np.float64).reshape(len(targets), -1)
    signs = np.random.default_rng(0).choice((-1.0, 1.0), size=(rows.shape[1], 4))
    return np.concatenate([rows.mean(axis=1, keepdims=True), rows @ signs / np.sqrt(rows.shape[1])], axis=1)


@dataclasses.dataclass(frozen=True)
class ProblemKey:
    """What saved state was computed from: a digest of the settings and exact inputs (`fingerprint`),
    and the targets by their signature, so state is reused by the run that would make it again, on
    any machine."""

    digest: str
    signature: np.ndarray

    @classmethod
    def of(cls, targets, config, *inputs) -> "ProblemKey":
        return cls(fingerprint(config, *inputs), targets_signature(targets))

    def saved(self) -> dict:
        """The arrays to keep beside the state (np.savez keywords)."""
        return {"problem": np.array(self.digest), "targets_signature": self.signature}

    def matches(self, saved) -> bool:
        """Whether state saved with `saved()` (an open NPZ or a dict) is this problem's."""
        if "problem" not in saved or "targets_signature" not in saved or str(saved["problem"]) != self.digest:
            return False
        kept = np.asarray(saved["targets_signature"])
        return kept.shape == self.signature.shape and bool(np.all(np.abs(kept - self.signature) <= TARGETS_TOLERANCE))
