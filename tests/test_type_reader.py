"""The type reader: looks -> the training catalogue's kinds of product, the words that name them, its bundle
round trip, its trust and the engine's part ``type_class``."""

from dataclasses import replace

import numpy as np
import pytest

from engine.config import FusionConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.type_reader import TypeReader, learn_type_reader, type_reader_of
from engine.planner import QueryVectors
from engine.trust import trust
from engine.types import Query

NAMES = ["Casual Shoes", "Dresses", "Heels", "Shoes", "Tshirts", "Watches"]


def _looks(n_classes: int, n: int, dim: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy unit vectors around each of ``n_classes`` random directions, and their class numbers."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    labels = np.repeat(np.arange(n_classes), n)
    looks = centres[labels] + rng.normal(0, 0.6, size=(len(labels), dim))
    return (looks / np.linalg.norm(looks, axis=1, keepdims=True)).astype(np.float32), labels


def _reader(names=NAMES, dim: int = 4) -> TypeReader:
    k = len(names)
    return TypeReader(list(names), np.zeros((3, dim), np.float32), np.zeros(3, np.float32),
                      np.zeros((k, 3), np.float32), np.zeros(k, np.float32), 0.75)


@pytest.mark.parametrize("text, named", [
    ("black heels", ["Heels"]), ("Black Heel", ["Heels"]), ("red dress", ["Dresses"]), ("dresses", ["Dresses"]),
    ("blue casual shoes", ["Casual Shoes"]),  # the longer name, not "Shoes" inside it
    ("a casual shoe and shoes", ["Casual Shoes", "Shoes"]), ("steel watch", ["Watches"]),
    ("white tshirt", ["Tshirts"]), ("chaz kangeroo hoodie", []), ("heelless", []), ("", []),
])
def test_the_reader_knows_the_names_a_text_says(text, named):
    reader = _reader()
    assert [reader.names[i] for i in reader.knows(text)] == named


def test_the_reader_learns_kinds_from_looks_deterministically():
    looks, labels = _looks(3, 60)
    leaves = [["Heels", "Flats", "Tshirts"][c] for c in labels]
    reader = learn_type_reader(leaves + ["", "Rare"], np.vstack([looks, looks[:2]]), 0.75, seed=3)
    assert reader.names == ["Flats", "Heels", "Tshirts"]  # "" and a leaf under MIN_PHOTOS get no class
    heels = reader.read(looks, [reader.names.index("Heels")])
    assert ((0.0 <= heels) & (heels <= 1.0)).all()
    assert heels[labels == 0].mean() > 0.8 > 0.2 > heels[labels != 0].mean()
    both = reader.read(looks, [0, 1])
    np.testing.assert_allclose(both, reader.read(looks, [0]) + reader.read(looks, [1]), rtol=1e-5)
    again = learn_type_reader(leaves + ["", "Rare"], np.vstack([looks, looks[:2]]), 0.75, seed=3)
    np.testing.assert_array_equal(again.w1, reader.w1)
    np.testing.assert_array_equal(reader.b2, reader.b2.astype(np.float16).astype(np.float32))  # as a bundle stores it
    loaded = TypeReader.from_tensors(reader.tensors(), reader.meta())
    np.testing.assert_allclose(loaded.w1, reader.w1, rtol=1e-6)
    assert learn_type_reader(["Heels"] * 20, looks[:20], 0.75) is None  # one kind: nothing to tell apart


def test_a_bundle_keeps_its_type_reader(tmp_path, tiny_text_model):
    from engine.workflow import new_bundle
    from tests.tiny import tiny_config

    bundle, _ = new_bundle(tiny_config(tmp_path / "d", tiny_text_model))
    plain = bundle.fingerprint
    looks, labels = _looks(2, 30, dim=bundle.image_dim + 1)
    bundle.types = learn_type_reader([["Heels", "Flats"][c] for c in labels], looks, 0.75)
    assert bundle.fingerprint != plain
    loaded = ModelBundle.load(bundle.save(tmp_path / "b"))
    assert loaded.types.names == ["Flats", "Heels"] and loaded.types.colour_weight == 0.75
    np.testing.assert_array_equal(loaded.types.read(looks, [1]), bundle.types.read(looks, [1]))
    assert loaded.fingerprint == bundle.fingerprint
    assert ModelBundle.load(replace(bundle, types=None).save(tmp_path / "c")).types is None


def test_the_type_reader_trusts_the_space_fit_and_gives_way_to_the_shops_category_words():
    fusion, qv = FusionConfig(), QueryVectors(np.ones(2, np.float32))
    assert trust(0.9, fusion, qv, None).type_class == pytest.approx(0.9 ** fusion.fit_power)
    assert trust(0.9, fusion, qv, np.ones(3)).type_class == 0.0  # the words name the shop's categories
    assert trust(None, fusion, qv, None).type_class == 1.0
    assert trust(0.2, replace(fusion, type_by_fit=False), qv, None).type_class == 1.0


@pytest.fixture(scope="module")
def typed_engine(built_shop, tmp_path_factory):
    """The sample shop indexed with a bundle whose type reader was learnt from its own photos and category
    leaves (a fresh data directory, so the session's shop keeps its index)."""
    import shutil

    from engine.engine import SearchEngine

    folder = tmp_path_factory.mktemp("typed-shop")
    shutil.copy(built_shop.path / "catalog.db", folder / "catalog.db")
    plain = SearchEngine.open(built_shop)
    bundle = ModelBundle.load(built_shop.path / "bundle")
    bundle.types = type_reader_of(list(plain.catalog), plain.embedder, plain.index.look_colour_weight)
    return SearchEngine.build(replace(built_shop, data_dir=str(folder)), bundle)


def test_the_engine_scores_named_kinds_by_the_reader(typed_engine):
    engine = typed_engine
    assert "Hoodies" in engine.embedder.bundle.types.names
    response = engine.search(Query(text="hoodies", k=40))
    results = response.results
    assert all("type_class" in r.why for r in results) and response.understood["kinds"] == ["Hoodies"]
    hoodies = [r.why["type_class"] for r in results if r.product.category.endswith("/Hoodies")]
    other = [r.why["type_class"] for r in results if not r.product.category.endswith("/Hoodies")]
    assert hoodies and other and np.mean(hoodies) > np.mean(other)
    plain = engine.search(Query(text="blue", k=5))
    assert all("type_class" not in r.why for r in plain.results) and "kinds" not in plain.understood
    assert all("type_class" not in r.why for r in engine.search(Query(text="hoodies", k=5, read_words=False)).results)
    kept = engine.config
    try:
        engine.config = replace(kept, fusion=replace(kept.fusion, w_type_class=0.0))
        assert all("type_class" not in r.why for r in engine.search(Query(text="hoodies", k=5)).results)
    finally:
        engine.config = kept
    kinds = engine.index.kinds
    assert kinds is not None and kinds.dim == len(engine.embedder.bundle.types.names)
    stored = kinds.take(kinds.rows_of(engine.index.table.row_of[results[0].product.id]))
    np.testing.assert_allclose(stored.sum(axis=1), 1.0, rtol=1e-5)  # each photo's probabilities, kept at indexing
    reader = engine.embedder.bundle.types
    engine.embedder.bundle.types = replace(reader, names=reader.names + ["Extra"])  # not the reader the index kept
    try:
        assert all("type_class" not in r.why for r in engine.search(Query(text="hoodies", k=5)).results)
    finally:
        engine.embedder.bundle.types = reader


def test_an_index_keeps_kinds_only_for_a_reader_of_its_looks(built_shop, tmp_path):
    """A reader trained on looks of another colour-block weight gets no channel (its probabilities would be
    read from the wrong vectors); the session's shop, whose bundle has none, has none either."""
    import shutil

    from engine.engine import SearchEngine

    assert SearchEngine.open(built_shop).index.kinds is None
    shutil.copy(built_shop.path / "catalog.db", tmp_path / "catalog.db")
    bundle = ModelBundle.load(built_shop.path / "bundle")
    looks, labels = _looks(2, 30, dim=bundle.image_dim)
    bundle.types = learn_type_reader([["Heels", "Flats"][c] for c in labels], looks, colour_weight=None)
    assert not bundle.types.reads(bundle.image_dim, built_shop.index.look_colour_weight)
    assert SearchEngine.build(replace(built_shop, data_dir=str(tmp_path)), bundle).index.kinds is None


@pytest.mark.parametrize("text, colours, share", [
    ("black heels", ["black"], 1.0), ("black heels under 300", ["black"], 1.0), ("heels for women", [], 0.5),
    ("Mother Earth Women Aug Bagru Red Dresses", ["red"], 2 / 7), ("navy blue casual shoes", ["navy blue"], 1.0),
    ("Nike Women Black Heels", ["black"], 0.5), ("", [], 0.0),
])
def test_the_share_of_words_naming_kinds_or_colours(text, colours, share):
    reader = _reader()
    ids, got = reader.share(text, colours)
    assert got == pytest.approx(share) and ids == reader.knows(text)


def test_the_score_adds_the_type_part_by_the_formula(typed_engine):
    """score = ... + w_type_class x fit ** fit_power x type_class, and its weight 0 where the words name the
    shop's categories ("hoodies" does in the sample shop) (fails if fusion ignores the part or its trust)."""
    from tests.fusion_formula import explained

    engine, kept = typed_engine, typed_engine.config
    fit = engine.index.shared_fit
    try:
        engine.config = replace(kept, fusion=replace(kept.fusion, w_type_class=0.5))
        named = engine.search(Query(text="hoodies", k=8)).results
        assert all(r.score == pytest.approx(explained(engine.config.fusion, fit, r.why, {"type_class": 0.0}), abs=1e-5)
                   for r in named)
        engine.config = replace(engine.config, read_categories=False)
        unnamed = engine.search(Query(text="hoodies", k=8)).results
        assert any(r.why["type_class"] > 0.1 for r in unnamed)
        assert all(r.score == pytest.approx(explained(engine.config.fusion, fit, r.why), abs=1e-5) for r in unnamed)
    finally:
        engine.config = kept
