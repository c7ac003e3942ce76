"""Near-duplicate detection over the catalogue: products whose photos (or texts) nearly coincide.

Two products are near-duplicates when their representative vectors (the first photo's look, else
the photo's or text's shared-space vector) have cosine >= ``threshold``, or when their first photos
are the same picture by their signatures (``signatures.py``; ``same_photo_distance`` > 0), unless
they are variants: both state their colours and share none, or their prices are more than ``price_gap``
apart (``attributes.prices_apart``: sizes and storage tiers often share a photo). Groups are the connected
components of that graph, and a group never spans variants, not even through a third listing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .attributes import disjoint_colours, prices_apart
from .index.product_index import ProductIndex
from .pair_search import candidate_pairs, checked_pairs
from .rerank import representative_signature, representative_vector
from .signatures import same_photo_pairs


@dataclass(frozen=True)
class DuplicateInputs:
    """What the whole-catalogue pass reads from the index, copied: taken under the index's lock, so the
    quadratic part runs without it (a serving worker's searches and writes go on meanwhile)."""

    ids: list[str]                                  # row -> product id, as of the copy
    colours: dict[int, frozenset]                   # live row -> the colours its listing states
    prices: dict[int, float]                        # live row -> its price (NaN: none stated)
    vectors: dict[int, tuple[list[int], np.ndarray]]  # vector size -> (rows, stacked representative vectors)
    signatures: tuple[list[int], np.ndarray] | None   # (rows, stacked first-photo signatures)


def snapshot(index: ProductIndex, threshold: float = 0.995, same_photo_distance: float = 0.0) -> DuplicateInputs:
    """Copy what ``group_duplicates`` needs (hold ``index.lock`` around this, not around the grouping)."""
    alive = [int(r) for r in np.flatnonzero(index.table.alive)]
    by_size: dict[int, tuple[list[int], list[np.ndarray]]] = {}
    for r in alive if threshold <= 1.0 else ():  # a cosine above 1 cannot happen: the look rule is off
        vec = representative_vector(index, r)
        if vec is not None:
            rows, vecs = by_size.setdefault(len(vec), ([], []))
            rows.append(r)
            vecs.append(vec)
    signed = [(r, s) for r in alive if (s := representative_signature(index, r)) is not None] \
        if same_photo_distance > 0 else []
    return DuplicateInputs(
        ids=list(index.table.ids),
        colours=dict(zip(alive, index.table.colours(alive))),
        prices={r: float(index.table.price[r]) for r in alive},
        vectors={size: (rows, np.stack(vecs)) for size, (rows, vecs) in by_size.items()},
        signatures=([r for r, _ in signed], np.stack([s for _, s in signed])) if signed else None)


def group_duplicates(inputs: DuplicateInputs, threshold: float = 0.995, block: int = 4096,
                     same_photo_distance: float = 0.0, price_gap: float = 1.0) -> list[list[int]]:
    """Groups (lists of product rows, size >= 2), found block-wise; vectors are compared only with
    vectors of the same kind (size)."""
    parent = {r: r for r in inputs.colours}
    colours = dict(inputs.colours)  # root -> the colours its group states
    low = dict(inputs.prices)  # root -> its group's lowest and highest stated price (NaN: none)
    high = dict(inputs.prices)

    def find(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra == rb or disjoint_colours(colours[ra], colours[rb]):
            return
        lo, hi = np.fmin(low[ra], low[rb]), np.fmax(high[ra], high[rb])  # NaN only where neither states one
        if prices_apart(float(lo), float(hi), price_gap):
            return
        parent[ra] = rb
        colours[rb], low[rb], high[rb] = colours[ra] | colours[rb], lo, hi

    for rows, mat in inputs.vectors.values():
        for a, b in _close_pairs(mat, threshold, block):
            join(rows[a], rows[b])
    if same_photo_distance > 0 and inputs.signatures is not None:
        rows, sigs = inputs.signatures
        for a, b in same_photo_pairs(sigs, same_photo_distance, block):
            join(rows[a], rows[b])
    groups: dict[int, list[int]] = {}
    for r in inputs.colours:
        groups.setdefault(find(r), []).append(r)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def find_duplicates(index: ProductIndex, threshold: float = 0.995, block: int = 4096,
                    same_photo_distance: float = 0.0, price_gap: float = 1.0) -> list[list[int]]:
    """``group_duplicates`` over a ``snapshot`` of ``index`` (rows of ``index.table``)."""
    with index.lock:
        inputs = snapshot(index, threshold, same_photo_distance)
    return group_duplicates(inputs, threshold, block, same_photo_distance, price_gap)


PROJECTED = 128  # dimensions of the orthonormal projection that shortlists look pairs


def _close_pairs(mat: np.ndarray, threshold: float, block: int, project_above: int = 4096) -> list[tuple[int, int]]:
    """Pairs (i < j) with mat[i] . mat[j] >= threshold.

    Above ``project_above`` rows, pairs are first shortlisted in an orthonormal projection B (the top
    principal directions of a sample): ||B^T (a - b)|| <= ||a - b||, and a . b >= t exactly when
    ||a - b||^2 <= |a|^2 + |b|^2 - 2t, so a pair the projection rules out cannot pass; each survivor is
    then checked on the full vectors (same pairs, a tenth of the arithmetic for 1,352-d looks). In the
    shortlist's terms (``pair_search``): 2 Ba . Bb - u_a - u_b >= 2t, u = |B^T x|^2 - |x|^2."""
    mat = np.asarray(mat, np.float32)
    small = mat
    if len(mat) > project_above and mat.shape[1] > 2 * PROJECTED:
        sample = mat[np.random.default_rng(0).choice(len(mat), min(len(mat), 4096), replace=False)]
        basis = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)[2][:PROJECTED].T
        small = mat @ basis
    u = np.sum(small * small, axis=1) - np.sum(mat * mat, axis=1)
    a, b = candidate_pairs(small, u, 2.0 * threshold - 1e-4, block)
    return checked_pairs(a, b, lambda ra, rb: np.einsum("ij,ij->i", mat[ra], mat[rb]) >= threshold)
