"""What the recommendation rules derive from one knowledge object, worked out once per process.

Knowledge is immutable once loaded, so text and tables derived from a single entry (a regimen's
agent list, a trial's figures in words) need not be rebuilt for every case.  Entries with list
fields cannot be hashed, so the answer is remembered by the object's identity, and the object
is kept with it: an id is never reused while its answer is remembered, and a different (even
equal) object is never given another's answer.  Answers must be immutable (tuples, strings,
frozen dataclasses) because every caller shares them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Entries remembered per derivation before it starts afresh (the shipped knowledge has far
#: fewer; the bound only matters for code that builds entries on the fly).
MAX_ENTRIES = 4096


def per_entry(fn: Callable[[K], V]) -> Callable[[K], V]:
    """Remember ``fn(entry)`` for each knowledge object, by identity, for the process."""
    memo: dict[int, tuple[K, V]] = {}

    @wraps(fn)
    def derived(entry: K) -> V:
        hit = memo.get(id(entry))
        if hit is not None and hit[0] is entry:
            return hit[1]
        answer = fn(entry)
        if len(memo) >= MAX_ENTRIES:
            memo.clear()
        memo[id(entry)] = (entry, answer)
        return answer

    return derived
