"""Ranking metrics against brute-force definitions on seeded data with awkward sizes."""

import itertools
import math

import numpy as np
import pytest

from eval.metrics import (average_precision, hit_at_k, ndcg_at_k, precision_at_k, recall_at_k,
                          reciprocal_rank)
from eval.queryset import LabelledQuery, read_queries, write_queries


def _cases():
    rng = np.random.default_rng(5)
    for n, n_rel, k in [(1, 1, 1), (7, 3, 5), (17, 1, 10), (50, 13, 7), (3, 3, 10)]:
        ranked = [f"p{i}" for i in rng.permutation(n + 5)[:n]]
        relevant = {f"p{i}" for i in rng.choice(n + 5, n_rel, replace=False)}
        yield ranked, relevant, k


@pytest.mark.parametrize("ranked,relevant,k", list(_cases()))
def test_metrics_match_brute_force(ranked, relevant, k):
    top = ranked[:k]
    assert recall_at_k(ranked, relevant, k) == pytest.approx(sum(r in relevant for r in top) / len(relevant))
    assert precision_at_k(ranked, relevant, k) == pytest.approx(sum(r in relevant for r in top) / k)
    assert hit_at_k(ranked, relevant, k) == float(any(r in relevant for r in top))
    first = next((i for i, r in enumerate(ranked) if r in relevant), None)
    assert reciprocal_rank(ranked, relevant) == pytest.approx(0 if first is None else 1 / (first + 1))
    precisions = [sum(r in relevant for r in ranked[: i + 1]) / (i + 1) for i, r in enumerate(ranked) if r in relevant]
    assert average_precision(ranked, relevant) == pytest.approx(sum(precisions) / len(relevant))
    # nDCG: the ideal ordering found by trying every permutation of the relevant items' positions
    gains = [1.0 if r in relevant else 0.0 for r in top]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = max(sum(g / math.log2(i + 2) for i, g in enumerate(p))
                for p in set(itertools.permutations([1.0] * min(len(relevant), k) + [0.0] * max(0, k - len(relevant)))))
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(dcg / ideal)


def test_graded_ndcg_prefers_the_higher_grade_first():
    grades = {"a": 3.0, "b": 1.0}
    assert ndcg_at_k(["a", "b"], grades, 2) == pytest.approx(1.0)
    assert ndcg_at_k(["b", "a"], grades, 2) < 1.0


def test_query_set_round_trip(tmp_path):
    (tmp_path / "q.jpg").write_bytes(b"x")
    qs = [LabelledQuery("1", {"A": 1.0}, text="red"), LabelledQuery("2", {"B": 2.0, "C": 1.0}, image=str(tmp_path / "q.jpg"))]
    write_queries(tmp_path / "qs.jsonl", qs)
    assert read_queries(tmp_path / "qs.jsonl") == qs
