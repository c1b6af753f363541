"""Text from outside (file names) made safe to print, draw and write."""
from __future__ import annotations


def printable(text: str) -> str:
    """`text` with every byte that is not UTF-8 shown as U+FFFD. Python keeps such bytes of a file
    name as lone surrogates, which matplotlib, UTF-8 files and terminals cannot encode."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
