"""Search backends behind ``VectorIndex``: numpy IVF lists (``ivf.ListIndex``), FAISS HNSW, torch on CUDA.

All take float32 unit-norm vectors and inner-product (= cosine) scores. faiss is imported lazily so
that ``import engine`` works without it; the ImportError names the extra to install.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import IndexConfig
from ..errors import MissingDependencyError, UnknownComponentError

log = logging.getLogger(__name__)
KINDS = ("auto", "flat", "ivf", "hnsw")


def import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise MissingDependencyError("faiss", "cpu") from exc
    return faiss


def resolve_kind(cfg: IndexConfig, n: int, device: str = "cpu") -> str:
    """The index kind for ``n`` vectors: "auto" is exact below ``auto_flat_below`` and always on a CUDA
    device (a GPU scans 1M x 256 exactly in under 1 ms, README "GPU"), IVF lists otherwise."""
    if cfg.kind not in KINDS:
        raise UnknownComponentError("index kind", cfg.kind, KINDS)
    if cfg.kind != "auto":
        return cfg.kind
    return "flat" if n < cfg.auto_flat_below or device == "cuda" else "ivf"


def build_ann(kind: str, vectors: np.ndarray, cfg: IndexConfig):
    """A trained ANN structure over ``vectors`` (ids = row numbers), or None for "flat"."""
    if kind == "flat":
        return None
    if kind == "ivf":
        from .ivf import ListIndex

        return ListIndex.train(vectors, cfg.nlist, pq_codes=cfg.pq_codes)
    faiss = import_faiss()
    d = vectors.shape[1]
    index = faiss.IndexHNSWFlat(d, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = max(40, cfg.hnsw_m * 2)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors))
    return index


def bitmap_selector(allowed: np.ndarray):
    """A faiss ``IDSelectorBitmap`` passing the ids where ``allowed`` (n,) is True, and the packed bits it
    points into: the caller keeps the bits referenced until the search has returned."""
    faiss = import_faiss()
    bits = np.packbits(allowed, bitorder="little")
    return faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits)), bits


def ann_search(index, kind: str, q: np.ndarray, k: int, allowed: np.ndarray | None, cfg: IndexConfig):
    """faiss HNSW search restricted to rows where ``allowed`` (n,) is True; returns (scores, rows)."""
    faiss = import_faiss()
    sel, _bits = bitmap_selector(allowed) if allowed is not None else (None, None)  # _bits outlives the search
    params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(cfg.ef_search, k))
    scores, rows = index.search(np.ascontiguousarray(q, dtype=np.float32), k, params=params)
    return scores, rows


class TorchExact:
    """Exact inner-product top-k on a CUDA device (used when faiss-gpu is not installed)."""

    def __init__(self, vectors: np.ndarray, device: str = "cuda"):
        import torch

        self.torch = torch
        self.device = device
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors)).to(device)

    def append(self, vectors: np.ndarray) -> None:
        more = self.torch.from_numpy(np.ascontiguousarray(vectors)).to(self.device)
        self.vectors = self.torch.cat([self.vectors, more])

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None):
        torch = self.torch
        scores = torch.from_numpy(np.ascontiguousarray(q)).to(self.device) @ self.vectors.T
        if allowed is not None:
            scores[:, ~torch.from_numpy(allowed).to(self.device)] = -torch.inf
        k = min(k, scores.shape[1])
        top = torch.topk(scores, k, dim=1)
        return top.values.float().cpu().numpy(), top.indices.cpu().numpy()
