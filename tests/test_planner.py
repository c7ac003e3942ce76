"""The filter planner's plans against a brute-force reference, on seeded data with awkward sizes.

Products own 0-3 photo vectors and one text vector; a product's reference score is the best cosine
over its photos and its text (what ``rerank.rescore`` computes). Every plan must return
min(n_cand, matching) candidates, all passing the filter, with exact scores.
"""

import numpy as np
import pytest

from engine.config import IndexConfig
from engine.index import backends
from engine.index.ivf import ListIndex, ranges
from engine.index.product_index import ProductIndex
from engine.planner import QueryVectors, retrieve
from engine.types import Filters, Product
from tests.tiny import unit_vectors

D = 16


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _catalogue(n: int, seed: int, cfg: IndexConfig):
    rng = np.random.default_rng(seed)
    centers = unit_vectors(rng, 20, D)
    index = ProductIndex(D, cfg, "test")
    photos, texts = {}, {}
    for row in range(n):
        p = int(rng.integers(0, 4))
        vecs = centers[rng.integers(0, 20, p)] + 0.4 * unit_vectors(rng, p, D) if p else np.zeros((0, D))
        vecs = (vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)).astype(np.float32)
        text = unit_vectors(rng, 1, D)[0]
        index.upsert(Product(id=f"p{row}", title="t"), {"shared": vecs}, text)
        photos[row], texts[row] = vecs, text
    for row in rng.choice(n, n // 10, replace=False):  # deleted products never come back
        index.remove(f"p{row}")
    index.build()
    return index, photos, texts, rng


def _reference(index, photos, texts, q, mask):
    scores = {}
    for row in np.flatnonzero(mask & index.table.alive):
        best = float(texts[row] @ q) if texts is not None else -1.0
        if len(photos[row]):
            best = max(best, float((photos[row] @ q).max()))
        scores[int(row)] = best
    return scores


@pytest.mark.parametrize("n,seed", [(1, 0), (97, 1), (2_003, 2)])
@pytest.mark.parametrize("share", [0.0, "k", 0.004, 0.3, 1.0])
@pytest.mark.parametrize("plan", ["exact", "ann", "ann-pq"] + [pytest.param(p, marks=[
    pytest.mark.gpu, pytest.mark.skipif(not _cuda(), reason="needs a CUDA device"),
    pytest.mark.skipif(p.endswith("faiss") and not backends.faiss_has_gpu(), reason="needs faiss-gpu")])
    for p in ("gpu-exact", "gpu-exact-faiss")])
def test_every_plan_matches_the_reference(n, seed, share, plan, monkeypatch):
    n_cand = 10
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", 1_000 if plan == "ann-pq" else 10**9)  # PQ shortlist
    kinds = {"exact": ("flat", "cpu", 10**9), "ann": ("ivf", "cpu", 0), "ann-pq": ("ivf", "cpu", 0),
             "gpu-exact": ("auto", "cuda", 0), "gpu-exact-faiss": ("auto", "cuda", 0)}
    kind, device, below = kinds[plan]
    cfg = IndexConfig(kind=kind, device=device, nprobe=16, exact_scan_below=below,
                      gpu_backend="faiss" if plan == "gpu-exact-faiss" else "auto")
    index, photos, texts, rng = _catalogue(n, seed, cfg)
    assert (plan == "ann-pq" and n > 1_000) == (getattr(index.photos._ann, "fast", None) is not None)
    alive = np.flatnonzero(index.table.alive)
    mask = np.zeros(len(index.table), bool)
    if share == "k":
        mask[rng.choice(alive, min(n_cand, len(alive)), replace=False)] = True
    else:
        mask[alive[rng.random(len(alive)) < share]] = True
    recalls = []
    for q in unit_vectors(rng, 8, D):
        got = retrieve(index, QueryVectors(shared=q), mask, n_cand, cfg)
        ref = _reference(index, photos, texts, q, mask)
        rows = got.candidates.rows.tolist()
        assert len(set(rows)) == len(rows)
        assert len(rows) >= min(n_cand, len(ref))  # never short
        assert set(rows) <= set(ref)  # every candidate passes the filter and is alive
        for r, s in zip(rows, got.candidates.scores.tolist()):
            assert s == pytest.approx(ref[r], abs=1e-5)  # exact scores whatever found it
        want = sorted(ref, key=lambda r: -ref[r])[:n_cand]
        if got.plan in ("exact", "ann+exact", "empty", "gpu-exact", "gpu-exact+exact"):
            assert set(want) <= set(rows)
        else:
            assert got.plan == "ann"
            recalls.append(len(set(want) & set(rows)) / len(want))
    assert not recalls or np.mean(recalls) >= 0.9


def test_ann_that_comes_back_short_is_topped_up_exactly():
    """One probed list cannot hold the matching rows of a scattered filter: the plan says so."""
    cfg = IndexConfig(kind="ivf", device="cpu", nprobe=1, nlist=40, exact_scan_below=0)
    index, photos, texts, rng = _catalogue(2_003, 5, cfg)
    index.texts = type(index.texts)(D, cfg)  # photos only, so ANN has one channel to come back short on
    texts = None
    alive = np.flatnonzero(index.table.alive)
    mask = np.zeros(len(index.table), bool)
    mask[rng.choice(alive, 300, replace=False)] = True
    plans = set()
    for q in unit_vectors(rng, 10, D):
        got = retrieve(index, QueryVectors(shared=q), mask, 200, cfg)
        plans.add(got.plan)
        ref = _reference(index, photos, texts, q, mask)
        with_photos = [r for r in ref if len(photos[r])]
        assert len(got.candidates) >= min(200, len(ref))
        assert set(sorted(with_photos, key=lambda r: -ref[r])[:200]) <= set(got.candidates.rows.tolist())
    assert "ann+exact" in plans


def test_list_index_tail_and_ranges():
    rng = np.random.default_rng(3)
    vecs = unit_vectors(rng, 500, D)
    lists = ListIndex.train(vecs[:400], nlist=8)
    assert lists.offsets[-1] == 400 and sorted(lists.order.tolist()) == list(range(400))
    q = vecs[450]
    s, r = lists.search(q, 5, lists.nlist, None, vecs)  # all lists probed: exact over 500 rows
    assert r[0] == 450 and np.allclose(s, vecs[r] @ q)
    assert np.array_equal(r, np.argsort(-(vecs @ q))[:5])
    assert ranges(np.array([3, 10, 7]), np.array([5, 10, 9])).tolist() == [3, 4, 7, 8]


@pytest.mark.parametrize("fast_min", [10**9, 1_000])
def test_writes_after_build_are_searchable_and_deletes_never_return(fast_min, monkeypatch):
    """Products added after the IVF lists were built live in the scanned tail; removed ones vanish
    from every plan (with and without PQ codes); the attribute table, the vectors and the plans agree."""
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", fast_min)
    cfg = IndexConfig(kind="ivf", device="cpu", nprobe=4, exact_scan_below=0)
    index, photos, texts, rng = _catalogue(1_500, 9, cfg)
    fresh = unit_vectors(rng, 3, D)
    for i, v in enumerate(fresh):
        index.upsert(Product(id=f"new{i}", title="t", category="New/Things"), {"shared": v[None, :]}, v)
    index.remove("new1")
    index.remove("p5")
    assert index.table.row_of.get("p5") is None and index.photos.rows_of(5) == []
    everything = index.table.mask(Filters())
    for i, v in enumerate(fresh):
        got = retrieve(index, QueryVectors(shared=v), everything, 20, cfg)
        found = {index.table.ids[r] for r in got.candidates.rows.tolist()}
        assert ("new1" in found) is False and "p5" not in found
        if i != 1:
            assert index.table.ids[got.candidates.top(1).rows[0]] == f"new{i}"
    only_new = index.table.mask(Filters(category="new"))
    assert int(only_new.sum()) == 2
    got = retrieve(index, QueryVectors(shared=fresh[0]), only_new, 20, cfg)
    assert sorted(index.table.ids[r] for r in got.candidates.rows.tolist()) == ["new0", "new2"]


def test_attribute_counts_and_facets_follow_every_write():
    """Live counts and the cached facet counts are kept by add/kill, never stale."""
    from engine.attributes import AttributeTable

    table = AttributeTable()
    for i in range(5):
        table.add(Product(id=f"a{i}", title="t", category="Shoes/Boots" if i % 2 else "Bags"))
    assert table.n_alive == 5 and table.facet_counts() == {"Bags": 3, "Shoes/Boots": 2}
    table.kill("a1")
    table.kill("a1")  # killing twice changes nothing
    assert table.n_alive == 4 and table.facet_counts() == {"Bags": 3, "Shoes/Boots": 1}
    table.kill("a0")
    table.add(Product(id="a0", title="t", category="Shoes/Boots"))  # an update moves it
    assert table.n_alive == 4 and table.facet_counts() == {"Bags": 2, "Shoes/Boots": 2}
    assert table.select(Filters()) is None and int(table.mask(Filters(category="shoes")).sum()) == 2
