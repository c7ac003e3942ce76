"""Words shoppers search for that the catalogue never says: what a shop reads to write its synonyms.

A query word that no product holds, after the shop's synonyms and typo correction have had their turn
(``engine/query_rewrite.py``), is counted here: "trainers" in a shop whose titles say "Sports Shoes", a brand
it does not carry, a colour it names otherwise. Only the words, their counts and when each was last seen are
kept (never a whole query; the ``KEEP`` most searched), in ``unheard.db`` beside the catalogue, so the catalogue's own writes never wait
for it; a search never fails or waits long for it either (a write that cannot get the file within
``BUSY_MS`` is dropped and logged). ``shopsight unheard`` and ``GET /api/unheard`` list the most searched,
each with the shop's category names nearest to it in the text tower's space (``nearest``): where a synonym
for it would likely point ("trainers" -> "Sports Shoes").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .sqlite import ThreadLocalConnection, transaction

BUSY_MS = 50  # a search waits at most this long for the file; its words are dropped past that
KEEP = 10_000  # words kept at most: past that the least searched go (random strings from a bot must not grow it)
PRUNE_EVERY = 500  # records between two prunings (each process counts its own)
SCHEMA = "CREATE TABLE IF NOT EXISTS unheard (word TEXT PRIMARY KEY, n INTEGER NOT NULL, last_seen REAL NOT NULL)"
log = logging.getLogger(__name__)


class Unheard:
    """The counts of words searched that no product held (one SQLite file, shared by every worker)."""

    def __init__(self, path: str | Path, keep: int = KEEP):
        self._conn = ThreadLocalConnection(path)
        self._prepared = threading.local()  # this thread's connection, once its timeout and table are set
        self.keep = keep
        self._records = 0

    def _ready(self) -> sqlite3.Connection:
        conn = self._conn()
        if getattr(self._prepared, "conn", None) is not conn:  # once a connection, not every search
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            conn.execute(SCHEMA)
            self._prepared.conn = conn
        return conn

    def record(self, words: list[str]) -> None:
        """Count each of ``words`` once more (a failure is logged, never raised: it must not fail a search)."""
        if not words:
            return
        try:
            with transaction(self._ready()) as conn:
                conn.executemany("INSERT INTO unheard (word, n, last_seen) VALUES (?, 1, ?) ON CONFLICT (word) "
                                 "DO UPDATE SET n = n + 1, last_seen = excluded.last_seen",
                                 [(w, time.time()) for w in dict.fromkeys(words)])
                self._records += 1
                if self._records % PRUNE_EVERY == 0:
                    conn.execute("DELETE FROM unheard WHERE word NOT IN (SELECT word FROM unheard "
                                 "ORDER BY n DESC, last_seen DESC LIMIT ?)", (self.keep,))
        except sqlite3.Error as exc:
            log.warning("could not count unheard words %s: %s", words, exc)

    def top(self, k: int = 50) -> list[dict]:
        """The ``k`` words searched most often, with their counts and when each was last seen (epoch s)."""
        rows = self._ready().execute("SELECT word, n, last_seen FROM unheard ORDER BY n DESC, last_seen DESC "
                                     "LIMIT ?", (k,)).fetchall()
        return [{"word": w, "n": n, "last_seen": t} for w, n, t in rows]

    def forget(self) -> int:
        """Clear the counts (after a shop has acted on them); returns how many words there were."""
        with transaction(self._ready()) as conn:
            return conn.execute("DELETE FROM unheard").rowcount


def nearest_in(engine, words: Sequence[str], k: int = 3) -> dict[str, list[str]]:
    """``nearest`` among a ``SearchEngine``'s own categories, in its text tower's space."""
    return nearest(words, list(engine.index.table.categories),
                   lambda texts: engine.embedder.text_features(texts, "query"), k)


def nearest(words: Sequence[str], categories: Sequence[str], features: Callable[[list[str]], np.ndarray],
            k: int = 3) -> dict[str, list[str]]:
    """For each of ``words``, the ``k`` category leaves ("Men/Footwear/Sports Shoes" -> "Sports Shoes") nearest
    to it by cosine in ``features`` (the text tower's own space: ``Embedder.text_features``)."""
    leaves = sorted({c.rstrip("/").rsplit("/", 1)[-1] for c in categories if c.strip("/")})
    if not words or not leaves:
        return {w: [] for w in words}
    vecs = features([*words, *leaves])
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    sims = vecs[: len(words)] @ vecs[len(words):].T
    return {w: [leaves[j] for j in np.argsort(-sims[i], kind="stable")[:k]] for i, w in enumerate(words)}
