"""Query encodings remembered across the searches of one query.

The evaluation searches every query with several configurations in turn (its ablations, a tuning
grid); most of them need exactly the tower passes, text encoding and palette that the first one
computed. A ``QueryMemo`` set on the Embedder (``Embedder.memo``) keeps each such encoding, keyed by
everything it depends on, and hands out copies, so no search's in-place change reaches another. Keys
name a query photo by its object identity; the memo holds on to the photos it has seen, so an identity
is never reused while it lives (one memo per query keeps it small). A served search never sets one:
every request encodes its query afresh.
"""

from __future__ import annotations

import copy
import threading
from typing import Callable, Hashable


class QueryMemo:
    """Encodings computed once per key (thread-safe: the palette is computed beside the tower pass)."""

    def __init__(self):
        self._kept: dict = {}
        self._held: list = []  # the objects whose identities are in keys, kept alive
        self._lock = threading.Lock()
        self.computed = 0  # how many encodings were computed rather than reused

    def get(self, key: Hashable, compute: Callable, holding=None):
        """A copy of the value for ``key``, computed by ``compute()`` the first time; ``holding``: the
        object(s) the key names by identity, kept alive as long as the memo."""
        with self._lock:
            known = key in self._kept
        if not known:
            value = compute()
            with self._lock:
                self.computed += 1
                if key not in self._kept:
                    self._kept[key] = value
                    self._held.append(holding)
        return copy.deepcopy(self._kept[key])
