"""Re-ranking: exact rescoring of candidates and near-duplicate collapse.

``rescore`` computes, for each candidate product row, the exact parts
``visual`` = max over the product's photos of cos(q, photo) and ``text`` = cos(q, product text),
from the stored vectors (whatever approximate search found them). ``collapse_duplicates`` walks
the fused ranking and folds a product into a better-ranked one when their photo vectors (text
vectors for products without photos) have cosine above the threshold.
"""

from __future__ import annotations

import numpy as np

from .index.product_index import ProductIndex
from .types import Candidate


def rescore(index: ProductIndex, rows: np.ndarray, q: np.ndarray) -> list[Candidate]:
    rows = np.asarray(rows, np.int64)
    if len(rows) == 0:
        return []
    visual = _max_photo_similarity(index, rows, q)
    text = _text_similarity(index, rows, q)
    return [Candidate(row=int(r), score=float(max(v, t)), parts={"visual": float(v), "text": float(t)})
            for r, v, t in zip(rows, visual, text)]


def _max_photo_similarity(index: ProductIndex, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    photos = index.photos
    out = np.full(len(rows), -1.0, np.float32)
    if len(photos) == 0:
        return out
    pos = np.full(len(index.table), -1, np.int64)
    pos[rows] = np.arange(len(rows))
    vec_rows = np.flatnonzero(photos.alive & (pos[photos.owner] >= 0)) if len(rows) * 8 > len(photos) \
        else np.asarray([v for r in rows for v in photos.rows_of(int(r))], np.int64)
    if len(vec_rows):
        sims = photos.vectors[vec_rows] @ q
        np.maximum.at(out, pos[photos.owner[vec_rows]], sims)
    return out


def _text_similarity(index: ProductIndex, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    texts = index.texts
    out = np.full(len(rows), -1.0, np.float32)
    vec_rows = np.asarray([(i, tr[0]) for i, r in enumerate(rows) if (tr := texts.rows_of(int(r)))], np.int64)
    if len(vec_rows):
        out[vec_rows[:, 0]] = texts.vectors[vec_rows[:, 1]] @ q
    return out


def representative_vector(index: ProductIndex, row: int) -> np.ndarray | None:
    photo_rows = index.photos.rows_of(row)
    if photo_rows:
        return index.photos.vectors[photo_rows[0]]
    text_rows = index.texts.rows_of(row)
    return index.texts.vectors[text_rows[0]] if text_rows else None


def collapse_duplicates(index: ProductIndex, ranked: list[Candidate], threshold: float, limit: int
                        ) -> list[Candidate]:
    """Keep at most ``limit`` candidates, folding near-duplicates into the better-ranked one.

    Folding never makes the list shorter than min(limit, len(ranked)): when there are not enough
    distinct products, the best-ranked folded ones are shown on their own again.
    """
    kept = _fold(index, ranked, threshold, limit)
    missing = min(limit, len(ranked)) - len(kept)
    if missing <= 0:
        return kept
    shown = {c.row for c in kept}
    unfold = [c for c in ranked if c.row not in shown][:missing]
    back = {c.row for c in unfold}
    kept = [Candidate(c.row, c.score, c.parts, tuple(d for d in c.duplicates if d not in back)) for c in kept]
    return sorted(kept + unfold, key=lambda c: (-c.score, c.row))


def _fold(index: ProductIndex, ranked: list[Candidate], threshold: float, limit: int) -> list[Candidate]:
    kept: list[Candidate] = []
    kept_vecs: list[np.ndarray] = []
    for cand in ranked:
        vec = representative_vector(index, cand.row)
        if vec is not None and kept_vecs:
            sims = np.stack(kept_vecs) @ vec
            j = int(np.argmax(sims))
            if sims[j] >= threshold:
                kept[j] = Candidate(kept[j].row, kept[j].score, kept[j].parts,
                                    kept[j].duplicates + (cand.row,))
                continue
        if len(kept) >= limit:
            break
        kept.append(cand)
        kept_vecs.append(vec if vec is not None else np.zeros(index.dim, np.float32))
    return kept
