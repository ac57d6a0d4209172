"""Ids users type (faces, people, references, jobs): whole numbers in SQLite's integer range.

Checked before any query: a number beyond 64 bits makes SQLite raise OverflowError, and
``str.isdigit`` accepts characters such as "²" that ``int`` refuses.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1  # SQLite's INTEGER PRIMARY KEY range


def looks_like_id(text: str) -> bool:
    """ASCII digits only (how ids are written; anything else may be a name)."""
    return text.isascii() and text.isdecimal()


def parse_id(text: str) -> int:
    """An id from the command line; ValueError with a readable message otherwise."""
    text = text.strip()
    if not looks_like_id(text) or int(text) > MAX_ID:
        raise ValueError(f"invalid id {text!r}: expected a whole number from 0 to {MAX_ID}")
    return int(text)


def in_range(value: int) -> bool:
    """Whether an id can exist at all (a query with a larger one would overflow)."""
    return 0 <= value <= MAX_ID
