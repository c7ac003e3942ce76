"""The catalogue bridge (engine/encoders/prototypes.py): vocabulary, bundle round trip, index channel,
and its part in text queries."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine.encoders.bundle import ModelBundle
from engine.encoders.prototypes import Prototypes, build_prototypes, shrink
from engine.types import Query
from tests.fusion_formula import explained


def _vocabulary(n=300, text_dim=24, backbone=64, seed=0, **kw) -> tuple[Prototypes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    text = rng.standard_normal((n, text_dim)).astype(np.float32)
    feats = rng.standard_normal((n, backbone)).astype(np.float32) * 3 + 1
    return build_prototypes(text, feats, **kw), text, feats


def test_a_query_mixes_the_photos_of_its_nearest_titles():
    protos, text, feats = _vocabulary(size=300, dim=16, k=1)
    assert protos.text.shape == (300, 24) and protos.image.shape == (300, 16)
    assert np.allclose(protos.basis.T @ protos.basis, np.eye(16), atol=1e-4)  # orthonormal columns
    # with k = 1 a query equal to title 7 gets exactly title 7's photo vector
    assert np.allclose(protos.query(text[7]), protos.image[7], atol=1e-5)
    assert np.allclose(protos.photos(feats[7:8])[0], protos.image[7], atol=1e-4)
    wide = replace(protos, k=50)
    q = wide.query(text[7])
    assert q.shape == (16,) and abs(float(np.linalg.norm(q)) - 1) < 1e-5
    assert float(q @ protos.image[7]) > 0.3  # the nearest title weighs most


def test_vocabulary_subset_and_int8_round_trip():
    protos, _, _ = _vocabulary(size=120, dim=8)
    assert len(protos.text) == 120
    again = Prototypes.from_tensors(protos.tensors(), protos.meta())
    assert np.abs(again.text - protos.text).max() < 0.02 and np.abs(again.image - protos.image).max() < 0.02
    assert again.side == protos.side and again.k == protos.k and again.dim == 8


def test_shrink_never_enlarges():
    big, small = Image.new("RGB", (800, 400)), Image.new("RGB", (60, 80))
    assert shrink(big, 112).size == (112, 56) and shrink(small, 112) is small


@pytest.fixture()
def shop_with_vocabulary(built_shop, tmp_path):
    """The sample shop with its bundle given a vocabulary made of the shop's own products."""
    from engine.encoders.embedder import Embedder

    folder = tmp_path / "shop"
    shutil.copytree(built_shop.path, folder, ignore=shutil.ignore_patterns("index"))
    cfg = replace(built_shop, data_dir=str(folder))
    bundle = ModelBundle.load(folder / "bundle")
    plain = bundle.fingerprint
    embedder = Embedder.for_config(bundle, cfg)
    from engine.catalog import Catalog

    products = [p for p in Catalog(folder / "catalog.db") if p.images]
    backbone = embedder.image_tower.backbone_dim
    feats = embedder.image_features([p.images[0] for p in products])[:, :backbone]
    bundle.prototypes = build_prototypes(embedder.text_features([p.title for p in products], "passage"), feats,
                                         size=200, dim=16)
    bundle.save(folder / "bundle")
    return cfg, plain


def test_bundle_keeps_the_vocabulary_and_its_fingerprint_covers_it(shop_with_vocabulary):
    cfg, plain = shop_with_vocabulary
    bundle = ModelBundle.load(cfg.path / "bundle")
    assert bundle.prototypes is not None and bundle.prototypes.image.shape == (200, 16)
    assert bundle.fingerprint != plain and bundle.fingerprint == ModelBundle.load(cfg.path / "bundle").fingerprint


