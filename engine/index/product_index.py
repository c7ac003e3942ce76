"""``ProductIndex``: the attribute table plus photo and text vector indexes, kept consistent.

Every product owns one attribute row, one vector per photo in the photo index and one text vector.
Snapshots are written to a fresh version folder and published by atomically replacing the
``CURRENT`` pointer, so a crash never leaves a half-written index; the snapshot records the
catalogue sequence it reflects and the bundle fingerprint it was built with.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..attributes import AttributeTable
from ..config import IndexConfig
from ..encoders import resolve_device
from ..errors import DiskFullError, IncompatibleModelError, IndexMissingError
from ..types import Product
from . import spill
from .page_cache import read_through
from .vectors import VectorIndex

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 2  # 2: the attribute table saved with it (table.npz, table.json)
ROW_CHANNELS = {"cells", "signature", "palette", "shade", "kind"}  # photo channels read a few rows at a time, never searched
SEARCHED_CHANNELS = {"look", "bridge", "proto"}  # photo channels searched for candidates (planner._ann_rows): indexed as
# the shared space is (``IndexConfig.kind``: IVF lists with PQ shortlists past ``auto_flat_below`` vectors), the rest exact
READ_THROUGH_SHARE = 0.75  # of the machine's memory: the snapshot's files read into the page cache at load
# (page_cache.read_through): first the stores whose rows every query rescores by the thousand (shared space, texts,
# looks, bridges, prototypes), then the row channels, each group smallest first; the rest (at 1M products on 24 GB
# the signatures, 4 GB, and the cells, 21 GB: a few hundred rows a query) are read as their rows are asked for
BUILD_FILE = "build.txt"  # in a snapshot folder: the id of the full build it is a save of
CHANNEL_DTYPES = {"cells": np.int8}  # photo channels not stored as float32 (encoders/cells.py)


class ProductIndex:
    def __init__(self, dim: int, cfg: IndexConfig, fingerprint: str, photo_channels: dict[str, int] | None = None):
        """``photo_channels``: extra per-photo vector kinds and their sizes, e.g. {"look": 1352, "bridge": 384};
        "cells" (int8 cell codes, ``encoders/cells.py``) is stored as int8."""
        self.dim = dim
        self.photo_channels = dict(photo_channels or {})
        self.cfg = cfg
        self.fingerprint = fingerprint
        self.table = AttributeTable()
        self.photos = VectorIndex(dim, cfg)
        self.texts = VectorIndex(dim, cfg)
        self.channels = {name: VectorIndex(d, channel_config(cfg, name), CHANNEL_DTYPES.get(name, np.float32))
                         for name, d in self.photo_channels.items()}
        self.seq = 0  # catalogue sequence this index reflects
        self.look_stats: tuple[np.ndarray, np.ndarray] | None = None  # catalogue photo-feature (mean, std)
        self.look_colour_weight: float | None = None  # colour block's weight in the looks (None: snapshots before it)
        self.shared_fit: float | None = None  # domain_fit.shared_space_fit of the catalogue (None: unknown)
        self.lock = threading.RLock()
        self.build_folder: Path | None = None  # set by ``spill``: where the stores' files are until ``save``
        self.reading: threading.Thread | None = None  # set by ``load``: the thread reading its files into the page cache
        self._content = np.zeros(0, np.uint64)  # per table row: its product's ``content`` fingerprint (0: unknown)
        self.build_id = f"{os.getpid()}-{time.time_ns()}"  # which full build this is (kept by later saves of it)
        self.folder: str | None = None  # the snapshot folder this index was loaded from or last saved as
        self.saved_seq: int | None = None  # the catalogue sequence that snapshot reflects
        self.changed_since_save = 0  # product changes applied since (``SearchEngine.sync``)

    def __len__(self) -> int:
        return self.table.n_alive

    @property
    def looks(self) -> VectorIndex | None:
        return self.channels.get("look")

    @property
    def bridges(self) -> VectorIndex | None:
        return self.channels.get("bridge")

    @property
    def prototypes(self) -> VectorIndex | None:
        return self.channels.get("proto")

    @property
    def cells(self) -> VectorIndex | None:
        return self.channels.get("cells")

    @property
    def palettes(self) -> VectorIndex | None:
        return self.channels.get("palette")

    @property
    def shades(self) -> VectorIndex | None:
        """Each photo's log-probabilities of the bundle's colour reader's colours (encoders/colour_reader.py)."""
        return self.channels.get("shade")

    @property
    def colour_reads(self) -> VectorIndex | None:
        """The rows a colour reader's query part scores: ``shades``, or in an index saved without them the
        palettes, which the reader reads at query time (``QueryEncoder.colour_reader`` builds the matching part)."""
        return self.shades if self.shades is not None else self.palettes

    @property
    def kinds(self) -> VectorIndex | None:
        """Each photo's probabilities of the bundle's type reader's kinds (encoders/type_reader.py)."""
        return self.channels.get("kind")

    def upsert(self, product: Product, photo_vecs: dict[str, np.ndarray], text_vec: np.ndarray, content: int = 0) -> int:
        """Replace (or add) a product: ``photo_vecs`` maps "shared" and each photo channel to a
        (p, size) array for its p photos; ``text_vec`` is its (dim,) text vector; ``content``: the fingerprint of
        what its vectors were computed from (``product_vectors.content``; 0: unknown)."""
        with self.lock:
            self.remove(product.id)
            row = self.table.add(product)
            self._remember(np.asarray([row]), [content])
            shared = photo_vecs["shared"]
            self.photos.add(shared, np.full(len(shared), row))
            for name, vecs in self.channels.items():
                vecs.add(photo_vecs[name], np.full(len(shared), row))
            self.texts.add(text_vec[None, :], np.asarray([row]))
            return row

    def upsert_many(self, products: list[Product], photo_vecs: dict[str, np.ndarray], text_vecs: np.ndarray,
                    contents: list[int] | None = None) -> list[int]:
        """``upsert`` for many products with distinct ids at once (each channel's vectors appended in one call):
        ``photo_vecs`` maps "shared" and each photo channel to (photos, size) for all their photos in order,
        ``text_vecs`` is (products, dim), ``contents`` their fingerprints. Returns their rows."""
        if len({p.id for p in products}) != len(products):
            raise ValueError("upsert_many takes products with distinct ids")
        with self.lock:
            self.remove_many([p.id for p in products])
            rows = [self.table.add(product) for product in products]
            owners = np.repeat(np.asarray(rows, np.int64), [len(p.images) for p in products])
            self.photos.add(photo_vecs["shared"], owners)
            for name, vecs in self.channels.items():
                vecs.add(photo_vecs[name], owners)
            self.texts.add(text_vecs, np.asarray(rows, np.int64))
            self._remember(np.asarray(rows, np.int64), contents if contents is not None else [0] * len(rows))
            return rows

    def keeps_vectors_of(self, product: Product, content: int) -> bool:
        """Whether the index holds ``product``'s id with vectors computed from the same ``content`` (its text and
        photo files unchanged: only its price, category or attributes differ, or nothing)."""
        row = self.table.row_of.get(product.id)
        return bool(content) and row is not None and row < len(self._content) and int(self._content[row]) == content

    def relabel(self, products: list[Product]) -> None:
        """Apply new prices, categories and attributes of products whose vectors stay (``keeps_vectors_of``) to their
        rows in place (``AttributeTable.restate``: nothing computed, copied or added to any store or to the table; a
        price feed neither re-embeds its products nor grows the index)."""
        with self.lock:
            for product in products:
                self.table.restate(product)

    def _remember(self, rows: np.ndarray, contents) -> None:
        if len(self._content) < len(self.table.ids):
            grown = np.zeros(max(len(self.table.ids), 2 * len(self._content), 64), np.uint64)
            grown[: len(self._content)] = self._content
            self._content = grown
        self._content[rows] = np.asarray(contents, np.uint64)

    def remove(self, product_id: str) -> bool:
        with self.lock:
            row = self.table.kill(product_id)
            for store in self.stores().values() if row is not None else ():
                store.kill_owner(row)
            return row is not None

    def remove_many(self, product_ids) -> int:
        """Remove the indexed ones of ``product_ids`` (their rows and every store's vectors of them); how many."""
        with self.lock:
            rows = np.asarray([r for r in map(self.table.kill, product_ids) if r is not None], np.int64)
            for store in self.stores().values() if len(rows) else ():
                store.kill_owners(rows)
            return len(rows)

    def stores(self) -> dict[str, VectorIndex]:
        """Every vector store by the file prefix a snapshot keeps it under."""
        return {"photos": self.photos, "texts": self.texts,
                **{f"channel-{name}": vecs for name, vecs in self.channels.items()}}

    def spill(self, root: str | Path, photos: int = 0, products: int = 0) -> Path:
        """Keep every store's rows in files in a new build folder in index root ``root`` until ``save`` moves them
        into the snapshot (``spill.py``): a full build's memory then holds a chunk of products' vectors, not the
        catalogue's. ``photos``, ``products``: how many the build will add (the files' disk space is allocated
        up front). Call on an empty index; ``discard_build`` removes the folder when the build fails."""
        with self.lock:
            self.build_folder = spill.build_folder(Path(root))
            rows = self.rows_for(photos, products)
            for prefix, store in self.stores().items():
                store.spill(self.build_folder / f"{prefix}.vectors.npy", rows[prefix])
            return self.build_folder

    @contextlib.contextmanager
    def building(self, root: str | Path, photos: int, products: int, extra_bytes: int = 0):
        """``spill`` into a new build folder in index root ``root`` for the block (it yields the folder), the disk's
        free space checked first against the stores' files and ``extra_bytes`` more: ``DiskFullError`` before any
        file is made, or when the disk fills meanwhile (ENOSPC); whatever fails, the build folder is removed."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        rows = self.rows_for(photos, products)
        needed = extra_bytes + sum(rows[prefix] * store.dim * store.dtype.itemsize for prefix, store in self.stores().items())
        free = shutil.disk_usage(root).free
        if needed > free:  # at once, before the files fill the disk under a serving process's catalogue writes
            raise DiskFullError(root, needed, free)
        try:
            yield self.spill(root, photos, products)
        except BaseException as exc:
            self.discard_build()
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise DiskFullError(root, needed, free) from exc  # free: before the build's files took any
            raise

    def rows_for(self, photos: int, products: int) -> dict[str, int]:
        """How many rows each store (``stores``) holds for ``photos`` photos of ``products`` products."""
        return {prefix: products if prefix == "texts" else photos for prefix in self.stores()}

    def discard_build(self) -> None:
        spill.remove(self.build_folder)
        self.build_folder = None

    def build(self) -> None:
        with self.lock:
            for store in self.stores().values():
                store.build()

    # -- snapshots -----------------------------------------------------------------------------
    def save(self, root: str | Path) -> Path:
        """Write a new version folder, fsync it, then atomically point CURRENT at it."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        with self.lock:
            name = f"v{self.seq:09d}-{os.getpid()}-{time.time_ns()}"
            tmp = root / f".tmp-{name}"
            tmp.mkdir()
            for prefix, store in self.stores().items():
                store.save(tmp, prefix, mapped=maps_channels(self.cfg))
            self.discard_build()  # its files moved into the snapshot
            self.table.save(tmp)
            np.save(tmp / "content.npy", self._content[: len(self.table.ids)])
            if self.look_stats is not None:
                np.save(tmp / "look_stats.npy", np.stack(self.look_stats))
            meta = {"format": SNAPSHOT_FORMAT, "dim": self.dim, "photo_channels": self.photo_channels, "fingerprint": self.fingerprint,
                    "seq": self.seq, "ids": self.table.ids, "alive": self.table.alive.tolist(),
                    "look_colour_weight": self.look_colour_weight, "shared_fit": self.shared_fit}
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
            (tmp / BUILD_FILE).write_text(self.build_id)
        _fsync_tree(tmp)
        os.replace(tmp, root / name)
        for store in self.stores().values():
            store.renamed(tmp, root / name)
        _atomic_write(root / "CURRENT", name)
        _prune(root, keep=name)
        self.folder, self.saved_seq, self.changed_since_save = name, meta["seq"], 0
        return root / name

    @classmethod
    def load(cls, root: str | Path, cfg: IndexConfig, fingerprint: str,
             products: Mapping[str, Product] | Callable[[], Mapping[str, Product]]) -> "ProductIndex":
        """Load the CURRENT snapshot. Its attribute table comes with it (the catalogue as of the snapshot's
        sequence; ``SearchEngine.sync`` applies what changed since); a snapshot written before the table was
        saved with it (format 1) refills the table from ``products`` (id -> Product from the catalogue, or a
        function that reads them: only called then).

        Raises ``IndexMissingError`` when there is none and ``IncompatibleModelError`` when it was
        built with another bundle.
        """
        root = Path(root)
        pointer = root / "CURRENT"
        if not pointer.exists():
            raise IndexMissingError(f"no index in {root}; run `shopsight index` first")
        folder = root / pointer.read_text().strip()
        meta = json.loads((folder / "meta.json").read_text())
        if meta["fingerprint"] != fingerprint:
            raise IncompatibleModelError(
                f"index {folder} was built with model bundle {meta['fingerprint']}, but the loaded "
                f"bundle is {fingerprint}; rebuild the index with `shopsight index`")
        index = cls(meta["dim"], cfg, fingerprint, meta.get("photo_channels", {}))
        index.seq = meta["seq"]
        index.folder, index.build_id, index.saved_seq = folder.name, _build_of(folder), meta["seq"]
        index.look_colour_weight = meta.get("look_colour_weight")
        index.shared_fit = meta.get("shared_fit")
        table = AttributeTable.restore(folder, meta["ids"], meta["alive"])
        if table is not None:
            index.table = table
        else:  # a snapshot written before the table was saved with it: its rows as the catalogue holds them
            log.info("index snapshot %s keeps no attribute table (written before format 2): reading the catalogue; "
                     "the next `shopsight index` writes one, so workers open without that", folder.name)
            products = products() if callable(products) else products
            for pid, alive in zip(meta["ids"], meta["alive"]):
                p = products.get(pid)
                index.table.add(p if p is not None else Product(id=pid, title=pid))
                if not alive:
                    index.table.kill(pid)
        index.photos = VectorIndex.load(folder, "photos", meta["dim"], cfg, mapped=maps_channels(cfg))
        index.texts = VectorIndex.load(folder, "texts", meta["dim"], cfg, mapped=maps_channels(cfg))
        for name, d in index.photo_channels.items():
            index.channels[name] = VectorIndex.load(folder, f"channel-{name}", d, channel_config(cfg, name),
                                                    mapped=maps_channels(cfg), by_row=name in ROW_CHANNELS, train=False)
        if maps_channels(cfg):
            searched = {"photos", "texts", *(f"channel-{name}" for name in SEARCHED_CHANNELS)}
            files = {prefix: folder / f"{prefix}.vectors.npy" for prefix in index.stores()}
            index.reading = read_through([[f for p, f in files.items() if p in searched],
                                          [f for p, f in files.items() if p not in searched]],
                                         int(READ_THROUGH_SHARE * physical_memory()))
        if (folder / "content.npy").exists() and table is not None:  # (none before the thirtieth session: unknown)
            content = np.load(folder / "content.npy")
            index._remember(np.arange(len(content)), content)
        if (folder / "look_stats.npy").exists():
            stats = np.load(folder / "look_stats.npy")
            index.look_stats = (stats[0], stats[1])
        if table is None:
            index.remove_many([pid for pid in meta["ids"] if pid not in products])
        return index


