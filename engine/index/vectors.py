"""``VectorIndex``: shared-space vectors, each owned by a product row, searchable exactly or by ANN.

Shapes: vectors are (n, d) float32 unit-norm; queries (m, d); searches return (scores (m, k),
rows (m, k)) with row -1 / score -inf padding where fewer than k rows qualify. Vectors are
append-only; deleting marks them dead (the bitmap passed to FAISS excludes them). The ANN
structure is kept in CPU form; on a CUDA device exact search runs on the GPU (faiss-gpu when
installed, torch otherwise).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..config import IndexConfig
from ..encoders import resolve_device
from . import backends

log = logging.getLogger(__name__)


def exact_topk(vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None):
    """Brute-force reference: top-k inner products of ``q`` (m, d) over ``vectors`` (n, d)."""
    q = np.atleast_2d(q)
    n = len(vectors)
    scores = q @ vectors.T if n else np.zeros((len(q), 0), np.float32)
    if allowed is not None:
        scores = np.where(allowed[None, :], scores, -np.inf)
    k_eff = min(k, n)
    out_s = np.full((len(q), k), -np.inf, np.float32)
    out_r = np.full((len(q), k), -1, np.int64)
    if k_eff == 0:
        return out_s, out_r
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff] if k_eff < n else np.tile(np.arange(n), (len(q), 1))
    part_s = np.take_along_axis(scores, part, 1)
    order = np.argsort(-part_s, axis=1, kind="stable")
    out_r[:, :k_eff] = np.take_along_axis(part, order, 1)
    out_s[:, :k_eff] = np.take_along_axis(part_s, order, 1)
    out_r[~np.isfinite(out_s)] = -1
    return out_s, out_r


class VectorIndex:
    def __init__(self, dim: int, cfg: IndexConfig):
        self.dim = dim
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self._vecs = np.zeros((0, dim), np.float32)
        self._owner = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._by_owner: dict[int, list[int]] = {}
        self.kind = "flat"
        self._ann = None
        self._gpu = None

    def __len__(self) -> int:
        return len(self._owner)

    @property
    def vectors(self) -> np.ndarray:
        return self._vecs[: len(self._owner)]

    @property
    def owner(self) -> np.ndarray:
        return self._owner

    @property
    def alive(self) -> np.ndarray:
        return self._alive

    @property
    def n_alive(self) -> int:
        return int(self._alive.sum())

    def add(self, vectors: np.ndarray, owners: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        start = len(self._owner)
        if start + len(vectors) > len(self._vecs):
            grown = np.zeros((max(start + len(vectors), 2 * len(self._vecs), 64), self.dim), np.float32)
            grown[:start] = self._vecs[:start]
            self._vecs = grown
        self._vecs[start:start + len(vectors)] = vectors
        self._owner = np.concatenate([self._owner, np.asarray(owners, np.int64)])
        self._alive = np.concatenate([self._alive, np.ones(len(vectors), bool)])
        for i, o in enumerate(owners):
            self._by_owner.setdefault(int(o), []).append(start + i)
        if self._ann is not None:
            self._ann.add(vectors)
        if self._gpu is not None:
            self._gpu.append(vectors)

    def kill_owner(self, owner: int) -> None:
        for row in self._by_owner.pop(int(owner), []):
            self._alive[row] = False

    def rows_of(self, owner: int) -> list[int]:
        return self._by_owner.get(int(owner), [])

    def build(self) -> None:
        """(Re)build the ANN structure for the current vectors, choosing the kind by size."""
        self.kind = backends.resolve_kind(self.cfg, self.n_alive)
        self._ann = backends.build_ann(self.kind, self.vectors, self.cfg)
        self._gpu = backends.TorchExact(self.vectors, self.device) if self.device == "cuda" else None

    def search_exact(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None):
        """Exact top-k over live rows (and ``allowed`` rows when given)."""
        allowed = self._alive if allowed is None else (allowed & self._alive)
        if self._gpu is not None:
            s, r = self._gpu.search(np.atleast_2d(q), k, allowed)
            r = np.where(np.isfinite(s), r, -1)
            return _pad(s, r, k)
        return exact_topk(self.vectors, q, k, allowed)

    def search_ann(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None):
        """ANN top-k (exact when the index is flat); ``allowed`` restricts rows in-index."""
        if self._ann is None:
            return self.search_exact(q, k, allowed)
        allowed = self._alive if allowed is None else (allowed & self._alive)
        return backends.ann_search(self._ann, self.kind, np.atleast_2d(q), k, allowed, self.cfg)

    # -- persistence (CPU form) --------------------------------------------------------------
    def save(self, folder: Path, prefix: str) -> None:
        np.save(folder / f"{prefix}.vectors.npy", self.vectors)
        np.save(folder / f"{prefix}.owner.npy", self._owner)
        np.save(folder / f"{prefix}.alive.npy", self._alive)
        if self._ann is not None:
            backends.import_faiss().write_index(self._ann, str(folder / f"{prefix}.{self.kind}.faiss"))

    @classmethod
    def load(cls, folder: Path, prefix: str, dim: int, cfg: IndexConfig) -> "VectorIndex":
        index = cls(dim, cfg)
        vecs = np.load(folder / f"{prefix}.vectors.npy")
        owner = np.load(folder / f"{prefix}.owner.npy")
        index.add(vecs, owner)
        index._alive = np.load(folder / f"{prefix}.alive.npy")
        for o in set(owner[~index._alive].tolist()):
            index._by_owner[o] = [r for r in index._by_owner.get(o, []) if index._alive[r]]
        ann_files = list(folder.glob(f"{prefix}.*.faiss"))
        if ann_files:
            index.kind = ann_files[0].suffixes[-2].lstrip(".")
            index._ann = backends.import_faiss().read_index(str(ann_files[0]))
            index._gpu = backends.TorchExact(index.vectors, index.device) if index.device == "cuda" else None
        else:
            index.build()
        return index


def _pad(s: np.ndarray, r: np.ndarray, k: int):
    if s.shape[1] >= k:
        return s, r
    ps = np.full((s.shape[0], k), -np.inf, np.float32)
    pr = np.full((s.shape[0], k), -1, np.int64)
    ps[:, : s.shape[1]], pr[:, : s.shape[1]] = s, r
    return ps, pr
