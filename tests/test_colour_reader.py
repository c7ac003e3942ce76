"""The colour reader: palettes -> a catalogue's colour values, its bundle round trip and the engine's part."""

from dataclasses import replace

import numpy as np
import pytest

from engine.encoders.colour_reader import FLOOR, learn_reader
from engine.encoders.colour_words import ColourWords, learn_colour_words
from engine.types import Query


def _palettes(centres: list[int], n: int, dim: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy unit palettes around each of the bins ``centres``, and their labels."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for label, centre in enumerate(centres):
        base = np.zeros(dim, np.float32)
        base[centre], base[(centre + 1) % dim] = 1.0, 0.4
        noisy = np.abs(base + rng.normal(0, 0.15, size=(n, dim))).astype(np.float32)
        rows.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        labels += [label] * n
    return np.vstack(rows), np.array(labels)


def test_the_reader_tells_near_colours_apart_where_the_prototypes_cannot():
    """"navy blue" and "blue" share a bin but differ in the next one: the reader learns the difference."""
    palettes, labels = _palettes([3, 3, 7], 40)
    palettes[labels == 0, 2] += 0.5  # navy: darker neighbour bin
    reader = learn_reader(["navy blue", "blue", "red"], labels, palettes)
    scores = reader.read(palettes, [0])
    assert scores[labels == 0].min() > scores[labels == 1].max()
    assert ((0.0 <= scores) & (scores <= 1.0)).all()
    assert reader.read(palettes, [0, 2]).shape == (len(labels),)
    assert learn_reader(["a", "b"], np.array([0, -1, 1, -1]), palettes[:4]).names == ["a", "b"]  # -1: left out


def test_the_score_floors_certain_misses():
    palettes, labels = _palettes([1, 8], 30)
    reader = learn_reader(["red", "blue"], labels, palettes)
    reader.weight, reader.bias = reader.weight * 100, reader.bias * 100  # certain
    scores = reader.read(palettes[labels == 1], [0])
    assert scores.min() == pytest.approx(FLOOR / -FLOOR + 1.0) == 0.0


def test_colour_words_learn_a_reader_from_palettes_and_keep_it_through_a_bundle_file():
    palettes, labels = _palettes([2, 6, 9], 20)
    names = np.array(["Red", "Blue", "Grey"])[labels].tolist() + [""] * 3
    hist = np.abs(np.random.default_rng(1).normal(size=(len(names), 8)))
    palettes = np.vstack([palettes, palettes[:3]])
    words = learn_colour_words(names, hist, min_photos=5, palettes=palettes)
    assert words.reader.names == words.names == ["blue", "grey", "red"]
    loaded = ColourWords.from_tensors(words.tensors(), words.meta())
    assert loaded.reader.names == words.reader.names
    np.testing.assert_array_equal(loaded.reader.read(palettes, [1]), words.reader.read(palettes, [1]))  # stored as read
    again = ColourWords.from_tensors(loaded.tensors(), loaded.meta())
    assert again.fingerprint_bytes() == loaded.fingerprint_bytes()
    plain = learn_colour_words(names, hist, min_photos=5)
    assert plain.reader is None and "reader_names" not in plain.meta()
    assert plain.fingerprint_bytes() != words.fingerprint_bytes()


def test_merged_words_keep_the_shops_reader_else_the_bundles():
    palettes, labels = _palettes([2, 6], 10)
    base = learn_colour_words(np.array(["red", "blue"])[labels].tolist(), palettes[:, :8], min_photos=3, palettes=palettes)
    shop = ColourWords(["teal"], np.eye(1, 8, dtype=np.float32))
    assert shop.merged(base).reader is base.reader and base.merged(shop).reader is base.reader
    shop.reader = learn_reader(["teal", "red"], labels, palettes)
    assert base.merged(shop).reader is shop.reader


def test_the_engine_weighs_the_reader_for_named_colours(engine):
    """The sample shop's colour attribute teaches the bundle a reader; a query naming a colour gets the part
    ``colour_class`` where it weighs > 0, and the named colour's photos score higher on it."""
    reader = engine.embedder.bundle.colours.reader
    assert reader is not None and "blue" in reader.names and engine.index.palettes is not None
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_colour_class=0.5))
    results = engine.search(Query(text="blue", k=40)).results
    assert all("colour_class" in r.why for r in results)
    blue = [r.why["colour_class"] for r in results if r.product.attributes.get("colour") == "blue"]
    other = [r.why["colour_class"] for r in results if r.product.attributes.get("colour") not in ("blue", None)]
    assert blue and other and np.mean(blue) > np.mean(other)
    assert all("colour_class" not in r.why for r in engine.search(Query(text="hoodie", k=5)).results)
    engine.config = replace(engine.config, read_colours=False)
    assert all("colour_class" not in r.why for r in engine.search(Query(text="blue", k=5)).results)
    engine.config = replace(engine.config, read_colours=True)
    wide = replace(reader, weight=np.zeros((len(reader.names), reader.dim + 1), np.float32), stored=None)
    engine.embedder.bundle.colours.reader = wide  # a reader fitted on another palette layout is left out
    try:
        assert all("colour_class" not in r.why for r in engine.search(Query(text="blue", k=5)).results)
    finally:
        engine.embedder.bundle.colours.reader = reader
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_colour_class=0.0))
    assert all("colour_class" not in r.why for r in engine.search(Query(text="blue", k=5)).results)


