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


def test_variants_searched_query_by_query_rank_as_each_config_alone(engine, sample_folder, monkeypatch):
    """eval.runner.variant_rankings decodes each query photo once and searches it with every variant in
    turn, the later variants reusing the first one's encodings: each variant's rankings equal that
    config's own pass over the queries, only the first variant is timed, fewer tower passes run than
    searched alone, and the engine's config is restored (and its memo dropped)."""
    from dataclasses import replace

    from eval.runner import engine_rankings, variant_rankings

    photos = sorted((sample_folder / "images").glob("S00*-0.png"))[:3]
    queries = [LabelledQuery("a", {"S0041": 1.0}, text="red hoodie"), LabelledQuery("b", {"S0001": 1.0}, text="mug")]
    queries += [LabelledQuery(p.stem, {}, image=str(p), text="blue" if i else None) for i, p in enumerate(photos)]
    task = Task("t", "photo+text", [], queries)
    base = engine.config
    variants = {"ours": base, "no words": replace(base, read_colours=False, read_categories=False),
                "no re-ranking": replace(base, rerank=replace(base.rerank, collapse_duplicates=False))}
    passes = []
    real = engine.embedder._embed_pil
    monkeypatch.setattr(engine.embedder, "_embed_pil", lambda *a: passes.append(1) or real(*a))
    stages = {}
    together = variant_rankings(engine, task, variants, k=5, stages=stages)
    assert engine.config is base and engine.embedder.memo is None
    shared_passes, passes[:] = len(passes), []
    for name, cfg in variants.items():
        engine.config = cfg
        alone, latencies = engine_rankings(engine, task, k=5)
        engine.config = base
        assert together[name][0] == alone
        assert len(together[name][1]) == (len(queries) if name == "ours" else 0)
    assert 0 < shared_passes < len(passes)
    assert len(stages["total"]) == len(queries) and len(stages["encode"]) == len(queries)
    assert together["ours"][0] != together["no words"][0]  # the variants did differ


def test_a_query_memo_computes_once_hands_out_copies_and_keeps_what_its_keys_name():
    """encoders.memo.QueryMemo: one computation per key, a fresh copy each time (a caller's in-place
    change reaches no other), and the objects named by identity stay alive (their ids cannot be reused)."""
    import gc
    import weakref

    import numpy as np

    from engine.encoders.memo import QueryMemo

    class Photo:  # stands in for a decoded query photo
        pass

    memo, calls = QueryMemo(), []
    photo = Photo()
    first = memo.get(("photos", id(photo)), lambda: calls.append(1) or {"shared": np.ones(3)}, photo)
    first["shared"][0] = 7.0
    again = memo.get(("photos", id(photo)), lambda: calls.append(1) or {"shared": np.zeros(3)}, photo)
    assert len(calls) == 1 and memo.computed == 1 and again["shared"].tolist() == [1.0, 1.0, 1.0]
    ref = weakref.ref(photo)
    del photo
    gc.collect()
    assert ref() is not None  # held by the memo while it lives
    del memo
    gc.collect()
    assert ref() is None
