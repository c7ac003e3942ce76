"""Search backends behind ``VectorIndex``: numpy IVF lists (``ivf.ListIndex``), FAISS HNSW, and exact
search on a CUDA device (torch matmul + top-k, or faiss-gpu ``GpuIndexFlatIP``: ``IndexConfig.gpu_backend``).

All take float32 unit-norm vectors and inner-product (= cosine) scores. faiss is imported lazily so
that ``import engine`` works without it; the ImportError names the extra to install.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import IndexConfig
from ..errors import MissingDependencyError, UnknownComponentError
from .ivf import top_indices

log = logging.getLogger(__name__)
KINDS = ("auto", "flat", "ivf", "hnsw")
GPU_BACKENDS = ("auto", "faiss", "torch")
FAISS_GPU_MAX_K = 2048  # faiss's GPU k-selection handles k up to 2048
GPU_GATHER_SHARE = 0.05  # torch: a filter passing at most this share scores only its rows (docs/bench/gpu)


def import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise MissingDependencyError("faiss", "cpu") from exc
    return faiss


def resolve_kind(cfg: IndexConfig, n: int, device: str = "cpu") -> str:
    """The index kind for ``n`` vectors: "auto" is exact below ``auto_flat_below`` and always on a CUDA
    device (a GPU scans 1M x 256 exactly in under 1 ms, docs/figures.md "GPU"), IVF lists otherwise."""
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


def faiss_has_gpu() -> bool:
    """The installed faiss is a GPU build and sees a device (faiss-gpu), not faiss-cpu."""
    try:
        import faiss
    except ImportError:
        return False
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def gpu_exact(vectors: np.ndarray, device: str, cfg: IndexConfig):
    """The exact GPU search over ``vectors`` for ``device`` "cuda" (None on the CPU).

    "auto" takes torch: on an H100 at 1M x 256, batch-1, torch matmul + top-k answered in 0.81 ms
    against faiss-gpu's 3.41 ms (faiss selects the top-k of one query inside one thread block, so a
    single query over 1M rows is serial there; docs/figures.md "GPU"). "faiss" takes faiss-gpu (it needs a faiss
    build with GPU support: ``pip install shopsight[gpu]``); its selection runs in parallel across queries,
    so a batch costs less per query (50 queries in 4.3 ms there; torch's batch cost was not measured)."""
    if device != "cuda":
        return None
    if cfg.gpu_backend not in GPU_BACKENDS:
        raise UnknownComponentError("gpu backend", cfg.gpu_backend, GPU_BACKENDS)
    if cfg.gpu_backend == "faiss":
        if not faiss_has_gpu():
            raise MissingDependencyError("faiss-gpu", "gpu")
        return FaissGpuExact(vectors)
    return TorchExact(vectors, device)


def _no_results(nq: int, k: int):
    return np.full((nq, k), -np.inf, np.float32), np.full((nq, k), -1, np.int64)


class FaissGpuExact:
    """Exact inner-product top-k on the GPU with faiss-gpu (``GpuIndexFlatIP``).

    faiss's GPU flat index takes no ID selector, so a filter is applied to an exact top-k' over all rows,
    k' sized from the filter's share so that about 1.5 k allowed rows are expected in it: every allowed
    row outside the exact top-k' scores below every row inside it, so the allowed rows kept are the exact
    filtered top-k. When k' would pass faiss's GPU limit (a filter too selective for that) or a query's
    top-k' holds fewer than k allowed rows, that query is answered by an exact pass over just the
    allowed rows on the CPU."""

    name = "faiss-gpu"
    _resources = None  # one StandardGpuResources per process: it owns the scratch memory and streams

    def __init__(self, vectors: np.ndarray):
        faiss = import_faiss()
        if FaissGpuExact._resources is None:
            FaissGpuExact._resources = faiss.StandardGpuResources()
        self.index = faiss.GpuIndexFlatIP(FaissGpuExact._resources, vectors.shape[1])
        self.append(vectors)

    def append(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None, cpu_vectors: np.ndarray,
               share: float | None = None):
        """Top-k of each query row over the rows where ``allowed`` (n,) is True (None: every row);
        ``cpu_vectors`` are the same vectors in host memory (for the selective-filter pass). Missing
        results: -inf / -1. (``share`` is accepted for the common signature; the rows are counted.)"""
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        n = self.index.ntotal
        n_allowed = n if allowed is None else int(np.count_nonzero(allowed[:n]))
        out_s, out_r = _no_results(len(q), k)
        if n_allowed == 0 or k == 0:
            return out_s, out_r
        if n_allowed == n and k <= FAISS_GPU_MAX_K:
            s, r = self.index.search(q, min(k, n))
            out_s[:, : s.shape[1]], out_r[:, : r.shape[1]] = s, r
            return out_s, out_r
        if allowed is None:  # k past the GPU limit with no filter: the CPU pass below, over every row
            allowed = np.ones(n, bool)
        wide = min(n, max(2 * k, -(-3 * k * n // (2 * n_allowed))))
        short = list(range(len(q)))
        if wide <= FAISS_GPU_MAX_K:
            s, r = self.index.search(q, wide)
            keep = (r >= 0) & allowed[np.maximum(r, 0)]
            short = []
            for i in range(len(q)):
                got = np.flatnonzero(keep[i])[:k]
                if len(got) < min(k, n_allowed):
                    short.append(i)
                out_s[i, : len(got)], out_r[i, : len(got)] = s[i, got], r[i, got]
        if short:
            rows = np.flatnonzero(allowed[:n])
            for i in short:
                scores = cpu_vectors[rows] @ q[i]
                best = top_indices(scores, k)
                out_s[i, : len(best)], out_r[i, : len(best)] = scores[best], rows[best]
        return out_s, out_r


class TorchExact:
    """Exact inner-product top-k on a CUDA device with torch (matmul + top-k).

    Vectors live in a GPU buffer that doubles when full (an append copies only the new rows); a filter
    (``VectorIndex`` passes none when nothing is excluded) goes to the GPU as a mask: a selective one (at most ``GPU_GATHER_SHARE`` of
    the rows) scores just its rows, a broad one masks the full scan with ``masked_fill``."""

    name = "torch"

    def __init__(self, vectors: np.ndarray, device: str = "cuda"):
        import torch

        self.torch = torch
        self.device = device
        self.n = 0
        self._buf = torch.empty((0, vectors.shape[1]), dtype=torch.float32, device=device)
        self.append(vectors)

    @property
    def vectors(self):
        return self._buf[: self.n]

    def append(self, vectors: np.ndarray) -> None:
        torch, m = self.torch, len(vectors)
        if self.n + m > len(self._buf):
            grown = torch.empty((max(self.n + m, 2 * len(self._buf), 1024), self._buf.shape[1]),
                                dtype=torch.float32, device=self.device)
            grown[: self.n] = self._buf[: self.n]
            self._buf = grown
        for i in range(0, m, 65_536):  # in pieces: a memory-mapped snapshot is read-only and copied only a piece at a time
            piece = np.require(vectors[i:i + 65_536], np.float32, ["C", "W"])
            self._buf[self.n + i:self.n + i + len(piece)] = torch.from_numpy(piece).to(self.device)
        self.n += m

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None, cpu_vectors: np.ndarray | None = None,
               share: float | None = None):
        """Top-k of each query row over the rows where ``allowed`` is True (None: every row); ``share``:
        the part of the rows allowed, when the caller knows it (else counted), picks gather or mask."""
        torch = self.torch
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        qt = torch.from_numpy(q).to(self.device)
        mask = None if allowed is None else torch.from_numpy(np.ascontiguousarray(allowed[: self.n])).to(self.device)
        if mask is not None and share is None:
            share = np.count_nonzero(allowed[: self.n]) / max(self.n, 1)
        if mask is not None and share <= GPU_GATHER_SHARE:  # score only the allowed rows
            rows = mask.nonzero().squeeze(1)
            scores = qt @ self._buf.index_select(0, rows).T
            top = torch.topk(scores, min(k, len(rows)), dim=1)
            s, r = top.values.float().cpu().numpy(), rows[top.indices].cpu().numpy()
        else:
            scores = qt @ self.vectors.T
            if mask is not None:
                scores.masked_fill_(~mask, -torch.inf)
            top = torch.topk(scores, min(k, self.n), dim=1)
            s, r = top.values.float().cpu().numpy(), top.indices.cpu().numpy()
        out_s, out_r = _no_results(len(q), k)
        out_s[:, : s.shape[1]] = s
        out_r[:, : r.shape[1]] = np.where(np.isfinite(s), r, -1)
        return out_s, out_r
