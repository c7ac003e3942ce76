"""Anchoring a photo + text query on the catalogue photo its photo shows.

"This, but in brown": the photo says *which* product, the words say how the wanted one differs. A
shopper's own photo is rarely the catalogue's: it is the product's back, a close-up, another light. The
words then have to find the brown variant from that odd view, where the shape of a back view or the
detail of a close-up is a weak witness. So the query photo first finds what it shows (a photo-only
search, the engine's photo -> product path with looks and cells: ``SearchEngine._anchor``) and that
product's closest catalogue photo stands in for it: its stored shared-space vector, its look's CNN
block (``shape``) and its cells (``blend`` 1: wholly; ``blend`` b < 1: b x the anchor + (1 - b) x the
query photo, and the query photo's cells are kept beside the anchor's). The catalogue's main photos of
one product's colours are alike in pose, so the anchor's shape and cells find the other colours far
better than the query photo's do (luma other-view photo + colour word: ``docs/eval/experiments/anchor_probe.py``).
A query photo that is a catalogue photo anchors on itself and is unchanged. The anchor's colour also
gives colour words a direction: fusion part ``colour_shift`` (rerank.py) prefers the anchor's shape in a
colour moved from the anchor's toward the named one, so "this, but in gray" no longer returns the photo
itself (the commonest failure before: 290 of 360 misses on luma photo + colour word).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .encoders.cells import decode
from .encoders.unit import unit
from .index.product_index import ProductIndex
from .planner import QueryVectors


def photo_only(qv: QueryVectors) -> QueryVectors:
    """The photo + text query's photo alone, as a photo-only query (its full look, its cells)."""
    return QueryVectors(qv.photo, look=qv.photo_look, photo=qv.photo, cells=qv.cells, palette=qv.palette)


def anchor_on(index: ProductIndex, qv: QueryVectors, row: int, image_weight: float, text_weight: float,
              blend: float) -> QueryVectors | None:
    """``qv`` anchored on product ``row``'s photo closest in look to the query photo (``anchor_photo``,
    ``anchored``); None when that product has no photo to anchor on."""
    ordinal = anchor_photo(index, row, qv.photo_look)
    return None if ordinal is None else anchored(index, qv, row, ordinal, image_weight, text_weight, blend)


def anchor_photo(index: ProductIndex, row: int, look: np.ndarray) -> int | None:
    """Ordinal, among product ``row``'s live photos, of the one whose look is closest to ``look``;
    None when the product has no photo (or the index keeps no looks)."""
    if index.looks is None or not (rows := index.looks.rows_of(row)):
        return None
    vecs = index.looks.take(rows)
    sims = vecs @ look / np.maximum(np.linalg.norm(vecs, axis=1), 1e-12)
    return int(np.argmax(sims))


def anchored(index: ProductIndex, qv: QueryVectors, row: int, ordinal: int, image_weight: float,
             text_weight: float, blend: float) -> QueryVectors:
    """``qv`` with the photo's parts moved ``blend`` of the way to photo ``ordinal`` of product ``row``
    (its stored vectors); the combined shared vector is rebuilt from the new photo and ``qv.text``."""
    photo = _blend(qv.photo, index.photos.nth_of(row, ordinal), blend)
    look = index.looks.nth_of(row, ordinal)
    shape = _blend(qv.shape, look[: len(qv.shape)], blend) if qv.shape is not None else None
    cells = qv.cells
    if qv.cells is not None and index.cells is not None and (cell_rows := index.cells.rows_of(row)):
        own = decode(index.cells.take([cell_rows[ordinal]]), qv.cells[0].shape[1])[0]
        cells = (own,) if blend >= 1.0 else (own,) + tuple(qv.cells)
    shared = image_weight * photo + (text_weight * qv.text if qv.text is not None else 0.0)
    anchor_colour = unit(look[-len(qv.colour):]) if qv.colour is not None else None
    return replace(qv, shared=unit(shared), photo=photo, shape=shape, cells=cells, anchor_colour=anchor_colour)


def _blend(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return unit((1.0 - w) * unit(a) + w * unit(b))
