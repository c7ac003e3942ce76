"""``ListIndex``: an inverted-file (IVF) index: contiguous lists of row ids, plus 4-bit PQ codes of
every indexed vector for fast unfiltered probes; scores are always exact in the end.

Two ways to probe the ``nprobe`` nearest lists of a query:
- *selective filter* (few allowed rows): the probed lists' row ids are checked against the filter mask
  (8 bytes each) and only the allowed vectors are gathered and scored exactly, so a selective filter
  makes the probe cheaper instead of emptying the result;
- *no filter or a dense one*: faiss ``IndexIVFPQFastScan`` (same centroids and lists, 32 bytes a vector
  at 256-d, SIMD lookup tables) returns a shortlist of max(3k, 300) rows that are rescored exactly
  from the float vectors. Reading 32 instead of 1,024 bytes a vector is what makes a 1M probe fast here:
  the float list scan is memory-bound (about 9 MB per query at nprobe 32; ``eval.scale_bench``).
  Without PQ codes (small indexes, or ``IndexConfig.pq_codes`` off) a list-ordered copy of the float
  vectors is kept and the probed lists are scanned whole (dense) or gathered (selective).

faiss ``IndexIVFFlat`` is not used: on these 2-core machines its list scan cost about 100 ns per vector.
faiss trains the centroids (k-means, BLAS) and the PQ codebooks.

Vectors added after ``build`` go to an unindexed tail that every search scans exactly, so writes are
visible at once. Once the tail passes ``IndexConfig.fold_tail_at`` rows (or that share of the indexed
rows, whichever is larger) it is folded into the lists (``fold_tail``): each tail vector joins its
nearest existing list (and gets its PQ code), without retraining, so a serving index keeps its probe
cost under writes; a full rebuild (`shopsight index`) re-trains the centroids.
Shapes: centroids (nlist, d); ``order`` (n_indexed,) row ids in list order; ``offsets`` (nlist + 1,)
list boundaries in ``order``; ``codes`` = vectors[order] when there are no PQ codes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .spill import linked


FAST_MIN = 20_000  # PQ codes only from this many indexed vectors (below, float lists are cheap)
SHORTLIST = 3  # PQ shortlist rows per wanted row, rescored exactly, and at least MIN_SHORTLIST
MIN_SHORTLIST = 300  # 1M real vectors, nprobe 32: recall@10 0.97 from a 300-row shortlist, 0.91 from 100


class ListIndex:
    def __init__(self, centroids: np.ndarray, order: np.ndarray, offsets: np.ndarray, vectors: np.ndarray,
                 fast=None):
        self.centroids = np.ascontiguousarray(centroids, np.float32)
        self.order = np.asarray(order, np.int64)
        self.offsets = np.asarray(offsets, np.int64)
        self.fast = fast  # faiss IndexIVFPQFastScan over rows [0, n_indexed) with these centroids, or None
        # without PQ codes, the float vectors in list order (contiguous list scans; 1 KB a vector at 256-d)
        self.codes = None if fast is not None else np.ascontiguousarray(vectors[self.order], np.float32)
        self.files: Path | None = None  # the stem of the files it was read from or last written as; None once changed

    @property
    def nlist(self) -> int:
        return len(self.centroids)

    @property
    def n_indexed(self) -> int:
        return len(self.order)

    @classmethod
    def train(cls, vectors: np.ndarray, nlist: int = 0, seed: int = 0, pq_codes: bool = True) -> "ListIndex":
        """k-means (faiss, on at most 64 points per list), assignment of every vector, and PQ codes
        (``pq_codes`` and at least ``FAST_MIN`` vectors)."""
        from .backends import import_faiss

        faiss = import_faiss()
        n, d = vectors.shape
        nlist = nlist or default_nlist(n)
        nlist = max(1, min(nlist, n // 39 or 1))
        rng = np.random.default_rng(seed)
        sample = vectors[np.sort(rng.permutation(n)[: nlist * 64])] if n > nlist * 64 else vectors
        km = faiss.Kmeans(d, nlist, niter=12, seed=seed, spherical=True, verbose=False,
                          min_points_per_centroid=1, max_points_per_centroid=64)
        km.train(np.ascontiguousarray(sample, np.float32))
        centroids = km.centroids.astype(np.float32)
        assign = assign_lists(centroids, vectors)
        order = np.argsort(assign, kind="stable")
        offsets = np.searchsorted(assign[order], np.arange(nlist + 1))
        fast = train_fast(centroids, vectors, seed) if pq_codes and n >= FAST_MIN else None
        return cls(centroids, order, offsets, vectors, fast)

    def fold_tail(self, vectors: np.ndarray) -> int:
        """Fold the tail rows ``vectors[n_indexed:]`` into their nearest lists (centroids unchanged);
        returns how many rows were folded."""
        start, end = self.n_indexed, len(vectors)
        if end <= start:
            return 0
        tail = np.arange(start, end, dtype=np.int64)
        self.files = None
        list_of = np.concatenate([np.repeat(np.arange(self.nlist), np.diff(self.offsets)),
                                  assign_lists(self.centroids, vectors[start:end])])
        rows = np.concatenate([self.order, tail])
        by_list = np.argsort(list_of, kind="stable")  # existing rows keep their order inside a list
        self.order = rows[by_list]
        self.offsets = np.searchsorted(list_of[by_list], np.arange(self.nlist + 1))
        if self.fast is not None:
            self.fast.add(np.ascontiguousarray(vectors[start:end], np.float32))  # ids continue at n_indexed
        else:
            self.codes = np.ascontiguousarray(vectors[self.order], np.float32)
        return end - start

    def nbytes(self) -> int:
        """Memory beside the vectors: centroids, row ids in list order, PQ codes with their ids."""
        fast = 0
        if self.fast is not None:
            from .backends import import_faiss

            fast = len(import_faiss().serialize_index(self.fast))
        codes = 0 if self.codes is None else self.codes.nbytes
        return self.centroids.nbytes + self.order.nbytes + self.offsets.nbytes + codes + fast

    def probe_nprobe(self, nprobe: int, selectivity: float) -> int:
        """Lists to probe: ``nprobe`` unfiltered, more as the filter passes a smaller share of rows
        (the filtered top-k lie further out), so a selective filter never starves the result."""
        boost = max(selectivity, 1e-6) ** -0.3  # 2x at 10 %, 4x at 1 % (eval.scale_bench: recall >= 0.95)
        return int(min(self.nlist, math.ceil(nprobe * boost)))

    def search(self, q: np.ndarray, k: int, nprobe: int, allowed: np.ndarray | None,
               vectors: np.ndarray, dense: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) for one query ``q`` (d,) among indexed rows in the ``nprobe`` nearest
        lists plus every tail row (``vectors[n_indexed:]``), keeping rows where ``allowed`` is True.
        ``dense``: most rows are allowed, so the PQ shortlist (filtered in the scan) is used when built."""
        if self.fast is not None and (allowed is None or dense):
            rows = self._shortlist(q, max(SHORTLIST * k, MIN_SHORTLIST), nprobe, allowed)
            scores = vectors[rows] @ q
        else:
            lists = top_indices(self.centroids @ q, nprobe)
            starts, ends = self.offsets[lists], self.offsets[lists + 1]
            if self.codes is not None and (allowed is None or dense):  # contiguous slices, BLAS on each
                scores = np.concatenate([self.codes[s:e] @ q for s, e in zip(starts.tolist(), ends.tolist())])
                rows = self.order[ranges(starts, ends)]
                if allowed is not None:
                    keep = allowed[rows]
                    scores, rows = scores[keep], rows[keep]
            else:  # read row ids first, then only the vectors the filter allows
                pos = ranges(starts, ends)
                rows = self.order[pos]
                keep = allowed[rows]
                pos, rows = pos[keep], rows[keep]
                scores = self.codes[pos] @ q if self.codes is not None else vectors[rows] @ q
        tail = np.arange(self.n_indexed, len(vectors))
        if allowed is not None and len(tail):
            tail = tail[allowed[self.n_indexed:len(vectors)]]
        if len(tail):
            scores = np.concatenate([scores, vectors[tail] @ q])
            rows = np.concatenate([rows, tail])
        best = top_indices(scores, k)
        return scores[best], rows[best]

    def _shortlist(self, q: np.ndarray, k: int, nprobe: int, allowed: np.ndarray | None) -> np.ndarray:
        """Rows of the PQ top-``k`` in the ``nprobe`` nearest lists, among ``allowed`` rows."""
        from .backends import bitmap_selector, import_faiss

        sel, _bits = bitmap_selector(allowed[: self.n_indexed]) if allowed is not None else (None, None)
        params = import_faiss().SearchParametersIVF(nprobe=nprobe, sel=sel)  # sel and _bits outlive the search
        _, ids = self.fast.search(q[None, :], k, params=params)
        return ids[0][ids[0] >= 0]