def test_text_queries_carry_a_prototype_part_from_shrunk_photos(shop_with_vocabulary, sample_folder):
    from engine import workflow
    from engine.images import open_image

    cfg, _ = shop_with_vocabulary
    engine = workflow.build_index(cfg, progress=False)
    assert engine.index.prototypes is not None and engine.index.prototypes.dim == 16
    response = engine.search(Query(text="Red hoodie", k=5))
    protos = engine.embedder.bundle.prototypes
    q = protos.query(engine.embedder.text_tower.encode(["Red hoodie"], role="query")[0])
    for r in response.results:
        assert "proto" in r.why
        vecs = engine.embedder.prototype_vectors(list(r.product.images))
        assert r.why["proto"] == pytest.approx(float(np.max(vecs @ q)), abs=1e-4)
    # the sample photos are 128 px: the channel saw them shrunk to the vocabulary's 112 px
    first = engine.catalog.get(response.results[0].product.id).images[0]
    with Image.open(first) as img:
        assert max(img.size) > protos.side
    photo = engine.search(Query(image=open_image(sample_folder / "images" / "S0001-0.png"), k=3))
    assert all("proto" not in r.why for r in photo.results)  # a text-only channel
    off = workflow.build_index(replace(cfg, index=replace(cfg.index, prototypes=False)), progress=False)
    assert off.index.prototypes is None
    assert all("proto" not in r.why for r in off.search(Query(text="Red hoodie", k=3)).results)


def test_the_bridge_weighs_by_the_misfit_and_steps_aside_for_category_words(shop_with_vocabulary):
    from engine import workflow

    cfg, _ = shop_with_vocabulary
    engine = workflow.build_index(cfg, progress=False)
    w = engine.config.fusion
    fit = engine.index.shared_fit
    assert fit is not None and 0.0 <= fit <= 1.0


    plain = engine.search(Query(text="red striped thing", k=5))  # no word names a category
    assert plain.understood is None or not plain.understood.get("category_words")
    for r in plain.results:
        assert r.score == pytest.approx(explained(w, fit, r.why), abs=1e-5)  # the bridge x (1 - fit)
    named = engine.search(Query(text="red striped hoodie", k=5))  # "hoodie" names Apparel/Tops/Hoodies
    for r in named.results:
        assert r.score == pytest.approx(explained(w, fit, r.why, {"proto": 0.0}), abs=1e-5)


def test_the_fit_is_measured_again_when_the_catalogue_grows_while_serving(built_shop, tmp_path):
    """The fit weighs photo queries and the catalogue bridge; a catalogue that grows by more than a
    fifth while serving gets it measured again (from stored vectors), a few products do not move it."""
    from engine.domain_fit import catalogue_fit
    from engine.engine import SearchEngine
    from engine.types import Product

    folder = tmp_path / "shop"
    shutil.copytree(built_shop.path, folder)
    engine = SearchEngine.open(replace(built_shop, data_dir=str(folder)))
    source = [p for p in engine.catalog if p.images][:100]
    engine.index.shared_fit = 0.123  # as if measured on another catalogue
    engine.add_products([p.with_(id=f"few{i}") for i, p in enumerate(source[:10])])
    assert engine.index.shared_fit == 0.123
    engine.add_products([p.with_(id=f"more{i}") for i, p in enumerate(source)])
    assert len(engine.index) == 328 + 110
    assert engine.index.shared_fit == pytest.approx(catalogue_fit(engine.index)) and engine.index.shared_fit != 0.123


def test_a_vocabulary_past_its_size_keeps_title_clusters():
    """More products than entries: each entry is a cluster of like titles, its title their mean and its
    photo the mean of their (standardised) photo features, so no product is dropped."""
    rng = np.random.default_rng(1)
    centres = np.eye(24, dtype=np.float32)[:3] * 10
    group = np.repeat(np.arange(3), 40)
    text = centres[group] + rng.standard_normal((120, 24)).astype(np.float32) * 0.05
    feats = rng.standard_normal((120, 64)).astype(np.float32)
    protos = build_prototypes(text, feats, size=3, dim=8)
    assert protos.text.shape == (3, 24)
    standard = (feats - protos.mean) / protos.std
    for g in range(3):
        entry = int(np.argmax(protos.text @ centres[g]))
        assert float(protos.text[entry] @ centres[g] / 10) > 0.99
        want = standard[group == g].mean(axis=0) @ protos.basis
        assert np.allclose(protos.image[entry], want / np.linalg.norm(want), atol=1e-4)
    drawn = build_prototypes(text, feats, size=3, dim=8, centroids=False)
    assert drawn.text.shape == (3, 24) and not np.allclose(np.sort(drawn.image, axis=0), np.sort(protos.image, axis=0))
