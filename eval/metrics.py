"""Ranking metrics. ``ranked``: list of retrieved ids, best first; ``relevant``: set (or id -> grade)."""

from __future__ import annotations

import math
from typing import Mapping, Sequence


def recall_at_k(ranked: Sequence, relevant, k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def hit_at_k(ranked: Sequence, relevant, k: int) -> float:
    return float(bool(set(ranked[:k]) & set(relevant)))


def precision_at_k(ranked: Sequence, relevant, k: int) -> float:
    return sum(1 for r in ranked[:k] if r in relevant) / k


def reciprocal_rank(ranked: Sequence, relevant) -> float:
    for i, r in enumerate(ranked, 1):
        if r in relevant:
            return 1.0 / i
    return 0.0


def average_precision(ranked: Sequence, relevant) -> float:
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, r in enumerate(ranked, 1):
        if r in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def ndcg_at_k(ranked: Sequence, relevant: Mapping | set, k: int) -> float:
    grades = relevant if isinstance(relevant, Mapping) else {r: 1.0 for r in relevant}
    dcg = sum(grades.get(r, 0.0) / math.log2(i + 1) for i, r in enumerate(ranked[:k], 1))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg if idcg > 0 else 0.0


def paired_bootstrap(a: Sequence[float], b: Sequence[float], resamples: int = 2000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """(mean of a - b, lower, upper): a percentile bootstrap confidence interval at ``level`` for the
    mean per-query difference between two methods scored on the same queries (queries resampled with
    replacement, seeded). An interval that excludes 0 is a difference the query sample supports."""
    import numpy as np

    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if diff.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 256):  # bounded memory for large query sets
        rows = rng.integers(0, diff.size, size=(min(256, resamples - start), diff.size))
        means[start:start + len(rows)] = diff[rows].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), float(lo), float(hi)
