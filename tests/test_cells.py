"""Cells (encoders/cells.py): local features from the tower's last block, stored as int8, matched
query cell by query cell; kept beside the index and fused as the part "local" of photo queries."""

from dataclasses import replace

import numpy as np
import pytest

from engine.config import FusionConfig, ImageTowerSpec, IndexConfig
from engine.encoders.cells import decode, local_scores, quantise
from engine import photo_parts
from engine.index.product_index import ProductIndex
from engine.types import Candidates, Preferences, Product, Query
from tests.tiny import unit_vectors


def _cells(rng, n, cells, channels):
    return unit_vectors(rng, n * cells, channels).reshape(n, cells * channels)


def test_local_score_is_the_mean_of_each_query_cells_best_match():
    rng = np.random.default_rng(3)
    channels = 7
    query = decode(quantise(_cells(rng, 1, 5, channels)), channels)[0]
    photos = quantise(_cells(rng, 4, 3, channels))
    got = local_scores(query, photos)
    cand = decode(photos, channels)
    want = [np.mean([max(float(qc @ pc) for pc in cand[j]) for qc in query]) for j in range(len(photos))]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert local_scores(query, photos[:0]).shape == (0,)


def test_int8_codes_keep_cosines_and_a_photo_matches_itself_best():
    rng = np.random.default_rng(4)
    cells = _cells(rng, 6, 9, 32)
    codes = quantise(cells)
    assert codes.dtype == np.int8
    exact = cells.reshape(6, 9, 32) @ cells.reshape(6, 9, 32)[0].T
    approx = decode(codes, 32) @ decode(codes, 32)[0].T
    assert np.abs(exact - approx).max() < 0.02
    scores = local_scores(decode(codes[:1], 32)[0], codes)
    assert int(np.argmax(scores)) == 0 and scores[0] == pytest.approx(1.0, abs=0.01)


def test_the_tower_gives_features_and_cells_from_one_pass():
    from PIL import Image

    from engine.encoders import build_image_tower

    tower = build_image_tower(ImageTowerSpec(pretrained=False, image_size=64), "cpu")
    rng = np.random.default_rng(5)
    images = [Image.fromarray(rng.integers(0, 256, (50 + 10 * i, 70, 3), dtype=np.uint8)) for i in range(3)]
    batch = tower.prepare(images)
    feats, codes = tower.features_and_cells(batch)
    np.testing.assert_allclose(feats, tower.features(batch), rtol=1e-4, atol=1e-4)
    cells, channels = tower.cell_shape
    assert (cells, channels) == (4, 320) and codes.shape == (3, cells * channels) and codes.dtype == np.int8
    np.testing.assert_allclose(np.linalg.norm(decode(codes, channels), axis=2), 1.0, atol=0.02)
    if tower.use_runtime("onnx") == "onnx":  # the exported pass agrees with torch's
        feats_onnx, codes_onnx = tower.features_and_cells(batch)
        np.testing.assert_allclose(feats_onnx, feats, rtol=1e-3, atol=1e-3)
        assert np.abs(codes_onnx.astype(int) - codes).max() <= 1


def test_cells_cached_by_the_feature_pass_equal_fresh_ones(built_shop, sample_folder, tmp_path, monkeypatch):
    from engine.encoders.bundle import ModelBundle
    from engine.encoders.embedder import Embedder
    from engine.features import FeatureCache

    bundle = ModelBundle.load(built_shop.path / "bundle")
    paths = sorted(str(p) for p in (sample_folder / "images").glob("*.png"))[:5]
    fresh = Embedder(bundle, device="cpu").photo_cells(paths)
    embedder = Embedder(bundle, FeatureCache(tmp_path / "f.db"), device="cpu")
    embedder.keep_cells = True
    embedder.image_features(paths)
    monkeypatch.setattr(embedder.image_tower, "features_and_cells",
                        lambda batch: pytest.fail("cells should come from the cache"))
    np.testing.assert_array_equal(embedder.photo_cells(paths), fresh)


def test_the_index_keeps_cells_as_int8_across_snapshots(tmp_path):
    rng = np.random.default_rng(6)
    width = 4 * 8
    index = ProductIndex(16, IndexConfig(device="cpu"), "fp", {"cells": width})
    codes = {}
    for i in range(3):
        codes[i] = quantise(_cells(rng, i + 1, 4, 8))
        index.upsert(Product(id=f"p{i}", title=f"p{i}"),
                     {"shared": unit_vectors(rng, i + 1, 16), "cells": codes[i]}, unit_vectors(rng, 1, 16)[0])
    index.remove("p1")
    index.build()
    index.save(tmp_path)
    loaded = ProductIndex.load(tmp_path, IndexConfig(device="cpu"), "fp",
                               {f"p{i}": Product(id=f"p{i}", title=f"p{i}") for i in (0, 2)})
    assert loaded.cells.vectors.dtype == np.int8
    for i in (0, 2):
        row = loaded.table.row_of[f"p{i}"]
        np.testing.assert_array_equal(loaded.cells.vectors[loaded.cells.rows_of(row)], codes[i])
    assert "p1" not in loaded.table.row_of or not loaded.cells.rows_of(loaded.table.row_of["p1"])


