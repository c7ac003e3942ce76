"""VectorIndex against the brute-force reference on seeded data with awkward sizes."""

import dataclasses

import numpy as np
import pytest

from engine.config import IndexConfig
from engine.index import VectorIndex, exact_topk
from tests.tiny import unit_vectors


def _reference(vecs, alive, q, k):
    scores = vecs @ q
    scores[~alive] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    return order[np.isfinite(scores[order])]


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not _cuda_available(), reason="needs a CUDA device")])]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n,d,k", [(1, 8, 5), (17, 5, 17), (333, 33, 7), (1000, 64, 100), (100_003, 256, 10)])
def test_exact_topk_matches_reference_with_deletes_and_masks(n, d, k, device):
    """The same check on the CPU (numpy) and on a CUDA device (torch), batches of 3 queries."""
    rng = np.random.default_rng(n)
    vecs = unit_vectors(rng, n, d)
    index = VectorIndex(d, IndexConfig(kind="flat", device=device))
    index.add(vecs, np.arange(n))
    index.build()
    for owner in rng.choice(n, n // 5, replace=False):
        index.kill_owner(owner)
    mask = rng.random(n) < 0.6
    queries = unit_vectors(rng, 3, d)
    s, r = index.search_exact(queries, k, mask)
    for i, q in enumerate(queries):
        want = _reference(vecs, index.alive & mask, q, k)
        got = r[i][r[i] >= 0]
        assert np.array_equal(got, want)
        assert np.allclose(s[i][: len(got)], vecs[got] @ q, atol=1e-6 if device == "cpu" else 1e-4)
        assert (r[i][len(got):] == -1).all()


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivf-pq"])
def test_ann_with_filters_has_high_recall_and_respects_the_mask(kind, monkeypatch):
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", 1_000 if kind == "ivf-pq" else 10**9)
    kind, pq = kind.split("-")[0], kind.endswith("pq")
    rng = np.random.default_rng(7)
    n, d, k = 3001, 32, 10
    centers = unit_vectors(rng, 30, d)
    vecs = centers[rng.integers(0, 30, n)] + 0.3 * unit_vectors(rng, n, d)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = VectorIndex(d, IndexConfig(kind=kind, device="cpu", nprobe=16, ef_search=128))
    index.add(vecs.astype(np.float32), np.arange(n))
    index.build()
    assert index.kind == kind and (getattr(index._ann, "fast", None) is not None) == pq
    for share in (0.3, 1.0):  # a dense filter (PQ shortlist filtered in the scan when built) and none
        mask = rng.random(n) < share
        recalls = []
        for q in unit_vectors(rng, 20, d):
            s, r = index.search_ann(q, k, None if share == 1.0 else mask, share)
            got = r[0][r[0] >= 0]
            assert mask[got].all() and len(got) == k
            assert np.allclose(s[0], vecs[got] @ q, atol=1e-5)  # exact scores, whatever found the rows
            want = _reference(vecs, mask, q, k)
            recalls.append(len(set(got) & set(want)) / k)
        assert np.mean(recalls) >= 0.9


def test_ivf_with_pq_codes_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", 1_000)
    rng = np.random.default_rng(4)
    vecs = unit_vectors(rng, 2_500, 16)
    cfg = IndexConfig(kind="ivf", device="cpu", nprobe=8)
    index = VectorIndex(16, cfg)
    index.add(vecs, np.arange(2_500))
    index.build()
    index.kill_owner(11)
    index.save(tmp_path, "p")
    assert (tmp_path / "p.ivf.pq").exists()
    loaded = VectorIndex.load(tmp_path, "p", 16, cfg)
    assert loaded._ann.fast is not None and loaded._ann.fast.ntotal == 2_500
    for q in vecs[:20]:
        want = index.search_ann(q, 10, index.alive)
        got = loaded.search_ann(q, 10, loaded.alive)
        assert np.array_equal(got[1], want[1]) and 11 not in got[1]


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    vecs = unit_vectors(rng, 50, 8)
    index = VectorIndex(8, IndexConfig(kind="hnsw", device="cpu"))
    index.add(vecs, np.arange(50) // 2)
    index.build()
    index.kill_owner(3)
    index.save(tmp_path, "p")
    loaded = VectorIndex.load(tmp_path, "p", 8, IndexConfig(kind="hnsw", device="cpu"))
    q = vecs[7]
    assert np.array_equal(loaded.search_exact(q, 10)[1], index.search_exact(q, 10)[1])
    assert loaded.rows_of(3) == [] and loaded.rows_of(4) == [8, 9]
    assert loaded.kind == "hnsw"


def test_exact_topk_pads_when_fewer_rows_than_k():
    s, r = exact_topk(np.eye(3, dtype=np.float32), np.array([1, 0, 0], np.float32), 5)
    assert list(r[0]) == [0, 1, 2, -1, -1] and np.isinf(s[0][3:]).all()


def test_category_vote_leaves_out_excluded_products():
    """A query photo's category vote never counts the products the query excludes (its own product)."""
    from engine.categorize import build_category_model
    from engine.index.product_index import ProductIndex
    from engine.types import Product

    rng = np.random.default_rng(5)
    base = unit_vectors(rng, 2, 8)
    base[1] -= (base[1] @ base[0]) * base[0]
    base[1] /= np.linalg.norm(base[1])
    index = ProductIndex(8, IndexConfig(kind="flat", device="cpu"), "t")
    index.upsert(Product(id="a", title="t", category="Bags/Totes"), {"shared": base[:1]}, base[0])
    for i in range(2):  # two shoes, far from the bag's photo (cosine about 0.3: they still vote a little)
        v = 0.3 * base[0] + base[1] + 0.05 * unit_vectors(rng, 1, 8)[0]
        index.upsert(Product(id=f"s{i}", title="t", category="Shoes"), {"shared": (v / np.linalg.norm(v))[None]}, v)
    index.build()
    model = build_category_model(index, lambda texts: unit_vectors(rng, len(texts), 8))
    model = dataclasses.replace(model, name_weight=0.0)  # votes only
    assert model.predict(base[0], top=1)[0][0][0] == "Bags/Totes"
    assert model.predict(base[0], top=1, exclude_rows=[[index.table.row_of["a"]]])[0][0][0] == "Shoes"
    both = model.predict(np.stack([base[0], base[0]]), top=1, exclude_rows=[index.table.row_of["a"], []])
    assert [p[0][0] for p in both] == ["Shoes", "Bags/Totes"]


@pytest.mark.parametrize("pq", [False, True])
def test_writes_after_build_fold_into_the_ivf_lists(pq, tmp_path, monkeypatch):
    """Rows added while serving fold into their nearest lists past ``fold_tail_at``; probing every list
    then finds exactly the brute-force top-k (float lists) or nearly (PQ shortlist), before and after a
    save/load round trip."""
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", 1_000 if pq else 10**9)
    rng = np.random.default_rng(8)
    d = 16
    vecs = unit_vectors(rng, 3_700, d)
    cfg = IndexConfig(kind="ivf", device="cpu", nlist=40, nprobe=40, fold_tail_at=250, fold_tail_share=0.0)
    index = VectorIndex(d, cfg)
    index.add(vecs[:2_500], np.arange(2_500))
    index.build()
    assert index._ann.n_indexed == 2_500 and (index._ann.fast is not None) == pq
    for start in range(2_500, 3_700, 100):  # writes in batches of 100: folds at 250 tail rows
        index.add(vecs[start:start + 100], np.arange(start, start + 100))
        assert len(index) - index._ann.n_indexed < 250 + 100
    index.kill_owner(2_600)
    lists = index._ann
    assert lists.n_indexed > 2_500 and sorted(lists.order.tolist()) == list(range(lists.n_indexed))
    assert lists.offsets[-1] == lists.n_indexed and np.all(np.diff(lists.offsets) >= 0)
    if pq:
        assert lists.fast.ntotal == lists.n_indexed
    index.save(tmp_path, "p")
    loaded = VectorIndex.load(tmp_path, "p", d, cfg)
    for idx in (index, loaded):
        recalls = []
        for q in unit_vectors(rng, 20, d):
            _, r = idx.search_ann(q, 10)
            want = _reference(vecs, idx.alive, q, 10)
            assert 2_600 not in r[0]
            recalls.append(len(set(r[0].tolist()) & set(want.tolist())) / 10)
        assert np.mean(recalls) == 1.0 if not pq else np.mean(recalls) >= 0.9


def test_the_memory_bench_builds_a_snapshot_that_both_modes_answer_alike(tmp_path):
    from eval import memory_bench

    root = memory_bench.build(tmp_path / "snap", 150)
    mapped, copied = (memory_bench.open_index(str(root.parent), m, 150) for m in (True, False))
    assert isinstance(mapped.channels["cells"]._base, np.memmap) and copied.channels["cells"]._base is None
    for a, b in zip(memory_bench.channel_work(mapped, np.random.default_rng(1)),
                    memory_bench.channel_work(copied, np.random.default_rng(1))):
        assert a > 0 and b > 0
    q = unit_vectors(np.random.default_rng(2), 1, memory_bench.CHANNELS["look"])
    assert np.array_equal(mapped.channels["look"].search_exact(q, 7)[1], copied.channels["look"].search_exact(q, 7)[1])
    rss, pss = memory_bench.memory_kb()
    assert 0 < pss <= rss


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_upsert_many_equals_one_product_at_a_time(kind, monkeypatch):
    """The batched write (a catch-up, a build) against the per-product one on seeded data with awkward sizes:
    products with 0-3 photos, some replaced (their old rows killed), an extra channel; same rows, same search."""
    from engine.index.product_index import ProductIndex
    from engine.types import Product

    rng = np.random.default_rng(11)
    cfg = IndexConfig(kind=kind, device="cpu", nlist=4, nprobe=4, auto_flat_below=0)
    one, many = (ProductIndex(8, cfg, "t", {"look": 5}) for _ in range(2))

    def batch(ids):
        products = [Product(id=i, title=i, images=tuple(f"{i}-{j}" for j in range(int(rng.integers(0, 4))))) for i in ids]
        n = sum(len(p.images) for p in products)
        return products, {"shared": unit_vectors(rng, n, 8), "look": unit_vectors(rng, n, 5)}, unit_vectors(rng, len(ids), 8)

    for ids in ([f"p{i}" for i in range(37)], [f"p{i}" for i in range(30, 53)]):
        products, photo_vecs, text_vecs = batch(ids)
        many.upsert_many(products, photo_vecs, text_vecs)
        at = 0
        for p, tv in zip(products, text_vecs):
            n = len(p.images)
            one.upsert(p, {k: v[at:at + n] for k, v in photo_vecs.items()}, tv)
            at += n
    assert one.table.ids == many.table.ids and np.array_equal(one.table.alive, many.table.alive)
    q = unit_vectors(rng, 1, 8)[0]
    for a, b in ((one.photos, many.photos), (one.texts, many.texts), (one.channels["look"], many.channels["look"])):
        qa = q if a.dim == 8 else unit_vectors(np.random.default_rng(0), 1, 5)[0]
        sa, ra = a.search_exact(qa, 20)
        sb, rb = b.search_exact(qa, 20)
        assert np.allclose(sa, sb) and np.array_equal(ra, rb)
    with pytest.raises(ValueError):
        many.upsert_many([Product(id="x", title="x"), Product(id="x", title="x")], {"shared": np.zeros((0, 8)),
                         "look": np.zeros((0, 5))}, unit_vectors(rng, 2, 8))


def test_searched_photo_channels_get_ivf_lists_and_keep_them_across_a_snapshot(tmp_path):
    """look / bridge / proto are indexed like the shared space past ``auto_flat_below``; row channels stay exact;
    an older snapshot without a channel's lists opens exact (no k-means in every worker) until the next build."""
    from engine.index.product_index import ProductIndex
    from engine.planner import QueryVectors, _ann_rows
    from engine.types import Product

    rng = np.random.default_rng(5)
    cfg = IndexConfig(device="cpu", auto_flat_below=100, nlist=8, nprobe=8)
    index = ProductIndex(16, cfg, "fp", {"look": 24, "bridge": 8, "signature": 12})
    looks = unit_vectors(rng, 300, 24)
    for i in range(300):
        index.upsert(Product(id=f"p{i}", title="t"), {"shared": unit_vectors(rng, 1, 16), "look": looks[i:i + 1],
                                                       "bridge": unit_vectors(rng, 1, 8), "signature": unit_vectors(rng, 1, 12)},
                     unit_vectors(rng, 1, 16)[0])
    index.build()
    assert {n: v.kind for n, v in index.channels.items()} == {"look": "ivf", "bridge": "ivf", "signature": "flat"}
    index.save(tmp_path)
    loaded = ProductIndex.load(tmp_path, cfg, "fp", {})
    assert loaded.looks.kind == "ivf" and loaded.channels["signature"].kind == "flat"
    q = QueryVectors(shared=unit_vectors(rng, 1, 16)[0], look=looks[123])
    assert 123 in _ann_rows(loaded, q, None, 5, 1.0).tolist()  # the photo's own look is found through the lists
    moved = unit_vectors(rng, 1, 24)  # a write while serving: its look lands beside the mapped ones
    loaded.upsert(Product(id="new", title="t"), {"shared": unit_vectors(rng, 1, 16), "look": moved,
                                                 "bridge": unit_vectors(rng, 1, 8), "signature": unit_vectors(rng, 1, 12)},
                  unit_vectors(rng, 1, 16)[0])
    assert loaded.looks._base is not None and len(loaded.looks) > len(loaded.looks._base)

    def joined(self):
        raise AssertionError("the mapped store was joined with the rows added since (a copy of it all)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VectorIndex, "vectors", property(joined))
        found = _ann_rows(loaded, QueryVectors(shared=unit_vectors(rng, 1, 16)[0], look=moved[0]), None, 5, 1.0)
    assert loaded.table.row_of["new"] in found.tolist()
    folding = ProductIndex.load(tmp_path, dataclasses.replace(cfg, fold_tail_at=1, fold_tail_share=0.0), "fp", {})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VectorIndex, "vectors", property(joined))
        folding.upsert(Product(id="new", title="t"), {"shared": unit_vectors(rng, 1, 16), "look": moved,
                                                      "bridge": unit_vectors(rng, 1, 8), "signature": unit_vectors(rng, 1, 12)},
                       unit_vectors(rng, 1, 16)[0])
        assert folding.looks._ann.n_indexed == len(folding.looks)  # the new look folded into its list, through the reader
        found = _ann_rows(folding, QueryVectors(shared=unit_vectors(rng, 1, 16)[0], look=moved[0]), None, 5, 1.0)
    assert folding.table.row_of["new"] in found.tolist()
    folder = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    for f in folder.glob("channel-look.ivf.*"):
        f.unlink()
    older = ProductIndex.load(tmp_path, cfg, "fp", {})
    assert older.looks.kind == "flat" and older.looks._ann is None and older.bridges.kind == "ivf"
    assert 123 in _ann_rows(older, q, None, 5, 1.0).tolist()


@pytest.mark.parametrize("sorted_owners", [True, False])
def test_owner_runs_are_what_unique_gives(sorted_owners):
    from engine.index.vectors import _runs

    rng = np.random.default_rng(8)
    for _ in range(200):
        owners = rng.integers(0, 12, rng.integers(1, 40))
        owners = np.sort(owners) if sorted_owners else owners
        for got, want in zip(_runs(owners), np.unique(owners, return_index=True, return_counts=True)):
            np.testing.assert_array_equal(got, want)


def test_killing_owners_at_once_is_killing_them_one_at_a_time():
    rng = np.random.default_rng(10)
    owners = np.repeat(np.arange(30), rng.integers(1, 4, 30))
    a, b = (VectorIndex(8, IndexConfig(kind="flat", device="cpu")) for _ in range(2))
    for index in (a, b):
        index.add(unit_vectors(rng, len(owners), 8), owners)
        index.kill_owner(5)
    doomed = np.array([3, 3, 5, 7, 29, 40, -1, 12])  # repeats, one already dead, two that own nothing
    for o in doomed:
        a.kill_owner(int(o))
    b.kill_owners(doomed)
    assert np.array_equal(a.alive, b.alive) and a.n_alive == b.n_alive == len(owners) - np.isin(owners, doomed).sum()
    assert all(a.rows_of(o) == b.rows_of(o) for o in range(30)) and b.rows_of(7) == []
