"""Products -> the vectors the index keeps for them: every photo in every channel, and the text.

The "encoders + heads -> shared space vectors" step of the flow for catalogue products (``engine.py`` applies
them to the index; ``backlog.py`` computes them ahead, in the background, for a large batch of changes). Each
tower pass is cached under the photo file's content hash (``features.FeatureCache``), so computing a
product's vectors a second time costs reading its file and the cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .catalog import stored_photo
from .encoders.extras import photo_extras_of
from .types import Product

CHUNK = 2_000  # products a full build (or a sync) embeds and indexes together: the whole catalogue's channel vectors
# at once took about 30 kB a photo beside the index's own copy (python -m eval.engine_scale_bench --build)


def content(product: Product, root: Path | None = None) -> int:
    """A fingerprint (non-zero 64-bit int) of what a product's vectors are computed from: its text and its photo
    files (path, size and modification time: a file replaced in place changes it, and no photo is read). ``root``:
    the data folder, photo paths inside it counted as stored, relative to it (a folder moved or restored from a
    backup elsewhere keeps its fingerprints)."""
    h = hashlib.blake2b(product.text().encode("utf-8"), digest_size=8)
    for path in product.images:
        ref = stored_photo(path, root) if root is not None else path
        try:
            st = os.stat(path)
            h.update(f"\0{ref}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape"))
        except OSError:
            h.update(f"\0{ref}\0missing".encode("utf-8", "surrogateescape"))
    return int.from_bytes(h.digest(), "little") | 1


def chunks(products: list[Product], feats: np.ndarray, keys: list[str], progress: bool = False):
    """(products, their photos' features, their photos' keys), ``CHUNK`` products at a time, with a progress bar."""
    from tqdm import tqdm

    at = 0
    with tqdm(total=len(products), desc="index", unit="product", disable=not progress) as bar:
        for start in range(0, len(products), CHUNK):
            chunk = products[start:start + CHUNK]
            n = sum(len(p.images) for p in chunk)
            yield chunk, feats[at:at + n], keys[at:at + n]
            at += n
            bar.update(len(chunk))


def vectors(embedder, index, products: list[Product], progress: bool = False, feats: np.ndarray | None = None,
            keys: list[str] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({channel: (photos, dim)} in the order of the products' photos, (products, dim) text vectors);
    ``feats`` and ``keys``: the photos' tower features and ``image_keys`` when already read (each photo
    file is hashed once for all its channels)."""
    paths = [path for p in products for path in p.images]
    if paths:
        keys = keys if keys is not None else embedder.image_keys(paths)
        if feats is None:
            feats = embedder.image_features(paths, progress, keys)
        photo_vecs = embedder.image_vectors(feats)
        for kind in photo_extras_of(index.photo_channels):
            photo_vecs[kind] = embedder.photo_extras(kind, paths, keys)
        if "proto" in index.photo_channels:
            photo_vecs["proto"] = embedder.prototype_vectors(paths, progress, feats, keys)
        if "cells" in index.photo_channels:
            photo_vecs["cells"] = embedder.photo_cells(paths, keys)
        if "shade" in index.photo_channels:
            photo_vecs["shade"] = embedder.bundle.colours.reader.log_probabilities(photo_vecs["palette"])
        if "kind" in index.photo_channels:
            photo_vecs["kind"] = embedder.bundle.types.probabilities(photo_vecs["look"])
    else:
        photo_vecs = {"shared": np.zeros((0, index.dim), np.float32),
                      **{n: np.zeros((0, d), np.float32) for n, d in index.photo_channels.items()}}
    return photo_vecs, embedder.embed_texts([p.text() for p in products], "passage")