def test_from_many_photos_the_reader_is_a_seeded_mlp_kept_as_read(monkeypatch):
    """Past ``MLP_MIN_PHOTOS`` labelled photos the reader is an MLP: it tells near colours apart, the same
    photos and seed give the same reader, and a bundle file gives back what it reads; fewer photos keep the
    regression."""
    from engine.encoders import colour_reader

    palettes, labels = _palettes([3, 3, 7], 60)
    palettes[labels == 0, 2] += 0.5  # navy: darker neighbour bin
    monkeypatch.setattr(colour_reader, "MLP_MIN_PHOTOS", 100)
    names = ["navy blue", "blue", "red"]
    mlp = learn_reader(names, labels, palettes)
    assert mlp.w1 is not None and mlp.w1.shape == (colour_reader.HIDDEN, palettes.shape[1]) and mlp.dim == 12
    assert np.mean(mlp.log_probabilities(palettes).argmax(axis=1) == labels) > 0.9
    navy = mlp.read(palettes, [0])
    assert navy[labels == 0].mean() > navy[labels == 1].mean()
    np.testing.assert_array_equal(learn_reader(names, labels, palettes).log_probabilities(palettes),
                                  mlp.log_probabilities(palettes))
    assert not np.array_equal(learn_reader(names, labels, palettes, seed=1).w1, mlp.w1)
    words = ColourWords(names, np.eye(3, 8, dtype=np.float32), reader=mlp)
    loaded = ColourWords.from_tensors(words.tensors(), words.meta())
    assert loaded.reader.w1 is not None and loaded.fingerprint_bytes() == words.fingerprint_bytes()
    np.testing.assert_array_equal(loaded.reader.log_probabilities(palettes), mlp.log_probabilities(palettes))
    assert learn_reader(names, np.where(np.arange(len(labels)) < 99, labels, -1), palettes).w1 is None


def test_the_index_keeps_each_photos_colour_reading_and_the_part_reads_it(engine):
    """Channel "shade" holds the reader's log-probabilities of every photo's palette; the part
    ``colour_class`` scores them, and an index without the channel (older snapshots) scores the palettes
    to the same values."""
    reader, index = engine.embedder.bundle.colours.reader, engine.index
    assert index.shades is not None and index.shades.dim == len(reader.names)
    np.testing.assert_allclose(index.shades.vectors, reader.log_probabilities(index.palettes.vectors), atol=1e-5)
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_colour_class=0.5))
    with_channel = {r.product.id: r.why["colour_class"] for r in engine.search(Query(text="blue hoodie", k=20)).results}
    del index.channels["shade"]
    without = {r.product.id: r.why["colour_class"] for r in engine.search(Query(text="blue hoodie", k=20)).results}
    shared = with_channel.keys() & without.keys()
    assert len(shared) >= 10
    assert all(abs(with_channel[i] - without[i]) < 1e-4 for i in shared)


def test_a_product_added_while_serving_gets_its_photos_colour_reading(built_shop, tmp_path):
    """Writes while serving fill channel "shade" as indexing does: the new product's rows are the reader's
    log-probabilities of its palettes, and it is scored from them."""
    import shutil

    from engine.engine import SearchEngine

    shutil.copytree(built_shop.path, tmp_path / "shop")
    engine = SearchEngine.open(replace(built_shop, data_dir=str(tmp_path / "shop")))
    first = next(p for p in engine.catalog if p.attributes.get("colour") == "blue")
    engine.add_products([replace(first, id="BLUE-TWIN", title="Another blue listing")])
    index, reader = engine.index, engine.embedder.bundle.colours.reader
    row = index.table.row_of["BLUE-TWIN"]
    shades, palettes = index.shades.take(index.shades.rows_of(row)), index.palettes.take(index.palettes.rows_of(row))
    assert len(shades) == len(first.images) > 0
    np.testing.assert_allclose(shades, reader.log_probabilities(palettes), atol=1e-5)
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_colour_class=0.5))
    twin = next(r for r in engine.search(Query(text="blue", k=400)).results if r.product.id == "BLUE-TWIN")
    assert twin.why["colour_class"] == pytest.approx(float(reader.read(palettes, reader.knows(["blue"])).max()), abs=1e-4)


def test_a_palette_bin_no_training_photo_has_keeps_the_mlp_finite(monkeypatch):
    """A bin that is 0 in every training palette has no spread to standardise by; its folded weights must not
    overflow float16 (they had: a reader from a few thousand photos read nothing) nor blow up on a photo that
    has the bin."""
    from engine.encoders import colour_reader

    palettes, labels = _palettes([3, 7], 60)
    palettes[:, 11] = 0.0  # no training photo has this bin
    monkeypatch.setattr(colour_reader, "MLP_MIN_PHOTOS", 100)
    mlp = learn_reader(["blue", "red"], labels, palettes)
    assert np.isfinite(mlp.w1).all() and np.isfinite(mlp.b1).all() and np.abs(mlp.w1[:, 11]).max() < 10
    odd = palettes[:5].copy()
    odd[:, 11] = 0.8
    assert np.isfinite(mlp.log_probabilities(odd)).all()
    assert np.mean(mlp.log_probabilities(palettes).argmax(axis=1) == labels) > 0.9