def test_a_catalogue_photo_finds_its_own_product_by_its_cells(engine, built_shop):
    from engine.images import open_image

    assert engine.index.cells is not None
    product = next(iter(engine.catalog))
    response = engine.search(Query(image=open_image(product.images[0]), k=5))
    local = {r.product.id: r.why["local"] for r in response.results}
    assert local[product.id] == pytest.approx(1.0, abs=0.02)
    assert max(local, key=local.get) == product.id


def test_without_cells_or_weight_there_is_no_local_part(engine):
    from engine.images import open_image

    product = next(iter(engine.catalog))
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_local=0.0, w_same_shot=0.0))
    response = engine.search(Query(image=open_image(product.images[0]), k=3))
    assert all("local" not in r.why and "same_shot" not in r.why for r in response.results)
    engine.config = replace(engine.config, fusion=FusionConfig())
    engine.index.channels.pop("cells")
    response = engine.search(Query(image=open_image(product.images[0]), k=3))
    assert all("local" not in r.why for r in response.results)


def _index_with_cells(rng, n: int, cells: int, channels: int) -> tuple[ProductIndex, np.ndarray]:
    """An index of products p0..p<n-1> with one photo each, and their photos' cell codes."""
    index = ProductIndex(16, IndexConfig(device="cpu"), "fp", {"cells": cells * channels})
    codes = quantise(_cells(rng, n, cells, channels))
    for i in range(n):
        index.upsert(Product(id=f"p{i}", title=f"p{i}"), {"shared": unit_vectors(rng, 1, 16), "cells": codes[i:i + 1]},
                     unit_vectors(rng, 1, 16)[0])
    return index, codes


def test_local_rerank_rescores_only_the_best_candidates():
    from engine.rerank import local_rerank

    index, codes = _index_with_cells(np.random.default_rng(7), 4, 3, 8)
    query = decode(codes[2:3], 8)[0]  # p2's own photo
    ranked = Candidates(np.arange(4), np.array([0.9, 0.8, 0.7, 0.6], np.float32),
                        {"visual": np.zeros(4, np.float32)})
    out = local_rerank(index, ranked, (query,), 1.0, 3)
    want = local_scores(query, codes[:3])
    assert out.rows.tolist()[:3] == sorted(range(3), key=lambda i: -(ranked.scores[i] + want[i]))
    assert out.rows.tolist()[0] == 2 and out.rows.tolist()[3] == 3  # the fourth is not matched and stays last
    np.testing.assert_allclose(out.parts["local"][:3], want[out.rows[:3]], atol=1e-6)
    assert out.parts["local"][3] == 0 and out.scores[3] == pytest.approx(0.6)


def test_the_best_query_scale_counts():
    from engine.rerank import local_rerank

    rng = np.random.default_rng(8)
    index, codes = _index_with_cells(rng, 3, 4, 8)
    scales = (decode(quantise(_cells(rng, 1, 4, 8)), 8)[0], decode(quantise(_cells(rng, 1, 2, 8)), 8)[0])
    ranked = Candidates(np.arange(3), np.zeros(3, np.float32), {"visual": np.zeros(3, np.float32)})
    out = local_rerank(index, ranked, scales, 1.0, 3)
    want = np.maximum(local_scores(scales[0], codes), local_scores(scales[1], codes))
    np.testing.assert_allclose(out.parts["local"], want[out.rows], atol=1e-6)


def test_query_cells_at_a_smaller_side_form_a_smaller_grid(engine):
    from PIL import Image

    assert engine.embedder.cell_sides(engine.config.rerank.local_query_scales) == (64, 37)  # and 4/7 of the tiny tower's 64 px
    vecs = engine.embedder.embed_pil([Image.new("RGB", (80, 60), "red")], cell_scales=(1.5,))  # 96 px
    channels = engine.embedder.image_tower.cell_shape[1]
    assert [c.shape for c in vecs["cells"]] == [(1, 4, channels), (1, 9, channels)]


