"""``VectorIndex``: shared-space vectors, each owned by a product row, searchable exactly or by ANN.

Shapes: vectors are (n, d) float32 unit-norm; queries (m, d); searches return (scores (m, k), rows (m, k)) with
row -1 / score -inf padding where fewer than k rows qualify. Vectors are append-only; deleting marks them dead (the
bitmap passed to FAISS excludes them). The ANN structure is kept in CPU form; on a CUDA device exact search runs on
the GPU (torch, or faiss-gpu when ``IndexConfig.gpu_backend`` asks for it).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..config import IndexConfig
from ..encoders import resolve_device
from . import backends, ivf, page_cache
from .ivf import ListIndex, ranges
from .topk import exact_topk, pad, pad_rows, topk_of_scores  # noqa: F401 (exact_topk re-exported)
from .spill import GrowingArray, linked

log = logging.getLogger(__name__)
TAIL_FILE_SHARE = 4  # a save links a mapped store's file and writes the rows added since beside it while they are at
# most a quarter of its rows (a longer tail is written out whole with them: every worker holds a tail in memory)
DENSE_FILTER = 0.05  # share of allowed rows from which IVF scans whole lists (PQ shortlist filtered in the scan; 1M
# real vectors at 10 %: 1.18x faster than gathering the allowed rows of the probed lists), below which the allowed rows


class VectorIndex:
    """Append-only vectors with an owner (product row) each; an owner's vectors are contiguous
    (``first[owner]`` .. ``+ count[owner]``), so candidate rows map to vector rows without a scan.

    A store ``load``-ed ``mapped`` keeps the snapshot's rows in its file (``_base``, memory-mapped,
    read-only, shared by every process that maps it) and rows added later in memory (``_vecs``); read
    rows with ``take`` and score all rows with ``dot``, which see both (``vectors`` joins them: a copy)."""

    def __init__(self, dim: int, cfg: IndexConfig, dtype=np.float32):
        """``dtype`` other than float32 (int8 cell codes): stored and read by row, never searched."""
        self.dim = dim
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self._n = 0
        self._base: np.ndarray | None = None  # mapped snapshot rows 0 .. len(_base) (load(mapped=True))
        self._file: Path | None = None  # the snapshot file ``_base`` maps (the latest one linked to it)
        self._vecs = np.zeros((0, dim), dtype)  # the rows after them, in memory (with spare capacity)
        self._spill: GrowingArray | None = None  # set by ``spill``: ``_vecs`` maps this file (a build)
        self._owner = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._first = np.zeros(0, np.int64)  # per owner: its first vector row
        self._count = np.zeros(0, np.int64)  # per owner: how many vectors (0 once killed)
        self._n_live = 0  # live vectors, kept by add / kill_owner
        self._identity = True  # owner of row i is i (one vector per owner, in order): masks need no gather
        self.kind = "flat"
        self._ann = None
        self._gpu = None

    def __len__(self) -> int:
        return self._n

    @property
    def dtype(self) -> np.dtype:
        return self._vecs.dtype

    @property
    def vectors(self) -> np.ndarray:
        """All rows as one array (a joined copy when a mapped store has rows added since its load)."""
        if self._base is None:
            return self._vecs[: self._n]
        return self._base if self._n == len(self._base) else np.concatenate([self._base, self._tail])

    @property
    def rows(self):
        """All rows, indexable by row numbers or a slice, without joining a mapped store and the rows added
        since (``vectors`` would copy the whole store for each read: a search through IVF lists reads a few
        hundred rows)."""
        if self._base is None:
            return self._vecs[: self._n]
        return self._base if self._n == len(self._base) else _RowReader(self)

    @property
    def _tail(self) -> np.ndarray:
        return self._vecs[: self._n - self._n_base]

    @property
    def _n_base(self) -> int:
        return 0 if self._base is None else len(self._base)

    def take(self, rows, columns: slice = slice(None)) -> np.ndarray:
        """The vectors of ``rows`` (int array or list), (len(rows), dim), in that order; ``columns``: only
        those dimensions (a block of a long vector: only it is copied)."""
        rows = np.asarray(rows, np.int64)
        if self._base is None:
            return self._vecs[rows, columns]
        width = len(range(self.dim)[columns])
        nb, out = len(self._base), np.empty((len(rows), width), self._vecs.dtype)
        mapped = rows < nb
        out[mapped] = self._base[rows[mapped], columns]
        out[~mapped] = self._vecs[rows[~mapped] - nb, columns]
        return out

    def dot(self, q: np.ndarray) -> np.ndarray:
        """Inner products of ``q`` (d,) or (m, d) with every row: (n,) or (m, n)."""
        if self._base is None:
            return self.vectors @ q if q.ndim == 1 else q @ self.vectors.T
        out = np.concatenate([self._base @ q.T, self._tail @ q.T], axis=0)
        return out if q.ndim == 1 else out.T

    @property
    def owner(self) -> np.ndarray:
        return self._owner[: self._n]

    @property
    def alive(self) -> np.ndarray:
        return self._alive[: self._n]

    @property
    def n_alive(self) -> int:
        return self._n_live

    @property
    def on_gpu(self) -> bool:
        """Exact search runs on a CUDA device (``search_exact`` / ``search_ann`` of a flat index)."""
        return self._gpu is not None

    @property
    def gpu_backend(self) -> str | None:
        """Which exact GPU search runs ("faiss-gpu" or "torch"), None on the CPU."""
        return None if self._gpu is None else self._gpu.name

    def add(self, vectors: np.ndarray, owners: np.ndarray) -> None:
        """Append ``vectors`` (m, dim) owned by ``owners`` (m,); an owner's vectors come in one call."""
        vectors = np.ascontiguousarray(vectors, dtype=self._vecs.dtype).reshape(-1, self.dim)
        start, m = self._n - self._n_base, len(vectors)  # in memory after the mapped rows, if any
        if start + m > len(self._vecs):
            if self._spill is not None:  # a longer map of the file, nothing copied: an eighth more is enough
                self._vecs = self._spill.reserve(max(start + m, len(self._vecs) * 9 // 8))
            else:
                self._vecs = _grow(self._vecs, max(start + m, 2 * len(self._vecs), 64))
        self._vecs[start:start + m] = vectors
        self._own(np.asarray(owners, np.int64).reshape(-1))
        if isinstance(self._ann, ListIndex):  # IVF lists: a scanned tail, folded in once it grows
            self._maybe_fold_tail()
        elif self._ann is not None:
            self._ann.add(vectors)
        if self._gpu is not None:
            self._gpu.append(vectors)

    def spill(self, path: Path, rows: int = 0) -> None:
        """Keep this store's rows in the file ``path`` (memory-mapped) rather than in memory, until ``save`` moves
        that file into a snapshot (``spill.GrowingArray``): a full build's stores, so its memory does not grow with
        the catalogue. ``rows``: how many it will hold (the file is made that long at once)."""
        if self._base is not None:
            raise ValueError("a store mapped from a snapshot is not spilled")
        self._spill = GrowingArray(path, self._vecs.dtype, self.dim)
        mapped = self._spill.reserve(max(rows, len(self._vecs), 64))
        mapped[: self._n] = self._vecs[: self._n]
        self._vecs = mapped

    def _own(self, owners: np.ndarray) -> None:
        """Book the next ``len(owners)`` vector rows, already stored, to ``owners``."""
        start, m = self._n, len(owners)
        if start + m > len(self._owner):
            cap = max(start + m, 2 * len(self._owner), 64)
            self._owner, self._alive = _grow(self._owner, cap), _grow(self._alive, cap)
        self._owner[start:start + m] = owners
        self._identity = self._identity and bool(np.array_equal(owners, np.arange(start, start + m)))
        self._alive[start:start + m] = True
        self._n += m
        self._n_live += m
        if m:
            uniq, first_pos, counts = _runs(owners)
            top = int(uniq[-1]) + 1
            if top > len(self._first):
                cap = max(top, 2 * len(self._first), 64)
                self._first, self._count = _grow(self._first, cap), _grow(self._count, cap)
            self._first[uniq] = start + first_pos
            self._count[uniq] = counts

    def _maybe_fold_tail(self) -> None:
        lists, cfg = self._ann, self.cfg
        if cfg.fold_tail_at <= 0:
            return
        if self._n - lists.n_indexed >= max(cfg.fold_tail_at, cfg.fold_tail_share * lists.n_indexed):
            folded = lists.fold_tail(self.rows)
            log.debug("folded %d tail vectors into the IVF lists", folded)

    def kill_owner(self, owner: int) -> None:
        if 0 <= owner < len(self._first) and self._count[owner]:
            f, n = self._first[owner], self._count[owner]
            self._n_live -= int(self._alive[f:f + n].sum())
            self._alive[f:f + n], self._count[owner] = False, 0

    def kill_owners(self, owners: np.ndarray) -> None:
        """Mark every vector of ``owners`` dead (100,000 products of a 1M index's ten stores: 2.47 s one at a time)."""
        owners = np.unique(np.asarray(owners, np.int64))
        owners = owners[(owners >= 0) & (owners < len(self._first))]
        owners = owners[self._count[owners] > 0]
        rows = ranges(self._first[owners], self._first[owners] + self._count[owners])
        self._n_live -= int(self._alive[rows].sum())
        self._alive[rows] = False
        self._count[owners] = 0

    def rows_of(self, owner: int) -> list[int]:
        if not 0 <= owner < len(self._first):
            return []
        f = int(self._first[owner])
        return [r for r in range(f, f + int(self._count[owner])) if self._alive[r]]

    def nth_of(self, owner: int, ordinal: int) -> np.ndarray:
        """Vector number ``ordinal`` of ``owner``'s live rows (its photo number ``ordinal``: rows keep the order
        its photos were added in)."""
        return self.take([self.rows_of(owner)[ordinal]])[0]

    def rows_of_owners(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Live vector rows of every owner in ``owners`` (vectorised ``rows_of``), and for each the
        position of its owner in ``owners``."""
        owners = np.asarray(owners, np.int64)
        if not len(self._first):  # no owner has a vector (a catalogue without photos)
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        inside = owners < len(self._first)
        first = np.where(inside, self._first[np.where(inside, owners, 0)], 0)
        count = np.where(inside, self._count[np.where(inside, owners, 0)], 0)
        rows = ranges(first, first + count)
        which = np.repeat(np.arange(len(owners)), count)
        live = self._alive[rows]
        return rows[live], which[live]

    def allowed_vectors(self, owner_mask: np.ndarray) -> np.ndarray:
        """Per-vector mask from a per-owner mask (dead vectors are not allowed)."""
        if self._identity and len(owner_mask) >= self._n:
            return owner_mask[: self._n] & self.alive
        owner = self.owner
        allowed = np.zeros(self._n, bool)
        inside = owner < len(owner_mask)
        allowed[inside] = owner_mask[owner[inside]]
        return allowed & self.alive

    def build(self, kind: str | None = None) -> None:
        """(Re)build the ANN structure for the current vectors, choosing the kind by size (or ``kind``)."""
        if self._vecs.dtype != np.float32:  # stored only
            self.kind, self._ann, self._gpu = "flat", None, None
            return
        self.kind = kind or backends.resolve_kind(self.cfg, self.n_alive, self.device)
        if self.kind == "flat" and self.device != "cuda":  # exact on the CPU: nothing to build (nor to join)
            self._ann, self._gpu = None, None
            return
        self._ann = backends.build_ann(self.kind, self.vectors, self.cfg)
        self._gpu = backends.gpu_exact(self.vectors, self.device, self.cfg)

    def search_exact(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None, share: float | None = None,
                     live: bool = False):
        """Exact top-k over live rows (and ``allowed`` rows when given). ``share``: the part of the rows
        ``allowed`` passes, when the caller knows it (a hint for the GPU path); ``live``: ``allowed``
        already excludes dead vectors."""
        if self._gpu is not None:
            mask = None if allowed is None and self._n_live == self._n else self._live(allowed, live)  # None: no mask
            s, r = self._gpu.search(np.atleast_2d(q), k, mask, self.vectors, share)
            r = np.where(np.isfinite(s), r, -1)
            return pad(s, r, k)
        return topk_of_scores(self.dot(np.atleast_2d(q)), k, self._live(allowed, live))

    def _live(self, allowed: np.ndarray | None, live: bool) -> np.ndarray:
        """The live rows, restricted to ``allowed`` when given (as is when ``live``: already restricted)."""
        if allowed is None:
            return self.alive
        return allowed if live else allowed & self.alive

    def search_ann(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None, selectivity: float = 1.0,
                   live: bool = False):
        """ANN top-k (exact when the index is flat); ``allowed`` restricts rows in-index.
        ``selectivity`` (share of rows ``allowed``) widens the IVF probe for selective filters.
        ``live``: ``allowed`` already excludes dead vectors (``allowed_vectors``), so it is used as is."""
        if self._ann is None:
            return self.search_exact(q, k, allowed, selectivity if allowed is not None else None, live)
        unfiltered = allowed is None and self.n_alive == self._n
        allowed = self._live(allowed, live)
        if isinstance(self._ann, ListIndex):
            nprobe = self._ann.probe_nprobe(self.cfg.nprobe, selectivity)
            mask, dense = (None, True) if unfiltered else (allowed, selectivity >= DENSE_FILTER)
            return pad_rows([self._ann.search(qi, k, nprobe, mask, self.rows, dense)
                              for qi in np.atleast_2d(q)], k)
        return backends.ann_search(self._ann, self.kind, np.atleast_2d(q), k, allowed, self.cfg)

    # -- persistence (CPU form) --------------------------------------------------------------
    @property
    def saves_whole(self) -> bool:
        """Whether ``save`` writes every row: a mapped store with too many rows added to link its file."""
        return self._base is not None and len(self._tail) * TAIL_FILE_SHARE > len(self._base)

    def save(self, folder: Path, prefix: str, mapped: bool = True) -> None:
        """Write the store as ``prefix``.* files in ``folder``. A spilled store moves its file there (no copy) and
        from then on reads its rows from it like a ``mapped`` load (``mapped`` False: reads them into memory)."""
        if self._spill is not None:
            self._vecs.flush()
            path = self._spill.finish(self._n, folder / f"{prefix}.vectors.npy")
            self._spill = None
            if mapped:
                self._base, self._vecs = np.load(path, mmap_mode="r"), np.zeros((0, self.dim), self._vecs.dtype)
                self._file = Path(path)
            else:
                self._vecs = np.load(path)
        elif self._base is None:
            np.save(folder / f"{prefix}.vectors.npy", self.vectors)
        elif len(self._tail) * TAIL_FILE_SHARE <= len(self._base) and linked(self._file, folder / f"{prefix}.vectors.npy"):
            self._file = folder / f"{prefix}.vectors.npy"  # the new snapshot shares the published file (1M products: 38
            if len(self._tail):  # GB not copied; the older snapshot may be pruned now), the rows added since its load
                np.save(folder / f"{prefix}.tail.npy", self._tail)  # beside it, read into memory by ``load``
        else:  # mapped rows, then the rows added since, written piece by piece (no joined copy)
            out = np.lib.format.open_memmap(folder / f"{prefix}.vectors.npy", "w+", self._vecs.dtype, (self._n, self.dim))
            nb = len(self._base)
            for i in range(0, nb, 65_536):
                out[i:min(i + 65_536, nb)] = self._base[i:i + 65_536]
            out[nb:] = self._tail
            out.flush()
            del out
        np.save(folder / f"{prefix}.owner.npy", self.owner)
        np.save(folder / f"{prefix}.alive.npy", self.alive)
        if isinstance(self._ann, ListIndex):
            ivf.save(self._ann, folder / f"{prefix}.ivf")
        elif self._ann is not None:
            backends.import_faiss().write_index(self._ann, str(folder / f"{prefix}.{self.kind}.faiss"))

    def renamed(self, old: Path, new: Path) -> None:
        """The folder it was saved in, ``old`` (a save's temporary folder), is now ``new``: the next save links from there."""
        if self._file is not None and self._file.parent == old:
            self._file = new / self._file.name
        if isinstance(self._ann, ListIndex) and self._ann.files is not None and self._ann.files.parent == old:
            self._ann.files = new / self._ann.files.name

    @classmethod
    def load(cls, folder: Path, prefix: str, dim: int, cfg: IndexConfig, mapped: bool = False,
             by_row: bool = False, train: bool = True) -> "VectorIndex":
        """The snapshot's vectors in ``folder``; ``mapped``: left in the file, memory-mapped read-only, so
        every process that loads the snapshot (gunicorn's workers) shares one copy in the page cache and
        reads rows on demand (``read_through`` puts them in that cache ahead); vectors added later live in this
        process's memory beside them. ``by_row``: the store is read a few rows at a time (cells), so a page
        fault reads no further ahead; so is a store searched through IVF lists (its rows are read by number).
        ``train``: build the ANN structure the configuration asks for when the snapshot has none (else searched
        exactly until the next ``build``)."""
        vecs = np.load(folder / f"{prefix}.vectors.npy", mmap_mode="r" if mapped else None)
        tail = np.load(folder / f"{prefix}.tail.npy") if (folder / f"{prefix}.tail.npy").exists() else None
        index = cls(dim, cfg, vecs.dtype)
        owner = np.load(folder / f"{prefix}.owner.npy")
        alive = np.load(folder / f"{prefix}.alive.npy")
        if mapped:
            index._base, index._file = vecs, folder / f"{prefix}.vectors.npy"
            index._vecs = tail if tail is not None else index._vecs  # rows a save added to a linked file
            index._own(np.asarray(owner, np.int64))
        else:
            index.add(vecs if tail is None else np.concatenate([vecs, tail]), owner)
        index.kill_owners(owner[~alive])
        lists = ivf.load(folder / f"{prefix}.ivf", index.vectors, cfg.pq_codes)
        ann_files = list(folder.glob(f"{prefix}.*.faiss"))
        if lists is not None:
            index.kind, index._ann = "ivf", lists
        elif ann_files:
            index.kind = ann_files[0].suffixes[-2].lstrip(".")
            index._ann = backends.import_faiss().read_index(str(ann_files[0]))
        elif train:
            index.build()
        else:  # a snapshot saved without this index's ANN structure (one written before it had one): exact
            index.build(kind="flat")  # until the next build, rather than a k-means pass in every process opening it
        if mapped and (by_row or isinstance(index._ann, ListIndex)):
            page_cache.by_row(vecs)
        if index._ann is not None:
            index._gpu = backends.gpu_exact(index.vectors, index.device, cfg)
        return index


def _runs(owners: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(owners, return_index=True, return_counts=True)``, in one pass where they do not decrease (12.4 ms
    instead of 26.6 for a snapshot's store of 1.3M rows)."""
    if len(owners) > 1 and not (owners[1:] >= owners[:-1]).all():
        return np.unique(owners, return_index=True, return_counts=True)
    first = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
    return owners[first], first, np.diff(np.append(first, len(owners)))


class _RowReader:
    """A mapped ``VectorIndex``'s rows by number (``take``), as IVF lists read them: ``reader[rows]``,
    ``reader[a:b]``, ``len(reader)``."""

    def __init__(self, index: VectorIndex):
        self._index = index

    def __len__(self) -> int:
        return self._index._n

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)))
        return self._index.take(rows)


def _grow(arr: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros((cap,) + arr.shape[1:], arr.dtype)
    out[: len(arr)] = arr
    return out
