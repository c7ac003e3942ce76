"""Near-duplicate detection over the catalogue: products whose photos (or texts) nearly coincide."""

from __future__ import annotations

import numpy as np

from .index.product_index import ProductIndex
from .rerank import representative_vector


def find_duplicates(index: ProductIndex, threshold: float = 0.995, block: int = 4096) -> list[list[int]]:
    """Groups (lists of product rows, size >= 2) whose representative vectors have cosine >= threshold.

    Groups are connected components of the "near-duplicate" graph, found block-wise; products are
    compared only with products whose representative vector is of the same kind (size).
    """
    by_size: dict[int, tuple[list[int], list[np.ndarray]]] = {}
    for r in np.flatnonzero(index.table.alive):
        vec = representative_vector(index, int(r))
        if vec is not None:
            rows, vecs = by_size.setdefault(len(vec), ([], []))
            rows.append(int(r))
            vecs.append(vec)
    groups = []
    for rows, vecs in by_size.values():
        groups += _components(np.asarray(rows), np.stack(vecs), threshold, block)
    return sorted(groups, key=lambda g: g[0])


def _components(rows: np.ndarray, mat: np.ndarray, threshold: float, block: int) -> list[list[int]]:
    parent = np.arange(len(rows))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(rows), block):
        sims = mat[start:start + block] @ mat.T
        for a, b in zip(*np.nonzero(sims >= threshold)):
            a += start
            if a < b:
                parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(find(i), []).append(int(rows[i]))
    return [g for g in groups.values() if len(g) > 1]
