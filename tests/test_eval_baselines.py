"""The evaluation's text-only baseline (eval/runner.text_rankings): cosine of query and category path,
ties broken by a seeded shuffle."""

from types import SimpleNamespace

import numpy as np

from engine.types import Product
from eval.datasets import LabelledQuery, Task
from eval.runner import text_rankings

VECTORS = {"Men / Tops / Hoodies": [1.0, 0.0, 0.0], "Women / Bottoms / Pants": [0.0, 1.0, 0.0],
           "Gear / Bags": [0.0, 0.0, 1.0], "gray hoodie": [0.9, 0.1, 0.0], "bag": [0.1, 0.0, 0.9]}


def _embedder():
    def vectors(texts, role="passage"):
        return np.asarray([VECTORS[t] for t in texts], np.float32) * 3.0  # not unit: the baseline normalises
    return SimpleNamespace(text_features=vectors, text_tower=SimpleNamespace(encode=vectors))


def _task():
    cats = ["Men/Tops/Hoodies"] * 6 + ["Women/Bottoms/Pants"] * 3 + ["Gear/Bags"] * 3
    products = [Product(id=f"p{i:02d}", title="(hidden)", category=c, images=("x.jpg",)) for i, c in enumerate(cats)]
    queries = [LabelledQuery("q1", {"p00": 1.0}, text="gray hoodie"), LabelledQuery("q2", {"p09": 1.0}, text="bag")]
    return Task("t", "text", products, queries)


def test_text_only_ranks_by_category_and_shuffles_ties():
    hoodie, bag = text_rankings(_embedder(), _task(), k=12)
    assert set(hoodie[:6]) == {f"p{i:02d}" for i in range(6)}  # the hoodies' category first
    assert set(hoodie[6:9]) == {"p06", "p07", "p08"}  # then pants (cosine 0.11 against 0 for bags)
    assert set(bag[:3]) == {"p09", "p10", "p11"} and set(bag[3:9]) == {f"p{i:02d}" for i in range(6)}
    assert hoodie[:6] != sorted(hoodie[:6]) or hoodie[6:9] != sorted(hoodie[6:9])  # ties not in id order
    assert text_rankings(_embedder(), _task(), k=12) == [hoodie, bag]  # seeded: the same every run
    assert text_rankings(_embedder(), _task(), k=12, seed=1) != [hoodie, bag]
