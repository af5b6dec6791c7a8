"""Identity comparisons the rebuild memos share.

A rebuild's stages hand back the same object for an input that did not change (load's
memo for a file whose stat is the same, parse's cache for the same text, ...). A stage
that kept its last results by position can then find what to redo by identity, without
comparing values or walking what each object holds.
"""

from __future__ import annotations

import itertools
import operator
from typing import Mapping, Sequence


def other_objects(last: Sequence[object], now: Sequence[object]) -> list[int]:
    """Return the positions where `now` holds another object than `last` (the two are as long)."""
    return list(itertools.compress(range(len(now)), map(operator.is_not, last, now)))


def same_objects(last: Mapping[object, object], now: Mapping[object, object]) -> bool:
    """Return whether two mappings hold the same objects under the same keys."""
    return last is now or (len(last) == len(now) and all(map(operator.is_, map(now.get, last), last.values())))
