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


def test_paired_bootstrap_matches_the_exact_resampling_distribution():
    """Three queries: all 27 resamples enumerated give the exact bootstrap distribution of the mean
    difference; the sampled interval's ends must sit at its percentiles."""
    import itertools

    import numpy as np

    from eval.metrics import paired_bootstrap

    a, b = [1.0, 0.0, 1.0], [0.0, 0.0, 0.5]
    diff = np.subtract(a, b)
    exact = sorted(np.mean([diff[i] for i in rows]) for rows in itertools.product(range(3), repeat=3))
    mean, lo, hi = paired_bootstrap(a, b, resamples=20000, seed=3)
    assert mean == pytest.approx(0.5)
    assert lo == pytest.approx(np.percentile(exact, 2.5, method="inverted_cdf"), abs=0.02)
    assert hi == pytest.approx(np.percentile(exact, 97.5, method="inverted_cdf"), abs=0.02)
    a, b = [1.0, 0.0, 1.0, 0.25], [0.0, 0.0, 0.5, 0.0]  # four queries: 256 equally likely resamples
    diff = np.subtract(a, b)
    exact = sorted(np.mean([diff[i] for i in rows]) for rows in itertools.product(range(4), repeat=4))
    _, lo, hi = paired_bootstrap(a, b, resamples=20000, seed=4)
    assert lo == pytest.approx(np.percentile(exact, 2.5, method="inverted_cdf"), abs=0.02)
    assert hi == pytest.approx(np.percentile(exact, 97.5, method="inverted_cdf"), abs=0.02)
    assert paired_bootstrap(a, a) == (0.0, 0.0, 0.0)
    assert paired_bootstrap([0.7] * 9, [0.6] * 9) == pytest.approx((0.1, 0.1, 0.1))


def test_paired_bootstrap_separates_a_real_difference_from_noise():
    import numpy as np

    from eval.metrics import paired_bootstrap

    rng = np.random.default_rng(0)
    base = rng.random(400)
    _, lo, _ = paired_bootstrap(base + 0.1, base + rng.normal(0, 0.05, 400))
    assert lo > 0  # a shift of 0.1 on 400 queries is supported
    _, lo, hi = paired_bootstrap(base + rng.normal(0, 0.3, 400), base + rng.normal(0, 0.3, 400))
    assert lo < 0 < hi  # two noisy copies of the same method are not told apart


def test_report_shows_each_method_against_ours_with_an_interval():
    from eval import report
    from eval.runner import Outcome

    def outcome(method, hits):
        per_query = {c: list(map(float, hits)) for c in ("R@1", "R@10", "P@10", "hit@3", "MRR", "mAP", "nDCG@10")}
        return Outcome("task", method, {c: sum(v) / len(v) for c, v in per_query.items()}, [0.0] * 20,
                       per_query=per_query)

    ours, worse, same = outcome("ours", [1] * 50), outcome("worse", [0] * 50), outcome("same", [1] * 50)
    text = report.markdown([ours, worse, same])
    assert "| worse | **+1.000** [+1.000, +1.000]" in text
    assert "| same | +0.000 [+0.000, +0.000]" in text
    assert report.comparisons([ours, worse])["worse"]["R@1"] == (1.0, 1.0, 1.0)


def test_report_says_where_the_time_went(tmp_path):
    import json

    from eval import report
    from eval.runner import Outcome

    per_query = {c: [1.0, 0.0] for c in ("R@1", "R@10", "P@10", "hit@3", "MRR", "mAP", "nDCG@10")}
    ours = Outcome("task", "ours", {c: 0.5 for c in per_query}, [0.0] * 20, [3.0, 4.0], per_query,
                   {"encode": [2.0, 2.5, 9.0], "anchor": [1.0], "total": [3.0, 4.0, 12.0]})
    seconds = {"shared space": 120.25, "task: index build": 3.5, "task: ours": 1.25}
    path = report.write([ours], tmp_path, "# header", {"seconds": seconds})
    text = path.read_text()
    assert "| shared space | 120.2 |" in text and "| task: ours | 1.2 |" in text
    assert "| (sum of the stages) | 125.0 |" in text
    assert text.index("shared space") < text.index("task: index build")  # run order
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["seconds"] == seconds
    assert "its p50 ms by stage: encode 2.5, anchor 1.0, total 4.0." in text  # each over its own queries
    assert results["outcomes"][0]["stages_p50_ms"] == {"encode": 2.5, "anchor": 1.0, "total": 4.0}
