"""How the pages write numbers: one filter per style, so the same kind of number reads the same everywhere
(and `decades` and `median`, the two quantities the pages derive from a result rather than quote)."""
from __future__ import annotations

import math
import statistics


def percent(share: float, digits: int = 0) -> str:
    """A share as a percentage: 0.9375 -> '94%'."""
    return f"{100 * share:.{digits}f}%"


def within(share: float) -> str:
    """An upper bound as a percentage, rounded up so "within" stays true: 0.0831 -> '8.4%'."""
    return f"{math.ceil(1000 * share - 1e-9) / 10:.1f}%"


def count(value: float) -> str:
    """A count or a cost, rounded, thousands separated: 1753.2 -> '1,753'."""
    return f"{round(value):,}"


def sci(value: float, digits: int = 1) -> str:
    """A small or large quantity in scientific notation: 1.34e-13 -> '1.3e-13'."""
    return f"{value:.{digits}e}"


def fixed(value: float, digits: int = 2) -> str:
    """A plain decimal: fixed(0.08164, 3) -> '0.082'."""
    return f"{value:.{digits}f}"


def sig(value: float, digits: int = 2) -> str:
    """A quantity to `digits` significant digits: 0.04743 -> '0.047'."""
    return f"{value:.{digits}g}"


def decades(value: float, reference: float) -> float:
    """How many powers of ten `value` lies above `reference` (negative: below): log10(value / reference)."""
    return math.log10(value / reference)


def median(values) -> float:
    """The median of a list of numbers (a category's per-image errors)."""
    return statistics.median(values)


def joined(values, separator: str = " / ") -> str:
    """Values already formatted, in one cell: 'a / b / c'."""
    return separator.join(str(value) for value in values)


def at(mapping, key):
    """`mapping[key]`, for `map`: `map("at", "0.0001")` where `map(attribute=...)` would read the dots in a
    threshold's name as nested attributes."""
    return mapping[key]


def extract(key, mapping):
    """`at` with its arguments the other way round, for mapping keys to entries:
    `modes | map("extract", record.modes)` is each mode's entry in the order of `modes` (a table's
    column order, not the file's)."""
    return at(mapping, key)


FILTERS = {"extract": extract, "at": at, "percent": percent, "within": within, "count": count, "sci": sci, "fixed": fixed, "sig": sig, "joined": joined,
           "decades": decades, "median": median}
