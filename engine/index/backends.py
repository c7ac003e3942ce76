"""Search backends behind ``VectorIndex``: FAISS (flat / IVF / HNSW, CPU or GPU) and torch on CUDA.

All take float32 unit-norm vectors and inner-product (= cosine) scores. faiss is imported lazily so
that ``import engine`` works without it; the ImportError names the extra to install.
"""

from __future__ import annotations

import logging
import math

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


def resolve_kind(cfg: IndexConfig, n: int) -> str:
    if cfg.kind not in KINDS:
        raise UnknownComponentError("index kind", cfg.kind, KINDS)
    if cfg.kind != "auto":
        return cfg.kind
    return "flat" if n < cfg.auto_flat_below else "ivf"


def build_ann(kind: str, vectors: np.ndarray, cfg: IndexConfig):
    """A trained CPU faiss index over ``vectors`` (ids = row numbers), or None for "flat"."""
    if kind == "flat":
        return None
    faiss = import_faiss()
    d = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = max(40, cfg.hnsw_m * 2)
    else:
        nlist = cfg.nlist or max(1, int(4 * math.sqrt(max(len(vectors), 1))))
        nlist = min(nlist, max(1, len(vectors) // 39))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: nlist * 256]]
        index.train(np.ascontiguousarray(sample))
    if len(vectors):
        index.add(np.ascontiguousarray(vectors))
    return index


def ann_search(index, kind: str, q: np.ndarray, k: int, allowed: np.ndarray | None, cfg: IndexConfig):
    """faiss search restricted to rows where ``allowed`` (n,) is True; returns (scores, rows)."""
    faiss = import_faiss()
    sel = None
    if allowed is not None:
        bits = np.packbits(allowed.astype(np.uint8), bitorder="little")
        sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
    if kind == "hnsw":
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(cfg.ef_search, k))
    else:
        params = faiss.SearchParametersIVF(sel=sel, nprobe=cfg.nprobe)
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