def save(index: ListIndex, stem: Path) -> None:
    """Write ``index`` as ``<stem>.lists.npz`` and its PQ codes as ``<stem>.pq``; hard links to the files it was read
    from or last written as while nothing was folded into it since (a checkpoint after a feed: ~0.5 GB at 1M)."""
    names = [".lists.npz", ".pq"] if index.fast is not None else [".lists.npz"]
    if index.files is None or not all(linked(Path(f"{index.files}{n}"), Path(f"{stem}{n}")) for n in names):
        for n in names:
            Path(f"{stem}{n}").unlink(missing_ok=True)
        np.savez(f"{stem}.lists.npz", centroids=index.centroids, order=index.order, offsets=index.offsets)
        if index.fast is not None:
            from .backends import import_faiss

            import_faiss().write_index(index.fast, f"{stem}.pq")
    index.files = stem


def load(stem: Path, vectors: np.ndarray, pq_codes: bool) -> ListIndex | None:
    """The index ``save`` wrote as ``stem`` (its PQ codes read when ``pq_codes``), or None where there is none."""
    if not Path(f"{stem}.lists.npz").exists():
        return None
    from .backends import import_faiss

    pq = Path(f"{stem}.pq")
    fast = import_faiss().read_index(str(pq)) if pq.exists() and pq_codes else None
    with np.load(f"{stem}.lists.npz") as z:
        index = ListIndex(z["centroids"], z["order"], z["offsets"], vectors, fast)
    index.files = stem if fast is not None or not pq.exists() else None  # (without its codes: not as written)
    return index