def current_snapshot(root: str | Path) -> tuple[str, str] | None:
    """(folder name, build id) of the snapshot ``CURRENT`` names in ``root``; None when there is none. Two small file
    reads: a serving worker asks every few seconds whether a rebuild replaced the index it serves."""
    try:
        name = (Path(root) / "CURRENT").read_text().strip()
        return name, _build_of(Path(root) / name)
    except FileNotFoundError:
        return None


def snapshot_seq(name: str) -> int:
    """The catalogue sequence in a snapshot folder's name (``save`` names them ``v000001234-<pid>-<ns>``); -1 when
    it has none."""
    try:
        return int(name.split("-")[0][1:])
    except ValueError:
        return -1


def _build_of(folder: Path) -> str:
    """The build id saved in a snapshot folder (one written before build ids: the folder's name)."""
    try:
        return (folder / BUILD_FILE).read_text().strip()
    except FileNotFoundError:
        if folder.is_dir():
            return folder.name
        raise  # pruned since CURRENT named it: a newer one is CURRENT now


def channel_config(cfg: IndexConfig, name: str) -> IndexConfig:
    """The index configuration of photo channel ``name``: the index's own for a searched channel, exact otherwise."""
    return cfg if name in SEARCHED_CHANNELS else replace(cfg, kind="flat")


def maps_channels(cfg: IndexConfig) -> bool:
    """Whether a loaded snapshot's photo channels stay in their files (``VectorIndex.load(mapped=True)``):
    on the CPU, unless ``IndexConfig.mapped_channels`` is off (on CUDA the searched copy is the GPU's)."""
    return cfg.mapped_channels and resolve_device(cfg.device) != "cuda"


def physical_memory() -> int:
    """The machine's memory in bytes (a large figure where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fp:
        fp.write(text)
        fp.flush()
        os.fsync(fp.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _fsync_tree(folder: Path) -> None:
    for child in folder.iterdir():
        with open(child, "rb") as fp:
            os.fsync(fp.fileno())


def _prune(root: Path, keep: str) -> None:
    """Remove older versions and abandoned temporary and build folders (best effort)."""
    spill.prune(root)
    for child in root.iterdir():
        if child.is_dir() and child.name != keep and (child.name.startswith("v") or child.name.startswith(".tmp-")):
            try:
                if child.name.startswith(".tmp-") and time.time() - child.stat().st_mtime < 3600:
                    continue
            except FileNotFoundError:  # another process's, published (renamed) since the listing
                continue
            shutil.rmtree(child, ignore_errors=True)
