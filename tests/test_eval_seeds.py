"""The spread of a report over training seeds (eval/seeds.py)."""

import json

import pytest

from eval import seeds


def _result(r1: float, p10: float, extra: bool = False) -> dict:
    outcomes = [{"task": "t", "method": "ours", "scores": {"R@1": r1, "P@10": p10, "ingest photos/s": 9.0}},
                {"task": "t", "method": "classic", "scores": {"R@1": r1 / 2}}]
    if extra:  # a method that only one run has
        outcomes.append({"task": "u", "method": "ours", "scores": {"R@1": 1.0}})
    return {"outcomes": outcomes}


def test_spread_is_mean_min_max_per_task_method_and_metric():
    rows = seeds.spread([_result(0.2, 0.5), _result(0.4, 0.3, extra=True), _result(0.9, 0.4)])
    mean, low, high = rows[("t", "ours")]["R@1"]
    assert (mean, low, high) == pytest.approx((0.5, 0.2, 0.9))
    assert rows[("t", "ours")]["P@10"] == pytest.approx((0.4, 0.3, 0.5))
    assert rows[("t", "classic")]["R@1"] == pytest.approx((0.25, 0.1, 0.45))
    assert "P@10" not in rows[("t", "classic")] and "ingest photos/s" not in rows[("t", "ours")]
    assert rows[("u", "ours")]["R@1"] == pytest.approx((1.0, 1.0, 1.0))


def test_seeds_md_is_written_from_each_seeds_results(tmp_path):
    for seed, r1 in ((3, 0.25), (7, 0.75)):
        (tmp_path / f"seed-{seed}").mkdir()
        (tmp_path / f"seed-{seed}" / "results.json").write_text(json.dumps(_result(r1, 0.5)))
    text = seeds.write(tmp_path, [3, 7]).read_text()
    assert "Seeds 3, 7" in text and "### t" in text
    assert "| ours | 0.500 [0.250, 0.750] |" in text
