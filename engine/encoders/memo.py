"""Query encodings remembered across the searches of one query.

The evaluation searches every query with several configurations in turn (its ablations, a tuning
grid); most of them need exactly the tower passes, text encoding and palette that the first one
computed. A ``QueryMemo`` set on the Embedder (``Embedder.memo``) keeps each such encoding, keyed by
everything it depends on, and hands out copies, so no search's in-place change reaches another. Keys
name a query photo by its object identity, so a memo serves one query (its photo objects alive) and is
then dropped. A served search never sets one: every request encodes its query afresh.
"""

from __future__ import annotations

import copy
import threading
from typing import Callable, Hashable


class QueryMemo:
    """Encodings computed once per key (thread-safe: the palette is computed beside the tower pass)."""

    def __init__(self):
        self._kept: dict = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many encodings were computed rather than reused

    def get(self, key: Hashable, compute: Callable):
        with self._lock:
            known = key in self._kept
        if not known:
            value = compute()
            with self._lock:
                self.computed += 1
                self._kept.setdefault(key, value)
        return copy.deepcopy(self._kept[key])
