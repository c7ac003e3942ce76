"""A full index build: every catalogue product embedded from scratch into a fresh index snapshot.

    catalogue products -> their photos' content keys
      -> tower features, a block of photos at a time (cached; their mean and std standardise the looks)
      -> per chunk of products: every channel's vectors (product_vectors) -> the index's stores
      -> ANN structures -> snapshot

The stores' rows and the features live in files in a build folder inside the index root while it runs
(``index/spill.py``) and the snapshot takes the stores' files over, so memory holds the products, one block of
features and one chunk's vectors, whatever the catalogue's size; a build that fails removes its folder, and one
that is killed leaves it for the next snapshot's prune.
"""

from __future__ import annotations

import numpy as np

from . import product_vectors, signatures
from .catalog import Catalog
from .config import EngineConfig
from .domain_fit import catalogue_fit
from .encoders import palette
from .encoders.bundle import ModelBundle
from .encoders.embedder import Embedder
from .encoders.extras import photo_extras_of
from .encoders.look_stats import FeatureMoments
from .index.product_index import ProductIndex
from .index.spill import GrowingArray

FEATURE_BLOCK = 65_536  # photos whose tower features are read (or computed) together: 335 MB at 1,280 dims


def build(config: EngineConfig, bundle: ModelBundle, progress: bool = False):
    """Embed every catalogue product from scratch and save a fresh index snapshot; the engine over it."""
    from .engine import SearchEngine

    root = config.path
    catalog = Catalog(root / "catalog.db")
    embedder = Embedder.for_config(bundle, config)
    channels = photo_channels(config, bundle, embedder)
    embedder.keep_cells = "cells" in channels
    embedder.keep_extras = photo_extras_of(channels)
    index = ProductIndex(bundle.space_dim, config.index, bundle.fingerprint, channels)
    products = list(catalog)
    paths = [p for prod in products for p in prod.images]
    with index.building(root / "index", len(paths), len(products), len(paths) * bundle.image_dim * 4) as folder:
        feats = GrowingArray(folder / "features.npy", np.float32, bundle.image_dim).reserve(len(paths))
        keys = embedder.image_keys(paths)
        feats, moments = _features(embedder, paths, keys, feats, progress)
        head = bundle.heads.image
        index.look_stats = moments.statistics((head.mean.numpy(), head.std.numpy()))
        index.look_colour_weight = config.index.look_colour_weight
        engine = SearchEngine(config, catalog, embedder, index)  # the embedder takes the look statistics
        index.seq = catalog.seq
        for chunk, chunk_feats, chunk_keys in product_vectors.chunks(products, feats, keys, progress):
            engine._embed_and_upsert(chunk, False, chunk_feats, chunk_keys)
        index.shared_fit = catalogue_fit(index)
        engine._fit_base = len(index)
        index.build()
        index.save(root / "index")
    return engine


def photo_channels(config: EngineConfig, bundle: ModelBundle, embedder: Embedder) -> dict[str, int]:
    """The per-photo vector channels (name -> size) an index built with ``bundle`` and ``config`` keeps."""
    channels = {"look": bundle.image_dim}
    if bundle.bridge_classes is not None:
        channels["bridge"] = bundle.text_dim
    channels["signature"] = signatures.DIM
    if config.index.palettes:
        channels["palette"] = palette.DIM
    if bundle.prototypes is not None and config.index.prototypes:
        channels["proto"] = bundle.prototypes.dim
    if config.index.cells and embedder.has_cells:
        channels["cells"] = int(np.prod(embedder.image_tower.cell_shape))
    reader = bundle.colours.reader if bundle.colours is not None else None
    if config.index.palettes and reader is not None and reader.dim == palette.DIM:
        channels["shade"] = len(reader.names)
    if bundle.types is not None and bundle.types.reads(bundle.image_dim, config.index.look_colour_weight):
        channels["kind"] = len(bundle.types.names)
    return channels


def _features(embedder: Embedder, paths: list[str], keys: list[str], rows: np.ndarray, progress: bool
              ) -> tuple[np.ndarray, FeatureMoments]:
    """Every photo's tower features, ``FEATURE_BLOCK`` photos at a time, written to ``rows`` (a map of a file in
    the build folder, returned cut to the photos), and their moments."""
    moments = FeatureMoments(rows.shape[1])
    for start in range(0, len(paths), FEATURE_BLOCK):
        block = embedder.image_features(paths[start:start + FEATURE_BLOCK], progress, keys[start:start + FEATURE_BLOCK])
        rows[start:start + len(block)] = block
        moments.add(block)
    return rows[: len(paths)], moments