def test_photo_and_text_queries_weigh_cells_by_their_own_weight(engine):
    from engine.images import open_image

    product = next(iter(engine.catalog))
    photo = open_image(product.images[0])
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_local=2.0, w_local_text=0.5))
    fusion = engine.config.fusion
    assert photo_parts.weights(engine.config, Query(image=photo)) == (2.0, fusion.w_same_shot, fusion.w_palette)
    assert photo_parts.weights(engine.config, Query(image=photo, text="red")) == (0.5, 0.0, 0.0)  # with words the anchor finds the product
    alone, with_words = (engine.search(Query(image=photo, text=t, k=3)).results[0] for t in (None, "red"))
    assert "local" in alone.why and "local" in with_words.why


def test_a_thumbnail_query_photo_is_not_matched_by_its_cells(engine, monkeypatch):
    from engine.images import open_image

    photo = open_image(next(iter(engine.catalog)).images[0])
    assert max(photo.size) >= engine.config.rerank.local_min_side
    small, fusion = photo.resize((60, 80)), engine.config.fusion
    assert photo_parts.weights(engine.config, Query(image=small)) == (0.0, 0.0, fusion.w_palette)
    assert photo_parts.weights(engine.config, Query(image=small, text="red")) == (0.0, 0.0, 0.0)
    assert photo_parts.cell_weight(engine.config, Query(image=small, text="red")) == 0.0  # nor for its anchor
    scales, real = [], engine.embedder.embed_pil
    monkeypatch.setattr(engine.embedder, "embed_pil",
                        lambda images, cell_scales=None: scales.append(cell_scales) or real(images, cell_scales=cell_scales))
    top = engine.search(Query(image=small, k=3)).results[0]
    assert scales == [None]  # no cells passes
    assert "local" not in top.why and "same_shot" not in top.why and "palette" in top.why
    engine.search(Query(image=photo, k=3))
    assert scales[-1] == tuple(engine.config.rerank.local_query_scales)


def test_warming_up_prepares_the_cells_passes(engine, monkeypatch):
    tower = engine.embedder.image_tower
    sides = []
    real = tower.features_and_cells
    monkeypatch.setattr(tower, "features_and_cells", lambda batch: sides.append(batch.shape[1]) or real(batch))
    engine.warm()
    assert sides == [tower.spec.image_size, 37]  # and 4/7 of the tiny tower's 64 px


def test_mutual_share_counts_query_cells_whose_best_match_picks_them_back():
    from engine.encoders.cells import mutual_share

    rng = np.random.default_rng(9)
    sims = rng.uniform(-1, 1, (5, 7, 6))  # 5 photos, 7 photo cells, 6 query cells
    want = [np.mean([int(np.argmax(sims[m, int(np.argmax(sims[m, :, q])), :])) == q for q in range(6)])
            for m in range(5)]
    np.testing.assert_allclose(mutual_share(sims), want)
    same = np.eye(6)[None]  # each query cell's twin: every match is mutual
    assert mutual_share(same)[0] == 1.0
    crowded = np.zeros((1, 2, 6)); crowded[0, 0, :] = 1.0  # one photo cell is every query cell's best: one mutual pair
    assert mutual_share(crowded)[0] == pytest.approx(1 / 6)


def test_the_same_shot_in_other_cells_order_wins_the_same_shot_part():
    from engine.encoders.cells import cell_matches
    from engine.rerank import local_rerank

    rng = np.random.default_rng(10)
    index, codes = _index_with_cells(rng, 3, 6, 8)
    query = decode(codes[1:2], 8)[0][::-1]  # p1's own cells, listed in another order
    local, share = cell_matches((query,), codes)
    assert share[1] == pytest.approx(1.0) and share[[0, 2]].max() < 1.0
    ranked = Candidates(np.arange(3), np.array([2.0, 1.0, 0.5], np.float32), {"visual": np.zeros(3, np.float32)})
    start = float(share[[0, 2]].max())
    out = local_rerank(index, ranked, (query,), 0.0, 3, same_shot=(2.0, start))
    assert out.rows.tolist()[0] == 1 and out.parts["same_shot"][0] == pytest.approx(1.0)
    assert out.parts["same_shot"][1:].max() == 0.0  # shares at or below the start count nothing
    off = local_rerank(index, ranked, (query,), 0.0, 3, same_shot=(0.0, start))
    assert off.rows.tolist() == [0, 1, 2] and "same_shot" not in off.parts  # weight 0: not a part of the why


def test_a_catalogue_photo_is_its_own_products_same_shot(engine):
    from engine.images import open_image

    product = next(iter(engine.catalog))
    response = engine.search(Query(image=open_image(product.images[0]), k=5))
    shot = {r.product.id: r.why["same_shot"] for r in response.results}
    assert shot[product.id] == pytest.approx(1.0, abs=0.01)