def train_fast(centroids: np.ndarray, vectors: np.ndarray, seed: int = 0):
    """faiss ``IndexIVFPQFastScan`` on the given centroids (4 bits x d/4 sub-vectors: 32 bytes at 256-d),
    codebooks trained on a sample of at most 65,536 vectors; None when d is not a multiple of 8."""
    from .backends import import_faiss

    faiss = import_faiss()
    n, d = vectors.shape
    if d % 8:
        return None
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(centroids)
    fast = faiss.IndexIVFPQFastScan(quantizer, d, len(centroids), d // 4, 4, faiss.METRIC_INNER_PRODUCT)
    fast.by_residual = True  # codes of each vector's offset from its list's centroid (python -m eval.channel_recall:
    # the zero-shot bridges, a narrow cone, recall@10 0.558 -> 0.962 at the same speed; shared space 0.990 either way)
    fast.own_fields = True
    quantizer.this.disown()
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.permutation(n)[:65_536])] if n > 65_536 else vectors
    fast.train(np.ascontiguousarray(sample, np.float32))
    for start in range(0, n, 65_536):  # a block at a time: a build's stores are file-backed (index/spill.py)
        fast.add(np.ascontiguousarray(vectors[start:start + 65_536], np.float32))
    return fast


def default_nlist(n: int) -> int:
    return max(1, int(4 * math.sqrt(max(n, 1))))


def assign_lists(centroids: np.ndarray, vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Nearest centroid (inner product) of every vector, in BLAS-sized chunks."""
    out = np.empty(len(vectors), np.int64)
    for s in range(0, len(vectors), chunk):
        out[s:s + chunk] = np.argmax(vectors[s:s + chunk] @ centroids.T, axis=1)
    return out


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``scores``, best first."""
    k = min(k, len(scores))
    if k == 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.argsort(-scores[part], kind="stable")]


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for each (s, e), vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + shift
