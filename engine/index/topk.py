"""Exact top-k: the brute-force reference and the top-k of a score matrix."""

from __future__ import annotations

import numpy as np


def exact_topk(vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None):
    """Brute-force reference: top-k inner products of ``q`` (m, d) over ``vectors`` (n, d)."""
    q = np.atleast_2d(q)
    return topk_of_scores(q @ vectors.T if len(vectors) else np.zeros((len(q), 0), np.float32), k, allowed)


def topk_of_scores(scores: np.ndarray, k: int, allowed: np.ndarray | None = None):
    """Top-k (scores (m, k), rows (m, k)) of each row of ``scores`` (m, n), ``allowed`` rows only."""
    n = scores.shape[1]
    if allowed is not None:
        scores = np.where(allowed[None, :], scores, -np.inf)
    k_eff = min(k, n)
    out_s = np.full((len(scores), k), -np.inf, np.float32)
    out_r = np.full((len(scores), k), -1, np.int64)
    if k_eff == 0:
        return out_s, out_r
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff] if k_eff < n else np.tile(np.arange(n), (len(scores), 1))
    part_s = np.take_along_axis(scores, part, 1)
    order = np.argsort(-part_s, axis=1, kind="stable")
    out_r[:, :k_eff] = np.take_along_axis(part, order, 1)
    out_s[:, :k_eff] = np.take_along_axis(part_s, order, 1)
    out_r[~np.isfinite(out_s)] = -1
    return out_s, out_r


def pad_rows(results: list, k: int):
    """Per-query (scores, rows) of any lengths as (m, k) arrays padded with -inf / -1."""
    s = np.full((len(results), k), -np.inf, np.float32)
    r = np.full((len(results), k), -1, np.int64)
    for i, (si, ri) in enumerate(results):
        s[i, : len(si)], r[i, : len(ri)] = si, ri
    return s, r


def pad(s: np.ndarray, r: np.ndarray, k: int):
    """(scores, rows) of fewer than ``k`` columns padded to ``k`` with -inf / -1."""
    if s.shape[1] >= k:
        return s, r
    ps = np.full((s.shape[0], k), -np.inf, np.float32)
    pr = np.full((s.shape[0], k), -1, np.int64)
    ps[:, : s.shape[1]], pr[:, : s.shape[1]] = s, r
    return ps, pr
