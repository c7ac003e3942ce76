"""Near-duplicate detection over the catalogue: products whose photos (or texts) nearly coincide."""

from __future__ import annotations

import numpy as np

from .index.product_index import ProductIndex
from .rerank import representative_vector


def find_duplicates(index: ProductIndex, threshold: float = 0.97, block: int = 4096) -> list[list[int]]:
    """Groups (lists of product rows, size >= 2) whose representative vectors have cosine >= threshold.

    Groups are connected components of the "near-duplicate" graph, found block-wise in O(n^2 d / block).
    """
    rows = np.flatnonzero(index.table.alive)
    vecs = [representative_vector(index, int(r)) for r in rows]
    keep = [i for i, v in enumerate(vecs) if v is not None]
    rows = rows[keep]
    if len(rows) < 2:
        return []
    mat = np.stack([vecs[i] for i in keep])
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
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])
