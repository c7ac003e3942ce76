"""The Embedder: towers + feature cache + heads, i.e. photos and texts -> shared-space vectors.

Ingestion decodes and resizes photos in a thread pool while the tower runs on the previous batch,
so end-to-end throughput approaches the tower's own.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..config import SERVING_THREADS
from ..features import FeatureCache, image_key, text_key, tower_id
from ..images import open_image
from . import build_image_tower, build_text_tower, palette, prototypes
from .cells import decode, pack_codes, unpack_codes
from .bundle import ModelBundle
from .colour import colour_dim
from .extras import PHOTO_EXTRAS, derived_key
from .look_stats import MIN_PHOTOS_FOR_LOOK_STATS, look_statistics  # noqa: F401 (re-exported)
from ..head_word import HeadVectors
from .memo import QueryMemo
from .unit import unit

log = logging.getLogger(__name__)
_RESIZE = ThreadPoolExecutor(max_workers=SERVING_THREADS, thread_name_prefix="resize")  # query photos' other
# sides, one per concurrent query of a serving worker
CACHE_EVERY = 2048  # photos (texts: 4x) embedded between feature-cache writes (what a killed run keeps)


class Embedder:
    """Lazily builds the towers named by ``bundle``; caches their features in ``cache``."""

    def __init__(self, bundle: ModelBundle, cache: FeatureCache | None = None, device: str = "auto",
                 batch_size: int = 32, max_pixels: int = 40_000_000, runtime: str = "torch"):
        self.bundle = bundle
        self.runtime = runtime
        self.runtimes: dict[str, str] = {}  # tower -> the runtime it actually runs in (once loaded)
        self.look_stats: tuple[np.ndarray, np.ndarray] | None = None  # (mean, std) of the catalogue's photo features
        self.look_colour_weight: float | None = None  # the index's colour-block weight (None: one long block)
        self.cache = cache
        self.device = device
        self.batch_size = batch_size
        self.max_pixels = max_pixels
        self._image_tower = None
        self._text_tower = None
        self._loading = threading.RLock()  # a tower is built once, by one thread (a backlog's and a request's at once)
        self._fc = None  # the image tower's ImageNet classifier (weight, bias), for the bridge
        self.cluster = None  # a cluster.ClusterTowers: large batches of tower features run there
        self.keep_cells = False  # fresh tower passes also cache each photo's cells (an index keeps them)
        self.keep_extras: tuple[str, ...] = ("signature",)  # ... and these PHOTO_EXTRAS of the decoded photo
        self.image_tower_id = tower_id(bundle.image_tower)
        self.text_tower_id = tower_id(bundle.text_tower)
        self.memo: QueryMemo | None = None  # set by whoever searches one query several times (memo.py)
        self._heads = HeadVectors(lambda word: self.text_tower.encode([word], role="query")[0])

    def also_keep(self, *kinds: str) -> None:
        """Make fresh tower passes also cache these PHOTO_EXTRAS (once each, order kept): training keeps
        the photos' palettes for the colour reader, so it decodes no photo twice."""
        self.keep_extras = tuple(dict.fromkeys((*self.keep_extras, *kinds)))

    @classmethod
    def for_config(cls, bundle: ModelBundle, config) -> "Embedder":
        """The embedder an ``EngineConfig`` describes (feature cache, device, batch, runtime)."""
        embedder = cls(bundle, FeatureCache(config.feature_cache_path), config.device, config.batch_size,
                       config.max_image_pixels, config.runtime)
        if config.cluster:
            from ..cluster import ClusterTowers

            embedder.cluster = ClusterTowers(config.cluster)
        return embedder

    def _on_cluster(self, n: int) -> bool:
        from ..cluster import MIN_BATCH

        return self.cluster is not None and n >= MIN_BATCH

    @property
    def image_tower(self):
        return self._image_tower or self._built("image", build_image_tower, self.bundle.image_tower)

    @property
    def text_tower(self):
        return self._text_tower or self._built("text", build_text_tower, self.bundle.text_tower)

    def _built(self, kind: str, build, spec):
        """The ``kind`` ("image" / "text") tower, built (and moved to its runtime) on first use. Built whole
        before it is published: a second thread asking meanwhile waits for it instead of using it half set up or
        building another (two ONNX exports at once abort the process: torch's exporter keeps global state)."""
        with self._loading:
            tower = getattr(self, f"_{kind}_tower")
            if tower is None:
                tower = build(spec, self.device)
                self.runtimes[kind] = tower.use_runtime(self.runtime)
                setattr(self, f"_{kind}_tower", tower)
            return tower

    # -- tower features (cached) -------------------------------------------------------------
    def image_keys(self, paths: Sequence[str]) -> list[str]:
        """Feature-cache keys of image files (their content hashes: each file is read once here); the
        photo's other cached vectors (signature, shrunk features) derive theirs from these."""
        return [image_key(self.image_tower_id, p) for p in paths]

    def image_features(self, paths: Sequence[str], progress: bool = False, keys: list[str] | None = None
                       ) -> np.ndarray:
        """(n, image_dim) tower features for image files, computing only those not cached; ``keys``:
        their ``image_keys`` when already computed."""
        keys = keys if keys is not None else self.image_keys(paths)
        found = self.cache.get_many(keys) if self.cache else {}
        todo = _missing(keys, found)
        on_cluster = self._on_cluster(len(todo))
        step = self.cluster.cache_block() if on_cluster else CACHE_EVERY
        bar = tqdm(total=len(todo), desc="photos (cluster)" if on_cluster else "photos", unit="img",
                   disable=not (progress and todo))
        extra_keys = ({kind: [derived_key(k, PHOTO_EXTRAS[kind][0]) for k in keys] for kind in self.keep_extras}
                      if self.cache is not None else {})
        cell_keys = ([derived_key(k, self.cells_namespace) for k in keys]
                     if self.cache is not None and self.keep_cells and self.has_cells else None)
        self._fill(keys, todo, found, step,
                   lambda block: self._compute_image_features([paths[i] for i in block], bar, on_cluster,
                                                              {kind: [ks[i] for i in block] for kind, ks in extra_keys.items()},
                                                              cell_keys=[cell_keys[i] for i in block] if cell_keys else None))
        bar.close()
        return _stack([found[k] for k in keys], self.bundle.image_dim)

    def photo_extras(self, kind: str, paths: Sequence[str], keys: list[str] | None = None) -> np.ndarray:
        """(n, dim) vectors of image files that a function of the decoded photo gives (``PHOTO_EXTRAS``:
        "signature", "palette"), cached beside the tower features under the file's content hash
        (``keys``: the files' ``image_keys``); a tower pass over photos also caches the ``keep_extras``
        kinds from the same decoding, so only photos not seen since are decoded again here."""
        namespace, fn, dim = PHOTO_EXTRAS[kind]
        keys = [derived_key(k, namespace) for k in (keys if keys is not None else self.image_keys(paths))]
        found = self.cache.get_many(keys) if self.cache else {}
        todo = _missing(keys, found)

        def compute(block: list[int]) -> np.ndarray:
            with ThreadPoolExecutor(max_workers=2) as pool:
                return np.stack(list(pool.map(lambda i: fn(open_image(paths[i], self.max_pixels)), block)))

        self._fill(keys, todo, found, CACHE_EVERY, compute)
        return _stack([found[k] for k in keys], dim)

    @property
    def has_cells(self) -> bool:
        """The image tower gives cells (``encoders/cells.py``)."""
        return self.image_tower.cell_shape is not None

    @property
    def cells_namespace(self) -> str:
        return f"{self.image_tower_id}|cells"

    def photo_cells(self, paths: Sequence[str], keys: list[str] | None = None) -> np.ndarray:
        """(n, cells * channels) int8 cell codes of image files (``encoders/cells.py``), cached beside the
        tower features under the file's content hash (``keys``: the files' ``image_keys``). Photos whose
        cells were cached by the pass that computed their features (``keep_cells``) cost nothing here;
        the others take a tower pass."""
        tower = self.image_tower
        width = int(np.prod(tower.cell_shape))
        keys = [derived_key(k, self.cells_namespace) for k in (keys if keys is not None else self.image_keys(paths))]
        found = self.cache.get_many(keys) if self.cache else {}
        todo = _missing(keys, found)

        def compute(block: list[int]) -> np.ndarray:
            out = []
            for start in range(0, len(block), self.batch_size):
                images = [open_image(paths[i], self.max_pixels) for i in block[start:start + self.batch_size]]
                out.append(pack_codes(tower.features_and_cells(tower.prepare(images))[1]))
            return np.concatenate(out)

        self._fill(keys, todo, found, CACHE_EVERY, compute)
        return np.stack([unpack_codes(found[k])[:width] for k in keys]) if keys else np.zeros((0, width), np.int8)

    def prototype_vectors(self, paths: Sequence[str], progress: bool = False, feats: np.ndarray | None = None,
                          keys: list[str] | None = None) -> np.ndarray:
        """(n, prototypes.dim) catalogue-bridge vectors of image files (``prototypes.py``)."""
        protos = self.bundle.prototypes
        return protos.photos(self.shrunk_features(paths, protos.side, progress, feats, keys))

    def shrunk_features(self, paths: Sequence[str], side: int, progress: bool = False,
                        feats: np.ndarray | None = None, keys: list[str] | None = None) -> np.ndarray:
        """(n, image_dim) tower features (CNN + colour) of each photo shrunk to at most ``side`` px.
        Photos no larger reuse their tower features (``feats`` when already read; ``keys``: the files'
        ``image_keys``); the others take a second, cached pass."""
        keys = keys if keys is not None else self.image_keys(paths)
        feats = (self.image_features(paths, keys=keys) if feats is None else feats).copy()
        large = [i for i, p in enumerate(paths) if _longest_side(p) > side]
        if large:
            shrunk_keys = [derived_key(keys[i], f"{self.image_tower_id}|shrunk{side}") for i in large]
            found = self.cache.get_many(shrunk_keys) if self.cache else {}
            todo = [j for j, k in enumerate(shrunk_keys) if k not in found]
            bar = tqdm(total=len(todo), desc=f"photos at {side} px", unit="img", disable=not (progress and todo))
            shrink = lambda img: prototypes.shrink(img, side)  # noqa: E731
            self._fill(shrunk_keys, todo, found, CACHE_EVERY, lambda block: self._compute_image_features(
                [paths[large[j]] for j in block], bar, transform=shrink))
            bar.close()
            feats[large] = np.stack([found[k] for k in shrunk_keys])
        return feats

    def _fill(self, keys: list[str], todo: list[int], found: dict, step: int, compute: Callable) -> None:
        """Compute the features of rows ``todo`` (``compute(rows)`` -> one vector per row) in blocks of
        ``step``, each block written to the feature cache as it comes (a killed run keeps what it wrote)
        and added to ``found`` (key -> vector)."""
        for start in range(0, len(todo), step):
            block = todo[start:start + step]
            fresh = compute(block)
            new = {keys[i]: fresh[j] for j, i in enumerate(block)}
            if self.cache:
                self.cache.put_many(new)
            found.update(new)

    def _compute_image_features(self, paths: Sequence[str], bar, on_cluster: bool = False,
                                extra_keys: dict[str, list[str]] | None = None, transform: Callable | None = None,
                                cell_keys: list[str] | None = None) -> np.ndarray:
        """Tower features of ``paths``; with ``extra_keys`` (kind -> keys, ``PHOTO_EXTRAS``) each decoded
        photo's signature and palette are cached too (on a cluster the workers compute them), so
        indexing decodes every photo once; with
        ``cell_keys`` (local only) its cells from the same pass; ``transform`` (local only) changes
        each decoded photo before the tower (shrunk features)."""
        extra_keys = extra_keys or {}
        if on_cluster:
            out = self.cluster.image_features(paths, self.bundle.image_tower, self.device, self.runtime,
                                              self.max_pixels, bar, extras=tuple(extra_keys))
            at = self.bundle.image_dim
            for kind, keys in extra_keys.items():
                dim = PHOTO_EXTRAS[kind][2]
                self.cache.put_many(dict(zip(keys, out[:, at:at + dim])))
                at += dim
            return np.ascontiguousarray(out[:, :self.bundle.image_dim])
        tower = self.image_tower
        starts = range(0, len(paths), self.batch_size)

        def load(start: int):
            images = [open_image(p, self.max_pixels) for p in paths[start:start + self.batch_size]]
            extras = {kind: [PHOTO_EXTRAS[kind][1](img) for img in images] for kind in extra_keys}
            return tower.prepare([transform(img) for img in images] if transform else images), extras

        out, fresh = [], {}
        with ThreadPoolExecutor(max_workers=2) as pool:
            for start, (batch, extras) in zip(starts, _prefetch(pool, load, list(starts))):
                if cell_keys:
                    feats, cells = tower.features_and_cells(batch)
                    fresh.update(zip(cell_keys[start:start + len(batch)], pack_codes(cells)))
                else:
                    feats = tower.features(batch)
                out.append(feats)
                for kind, vecs in extras.items():
                    fresh.update(zip(extra_keys[kind][start:start + len(vecs)], vecs))
                bar.update(len(batch))
        if fresh:
            self.cache.put_many(fresh)
        return np.concatenate(out) if out else np.zeros((0, self.bundle.image_dim), np.float32)

    def text_features(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        keys = [text_key(self.text_tower_id, role, t) for t in texts]
        found = self.cache.get_many(keys) if self.cache else {}
        todo = _missing(keys, found)
        on_cluster = self._on_cluster(len(todo))
        step = self.cluster.cache_block() if on_cluster else 4 * CACHE_EVERY

        def compute(block: list[int]) -> np.ndarray:
            chunk = [texts[i] for i in block]
            if on_cluster:
                return self.cluster.text_features(chunk, role, self.bundle.text_tower, self.device, self.runtime)
            return self.text_tower.encode(chunk, role=role)

        self._fill(keys, todo, found, step, compute)
        return _stack([found[k] for k in keys], self.bundle.text_dim)

    # -- shared space -----------------------------------------------------------------------
    def embed_image_files(self, paths: Sequence[str], progress: bool = False) -> dict[str, np.ndarray]:
        """Vectors for image files: "shared" (n, dim), "look" (n, image_dim) and, when the bundle
        has the zero-shot bridge, "bridge" (n, text_dim)."""
        return self.image_vectors(self.image_features(paths, progress))

    def embed_texts(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        return self.bundle.heads.project_texts(self.text_features(texts, role))

    def embed_pil(self, images: Sequence, cell_scales: Sequence[float] | None = None) -> dict:
        """Query photos (decoded RGB PIL images) -> "shared" and "look" vectors and, with ``cell_scales``
        when the tower has cells, "cells": the photos' cells at each of ``cell_sides(cell_scales)`` (the
        tower's own side from the same pass, each other side one more pass), a list of decoded
        (n, cells, channels) arrays; never cached.
        (The bridge is compared with query *text*, so a query photo needs no bridge vector.)"""
        scales = None if cell_scales is None else tuple(cell_scales)
        return self._remembered(("photos", tuple(map(id, images)), scales), lambda: self._embed_pil(images, scales),
                                images)

    def _embed_pil(self, images: Sequence, cell_scales: Sequence[float] | None) -> dict:
        tower = self.image_tower
        if cell_scales is None or not self.has_cells:
            return self.image_vectors(tower.features(tower.prepare(images)), bridge=False)
        # the other sides' resizing (PIL, outside the GIL) runs beside the tower's first pass
        others = [_RESIZE.submit(tower.prepare, images, side) for side in self.cell_sides(cell_scales)[1:]]
        feats, codes = tower.features_and_cells(tower.prepare(images))
        channels = tower.cell_shape[1]
        cells = [decode(codes, channels)] + [decode(tower.features_and_cells(other.result())[1], channels)
                                             for other in others]
        return {**self.image_vectors(feats, bridge=False), "cells": cells}

    def cell_sides(self, scales: Sequence[float]) -> tuple[int, ...]:
        """The sides (px) a query photo's cells are taken at: the tower's own, then each other side that
        the fractions ``scales`` of it give (at least 32 px, the last block's stride)."""
        side = self.bundle.image_tower.image_size
        return (side, *sorted({max(32, round(side * s)) for s in scales} - {side}))

    def image_vectors(self, feats: np.ndarray, bridge: bool = True) -> dict[str, np.ndarray]:
        """Tower features (n, image_dim) -> "shared", "look" and (with ``bridge``) "bridge" vectors."""
        out = {"shared": self.bundle.heads.project_images(feats), "look": self.looks(feats)}
        if bridge and self.bundle.bridge_classes is not None:
            out["bridge"] = self.bridges(feats)
        return out

    def bridges(self, feats: np.ndarray) -> np.ndarray:
        from .bridge import bridge_vectors

        if self._fc is None:
            fc = self.image_tower.model._fc
            self._fc = (fc.weight.detach().float().cpu().numpy(), fc.bias.detach().float().cpu().numpy())
        return bridge_vectors(feats[:, :self._fc[0].shape[1]], *self._fc, self.bundle.bridge_classes)

    def looks(self, feats: np.ndarray) -> np.ndarray:
        """Photo-to-photo vectors. The CNN block is standardised with the catalogue's own statistics
        (``look_stats``, set by the index; else the image head's training statistics) and made unit
        length; the colour histogram (square-rooted, so its cosine is the Bhattacharyya coefficient)
        is made unit length as it is; the two are joined as [cnn, w * colour] / sqrt(1 + w^2) with
        the index's ``look_colour_weight`` w, so colour's share of the similarity is w^2 / (1 + w^2)
        for every photo. Standardising the sparse histogram bins instead amplified noise in rare bins
        (re-encoded copies fell below the near-duplicate threshold) and, as one block with the CNN,
        gave colour about 5 % on average (eval.tune_look, docs/eval/look-colour). Indexes saved before
        the weight existed (None) keep their formula: everything standardised, one unit block."""
        if self.look_stats is not None:
            mean, std = self.look_stats
        else:
            head = self.bundle.heads.image
            mean, std = head.mean.numpy(), head.std.numpy()
        colour = colour_dim(self.bundle.image_tower.colour_bins)
        w = self.look_colour_weight
        if w is None or colour == 0:
            return unit((feats - mean) / std)
        cnn = unit((feats[:, :-colour] - mean[:-colour]) / std[:-colour])
        return (np.hstack([cnn, w * unit(feats[:, -colour:])]) / np.sqrt(1.0 + w * w)).astype(np.float32)

    def embed_query_text(self, text: str, head: str | None = None, head_weight: float = 0.0
                         ) -> tuple[np.ndarray, np.ndarray]:
        """(shared-space vector, the text tower's own unit vector) for a query text; with a ``head`` word
        (``engine/head_word.py``) and ``head_weight`` > 0, the tower vector is unit(text + weight * head),
        the head's vector kept between queries (``head_word.HeadVectors``)."""
        def encode():
            raw = self.text_tower.encode([text], role="query")
            if head is not None and head_weight > 0:
                raw = unit(raw + head_weight * self._heads(head)[None]).astype(np.float32)
            return self.bundle.heads.project_texts(raw)[0], raw[0]

        return self._remembered(("text", text, head, head_weight), encode)

    def query_palette(self, image: Image.Image) -> np.ndarray:
        """A query photo's palette (``palette.photo_palette``)."""
        return self._remembered(("palette", id(image)), lambda: palette.photo_palette(image), image)

    def _remembered(self, key: tuple, compute: Callable, holding=None):
        """``compute()``, or the ``memo``'s copy of it when one is set (``holding``: what ``key`` names by identity)."""
        return compute() if self.memo is None else self.memo.get(key, compute, holding)


def _prefetch(pool: ThreadPoolExecutor, fn: Callable, items: list, depth: int = 2):
    """Map ``fn`` over ``items`` in ``pool``, keeping ``depth`` results in flight, in order."""
    pending = [pool.submit(fn, item) for item in items[:depth]]
    for i in range(len(items)):
        result = pending.pop(0).result()
        if i + depth < len(items):
            pending.append(pool.submit(fn, items[i + depth]))
        yield result


def _longest_side(path: str) -> int:
    """The photo's longer side in pixels, from its header (no decoding)."""
    with Image.open(path) as img:
        return max(img.size)


def _missing(keys: list[str], found: dict) -> list[int]:
    """One row per key not in ``found``, in order: a file or text listed twice is computed once."""
    return sorted({k: i for i, k in enumerate(keys) if k not in found}.values())


def _stack(vectors: list, dim: int) -> np.ndarray:
    return np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
