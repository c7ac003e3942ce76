"""A persistent cache of frozen-tower features, so training and re-indexing never recompute them.

Image features are keyed by tower identity + a hash of the file's bytes (so a copied, moved or
re-checked-out photo still hits, and identical photos share one entry); text features by tower
identity + role + the text's SHA-1. Stored in SQLite next to the catalogue.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .sqlite import ThreadLocalConnection, transaction


def tower_id(spec) -> str:
    """A short stable identity for a tower spec."""
    return hashlib.sha1(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()[:16]


def image_key(tower: str, path: str) -> str:
    with open(path, "rb") as f:
        digest = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    return f"{tower}|img|{digest}"


def text_key(tower: str, role: str, text: str) -> str:
    return f"{tower}|{role}|{hashlib.sha1(text.encode('utf-8')).hexdigest()}"


class FeatureCache:
    """Key -> float32 vector, in SQLite (WAL). Thread-safe: one connection per thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn = ThreadLocalConnection(self.path)
        self._conn().execute("CREATE TABLE IF NOT EXISTS features (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._conn().execute(f"SELECT key, vec FROM features WHERE key IN ({marks})", chunk):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with transaction(self._conn()) as conn:
            conn.executemany("INSERT OR REPLACE INTO features (key, vec) VALUES (?, ?)",
                             [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])
