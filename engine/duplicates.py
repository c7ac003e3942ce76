"""Near-duplicate detection over the catalogue: products whose photos (or texts) nearly coincide.

Two products are near-duplicates when their representative vectors (the first photo's look, else
the photo's or text's shared-space vector) have cosine >= ``threshold``, or when their first photos
are the same picture by their signatures (``signatures.py``; ``same_photo_distance`` > 0), unless
both state their colours and share none (colour variants). Groups are the connected components of
that graph.
"""

from __future__ import annotations

import numpy as np

from .attributes import disjoint_colours
from .index.product_index import ProductIndex
from .rerank import representative_signature, representative_vector
from .signatures import same_photo_pairs


def find_duplicates(index: ProductIndex, threshold: float = 0.995, block: int = 4096,
                    same_photo_distance: float = 0.0) -> list[list[int]]:
    """Groups (lists of product rows, size >= 2), found block-wise; vectors are compared only with
    vectors of the same kind (size)."""
    alive = [int(r) for r in np.flatnonzero(index.table.alive)]
    parent = {r: r for r in alive}
    colours = {r: index.table.colours_of(r) for r in alive}  # root -> the colours its group states

    def find(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb and not disjoint_colours(colours[ra], colours[rb]):  # colour variants never group,
            parent[ra] = rb                                                # not even through a third listing
            colours[rb] = colours[ra] | colours[rb]

    by_size: dict[int, tuple[list[int], list[np.ndarray]]] = {}
    for r in alive if threshold <= 1.0 else ():  # a cosine above 1 cannot happen: the look rule is off
        vec = representative_vector(index, r)
        if vec is not None:
            rows, vecs = by_size.setdefault(len(vec), ([], []))
            rows.append(r)
            vecs.append(vec)
    for rows, vecs in by_size.values():
        for a, b in _close_pairs(np.stack(vecs), threshold, block):
            join(rows[a], rows[b])
    if same_photo_distance > 0:
        signed = [(r, s) for r in alive if (s := representative_signature(index, r)) is not None]
        if signed:
            for a, b in same_photo_pairs(np.stack([s for _, s in signed]), same_photo_distance, block):
                join(signed[a][0], signed[b][0])
    groups: dict[int, list[int]] = {}
    for r in alive:
        groups.setdefault(find(r), []).append(r)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


PROJECTED = 128  # dimensions of the orthonormal projection that shortlists look pairs


def _close_pairs(mat: np.ndarray, threshold: float, block: int, project_above: int = 4096) -> list[tuple[int, int]]:
    """Pairs (i < j) with mat[i] . mat[j] >= threshold, compared block-wise.

    Above ``project_above`` rows, pairs are first shortlisted in an orthonormal projection B (the top
    principal directions of a sample): ||B^T (a - b)|| <= ||a - b||, and a . b >= t exactly when
    ||a - b||^2 <= |a|^2 + |b|^2 - 2t, so a pair the projection rules out cannot pass; each survivor is
    then checked on the full vectors (same pairs, a tenth of the arithmetic for 1,352-d looks)."""
    mat = np.asarray(mat, np.float32)
    sq = np.sum(mat * mat, axis=1)
    small = mat
    if len(mat) > project_above and mat.shape[1] > 2 * PROJECTED:
        sample = mat[np.random.default_rng(0).choice(len(mat), min(len(mat), 4096), replace=False)]
        basis = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)[2][:PROJECTED].T
        small = mat @ basis
    small_sq = np.sum(small * small, axis=1)
    pairs = []
    for start in range(0, len(mat), block):
        part = small[start:start + block]
        d2 = small_sq[start:start + block, None] + small_sq[None, :] - 2.0 * part @ small.T
        allowed = sq[start:start + block, None] + sq[None, :] - 2.0 * threshold + 1e-4
        for a, b in zip(*np.nonzero(d2 <= allowed)):
            a += start
            if a < b and float(mat[a] @ mat[b]) >= threshold:
                pairs.append((int(a), int(b)))
    return pairs
