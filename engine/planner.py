"""Retrieval with a filter planner: which products to consider for a query, and how.

Plans (the chosen one is reported in the response):
- ``exact``: score every product that passes the filters (cheap when few match, and always exact);
- ``ann``: in-index filtered ANN on the photo and text vectors with oversampling;
- ``ann+exact``: ANN came back short of min(candidates, matching), so an exact pass tops it up;
- ``gpu-exact``: on a CUDA device with a flat index, each channel's exact top candidates come from the
  GPU (torch matmul + top-k), then are rescored like any other plan.
Every plan returns ``Candidates`` whose parts are exact similarities (see ``rerank.rescore``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import IndexConfig
from .index.product_index import ProductIndex
from .rerank import rescore
from .types import Candidates


@dataclass(frozen=True)
class QueryVectors:
    """A query in every space it is compared in: ``shared`` (dim,) always; ``look`` (image_dim,) for
    photo-only queries; ``bridge`` (text_dim,) the text tower's vector, for the zero-shot bridge;
    for photo + text queries ``shape`` (backbone_dim,) and ``text`` (dim,): what the photo shows apart
    from colour, and what the words ask for, compared with the catalogue's photos separately."""

    shared: np.ndarray
    look: np.ndarray | None = None
    bridge: np.ndarray | None = None
    photo: np.ndarray | None = None  # the photo alone in the shared space (category prediction)
    shape: np.ndarray | None = None  # photo + text: the photo's look without its colour block (unit)
    text: np.ndarray | None = None  # photo + text: the text alone in the shared space
    proto: np.ndarray | None = None  # text only: the catalogue bridge's prototype (encoders/prototypes.py)
    colour: np.ndarray | None = None  # text naming colours: their prototype colour histogram (encoders/colour_words.py)
    colour_words: tuple[str, ...] = ()  # the colour phrases read from the text
    cells: tuple[np.ndarray, ...] | None = None  # photo queries: the photo's cells (cells, channels), one array a scale (encoders/cells.py)
    photo_look: np.ndarray | None = None  # photo + text: the photo's full look (finds the anchor, engine/anchor.py)
    palette: np.ndarray | None = None  # photo queries: the photo's palette (encoders/palette.py)
    anchor_colour: np.ndarray | None = None  # anchored photo + text: the anchor photo's unit colour block (part colour_shift)
    read_colour: Callable[[np.ndarray], np.ndarray] | None = None  # text naming colours: palettes -> part colour_class
    tower_text: str | None = None  # the words the text tower embedded (colour aliases written as names), None without
    head_word: str | None = None  # the word embedded again beside them (engine/head_word.py), None when not
    read_type: Callable[[np.ndarray], np.ndarray] | None = None  # text naming kinds of product: photos' kind probabilities -> part type_class (encoders/type_reader.py)
    kinds: tuple[str, ...] = ()  # the kinds of product the type reader was asked about


@dataclass(frozen=True)
class Retrieval:
    candidates: Candidates
    plan: str


def retrieve(index: ProductIndex, qv: QueryVectors, mask: np.ndarray | None, n_cand: int, cfg: IndexConfig,
             matching: int | None = None, also: np.ndarray | None = None) -> Retrieval:
    """Candidates (product rows) for the query vectors ``qv`` among rows where ``mask`` is True
    (``mask`` None: every live product, with no pass over all rows); ``matching``: the number of True
    rows in ``mask`` when the caller has counted them already; ``also``: rows (in ``mask``) to consider
    whatever the vectors say (the products the query's words match, ``engine/lexicon.py``)."""
    table = index.table
    if matching is None:
        matching = table.n_alive if mask is None else int(np.count_nonzero(mask))
    if matching == 0:
        return Retrieval(Candidates.empty(), "empty")

    def every_match() -> np.ndarray:
        return np.flatnonzero(table.alive if mask is None else mask)

    if matching <= max(cfg.exact_scan_below, n_cand) or (index.photos.kind == "flat" and not index.photos.on_gpu):
        return Retrieval(rescore(index, every_match(), qv), "exact")
    plan = "gpu-exact" if index.photos.on_gpu and index.photos.kind == "flat" else "ann"
    rows = _ann_rows(index, qv, mask, n_cand, matching / max(1, table.n_alive))
    if also is not None and len(also):
        rows = np.union1d(rows, also)
    if len(rows) < min(n_cand, matching):
        return Retrieval(rescore(index, every_match(), qv), f"{plan}+exact")
    return Retrieval(rescore(index, rows, qv), plan)


def photo_oversample(index: ProductIndex) -> int:
    """Photo vectors fetched per product wanted: a product owns several photos, so photo channels
    fetch more vectors than products wanted (the mean photos per product, rounded up, at most 3)."""
    return min(3, max(1, math.ceil(index.photos.n_alive / max(1, index.table.n_alive))))


def _ann_rows(index: ProductIndex, qv: QueryVectors, mask: np.ndarray | None, n_cand: int, selectivity: float
              ) -> np.ndarray:
    """Distinct product rows found by ANN over every channel the query has, in-index filtered."""
    found = []
    per_product = photo_oversample(index)
    channels = [(index.photos, qv.shared, per_product), (index.texts, qv.shared, 1)]
    for vecs, q in ((index.looks, qv.look), (index.bridges, qv.bridge), (index.prototypes, qv.proto)):
        if q is not None and vecs is not None:
            channels.append((vecs, q, per_product))
    for vecs, q, oversample in channels:
        if len(vecs) == 0:
            continue
        allowed = None if mask is None else vecs.allowed_vectors(mask)
        _, hits = vecs.search_ann(q[None, :], n_cand * oversample, allowed, selectivity, live=True)
        hits = hits[0][hits[0] >= 0]
        found.append(vecs.owner[hits])
    rows = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return rows if mask is None else rows[mask[rows]]
