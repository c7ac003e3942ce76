"""All pairs of rows whose shortlist score passes a bound: the shared core of near-duplicate search.

Both whole-catalogue rules (look cosine, same-photo signature) shortlist pairs with one test of the
form ``2 x[a] . x[b] - c[a] - c[b] >= k`` on a small matrix ``x`` (a projection or a coarse grid) and
then check each survivor exactly. Only the upper triangle is computed (each pair once, a < b), in
row blocks sized so that one block's scores stay under ``budget`` floats: memory stays bounded
(~64 MB by default) whatever the catalogue's size, where a full block against every row grew with it.
"""

from __future__ import annotations

import numpy as np

BUDGET = 1 << 24  # floats in one block's score matrix (64 MB)


def candidate_pairs(x: np.ndarray, c: np.ndarray, k: float, block: int = 4096,
                    budget: int = BUDGET) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (a, b), a < b, of every pair with ``2 x[a] . x[b] - c[a] - c[b] >= k``."""
    x = np.asarray(x, np.float32)
    c = np.asarray(c, np.float32)
    n = len(x)
    rows = max(1, min(block, budget // max(1, n)))
    found_a, found_b = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        scores = x[start:stop] @ x[start:].T  # this block against itself and every later row
        scores *= 2.0
        scores -= c[None, start:]
        a, b = np.nonzero(scores >= (c[start:stop] + k)[:, None])
        upper = b > a  # the block's own lower triangle and diagonal are other pairs' mirror images
        found_a.append(a[upper].astype(np.int64) + start)
        found_b.append(b[upper].astype(np.int64) + start)
    return np.concatenate(found_a), np.concatenate(found_b)


CHECK = 8192  # shortlisted pairs checked exactly at a time (bounds the gathered rows' memory)


def checked_pairs(a: np.ndarray, b: np.ndarray, passes) -> list[tuple[int, int]]:
    """The shortlisted pairs (a[i], b[i]) for which ``passes(rows_a, rows_b)`` (a boolean per pair) holds,
    checked ``CHECK`` pairs at a time."""
    keep = np.concatenate([passes(a[i:i + CHECK], b[i:i + CHECK]) for i in range(0, len(a), CHECK)]
                          or [np.zeros(0, bool)])
    return list(zip(a[keep].tolist(), b[keep].tolist()))
