"""Colour words: learned prototypes, phrase matching, the bundle round trip, and the engine's colour part."""

from dataclasses import replace

import numpy as np
import pytest

from engine.encoders.colour_words import ColourWords, learn_colour_words, single_colour, words_of
from engine.types import Query
from tests.fusion_formula import explained


def _vocabulary() -> ColourWords:
    rng = np.random.default_rng(3)
    names = ["blue", "navy blue", "grey", "off white", "red"]
    protos = np.abs(rng.normal(size=(len(names), 8))).astype(np.float32)
    return ColourWords(names, protos / np.linalg.norm(protos, axis=1, keepdims=True))


def test_learned_prototypes_are_the_normalised_mean_of_unit_histograms():
    rng = np.random.default_rng(0)
    hist = np.abs(rng.normal(size=(13, 6))).astype(np.float32)
    colours = ["Navy Blue"] * 5 + ["gray"] * 3 + ["Grey"] * 2 + ["Red"] * 2 + [""]
    words = learn_colour_words(colours, hist, min_photos=3)
    assert words.names == ["grey", "navy blue"]  # "gray" and "Grey" are one colour; red has too few photos
    unit = hist / np.linalg.norm(hist, axis=1, keepdims=True)
    want = unit[5:10].mean(0)
    np.testing.assert_allclose(words.prototypes[0], want / np.linalg.norm(want), rtol=1e-5)
    assert learn_colour_words(["red", ""], hist[:2], min_photos=3) is None


def test_phrases_match_longest_first_on_word_boundaries():
    words = _vocabulary()
    assert words.match("Navy Blue polo shirt")[0] == ["navy blue"]
    assert words.match("blue and off-white sneakers")[0] == ["blue", "off white"]
    assert words.match("a GRAY hoodie")[0] == ["grey"]  # US spelling, the vocabulary's form
    assert words.match("bluetooth speaker, reddish")[0] == []  # no colour word inside another word
    assert words.match("red red dress")[0] == ["red"]
    assert words.match("hoodie") == ([], None)
    names, proto = words.match("red or blue")
    want = words.prototypes[[4, 0]].mean(0)
    np.testing.assert_allclose(proto, want / np.linalg.norm(want), rtol=1e-5)
    assert words_of("Grey-Melange T-shirt") == ["grey", "melange", "t", "shirt"]


def test_colour_names_in_unspaced_scripts_are_found_inside_words():
    rng = np.random.default_rng(5)
    protos = np.abs(rng.normal(size=(3, 8))).astype(np.float32)
    words = ColourWords(["红色", "深蓝色", "蓝色"], protos / np.linalg.norm(protos, axis=1, keepdims=True))
    assert words.match("红色连衣裙")[0] == ["红色"]
    assert words.match("深蓝色T恤")[0] == ["深蓝色"]  # not also 蓝色, which it contains
    assert words.match("蓝色和红色的包")[0] == ["红色", "蓝色"]
    assert words.match("连衣裙") == ([], None)
    learned = learn_colour_words(["红色"] * 3 + ["蓝色"] * 3, np.abs(rng.normal(size=(6, 8))), min_photos=3)
    assert learned.names == ["红色", "蓝色"] and learned.match("红色连衣裙")[0] == ["红色"]


def test_shoppers_words_for_a_colour_reach_the_vocabularys_name():
    """"navy", "dark blue", Chinese "藏青色" and "蓝色" name colours an English vocabulary calls "navy blue"
    and "blue"; a vocabulary with the word itself keeps its own, and a name the vocabulary lacks is not invented."""
    words = _vocabulary()
    assert words.match("Navy hoodie")[0] == ["navy blue"]
    assert words.match("dark blue jeans")[0] == ["navy blue"]
    assert words.match("Navy Blue polo")[0] == ["navy blue"]
    assert words.match("藏青色卫衣")[0] == ["navy blue"]
    assert words.match("深蓝色外套和红色围巾")[0] == ["navy blue", "red"]  # 深蓝色 first, so not also 蓝色
    assert words.match("蓝色T恤")[0] == ["blue"]
    assert words.match("golden watch")[0] == []  # the vocabulary has no "gold"
    rng = np.random.default_rng(4)
    protos = np.abs(rng.normal(size=(3, 8))).astype(np.float32)
    own = ColourWords(["navy", "navy blue", "蓝色"], protos / np.linalg.norm(protos, axis=1, keepdims=True))
    assert own.match("navy hoodie")[0] == ["navy"] and own.match("浅蓝色")[0] == ["蓝色"]


def test_aliases_are_written_as_the_vocabularys_names_for_the_text_tower():
    """What the text tower reads: an alias in use becomes its name; names and longer phrases stay whole;
    aliases the caller keeps (the shop's own words) and texts with no alias come back unchanged."""
    words = _vocabulary()
    assert words.rewritten("navy hoodie") == "navy blue hoodie"
    assert words.rewritten("NAVY  hoodie, size 12") == "navy blue hoodie, size 12"
    assert words.rewritten("Navy Blue polo") == "Navy Blue polo"  # the name itself: not "navy blue blue"
    assert words.rewritten("dark blue jeans") == "navy blue jeans"
    assert words.rewritten("藏青色卫衣") == "navy blue 卫衣" and words.rewritten("蓝色T恤") == "blue T恤"
    assert words.rewritten("navyish top") == "navyish top"  # whole words only
    assert words.rewritten("golden watch") == "golden watch"  # no "gold" in this vocabulary: not invented
    assert words.rewritten("Old Navy jeans", keep=lambda alias: alias == "navy") == "Old Navy jeans"
    text = "iPhone 12  256GB"
    assert words.rewritten(text) is text
    own = ColourWords(["navy", "blue"], np.eye(2, 8, dtype=np.float32))
    assert own.rewritten("navy hoodie") == "navy hoodie"  # the shop's own colour


def test_the_text_tower_reads_an_alias_as_its_colour_unless_the_shop_uses_the_word(built_shop, tmp_path):
    """On the sample shop, whose titles never say "navy", "navy hoodie" is embedded as "navy blue hoodie"
    (reported as ``embedded_as``) and ranks as that query does; once a product title uses "navy" the words
    are embedded as typed; read_colours=false leaves them as typed too."""
    import shutil

    from engine.engine import SearchEngine
    from engine.types import Product

    shutil.copytree(built_shop.path, tmp_path / "shop")
    engine = SearchEngine.open(replace(built_shop, data_dir=str(tmp_path / "shop")))
    navy = engine.search(Query(text="navy hoodie", k=8))
    assert navy.understood["embedded_as"] == "navy blue hoodie"
    named = engine.search(Query(text="navy blue hoodie", k=8))
    assert [r.product.id for r in navy.results] == [r.product.id for r in named.results]
    assert "embedded_as" not in engine.search(Query(text="blue hoodie", k=3)).understood
    engine.config = replace(engine.config, read_colours=False)
    assert "embedded_as" not in (engine.search(Query(text="navy hoodie", k=3)).understood or {})
    engine.config = replace(engine.config, read_colours=True)
    first = next(iter(engine.catalog))
    engine.add_products([replace(first, id="OLD-NAVY-1", title="Old Navy hoodie")])
    assert "embedded_as" not in engine.search(Query(text="navy hoodie", k=3)).understood


def test_only_products_stating_one_colour_teach_it():
    assert single_colour({"colour": "Navy Blue"}) == "Navy Blue"
    assert single_colour({"color": "red"}) == "red"
    for several in ("Black|Blue", "red, white", "black & white", "red and blue", ""):
        assert single_colour({"colour": several}) == ""
    assert single_colour({}) == ""


def test_a_shops_colours_are_added_and_win_over_the_bundles():
    base = _vocabulary()
    shop = ColourWords(["red", "teal"], np.eye(2, 8, dtype=np.float32))
    merged = base.merged(shop)
    assert set(merged.names) == set(base.names) | {"teal"}
    np.testing.assert_array_equal(merged.prototypes[merged.names.index("red")], shop.prototypes[0])
    np.testing.assert_array_equal(merged.prototypes[merged.names.index("blue")], base.prototypes[0])


def test_a_bundle_keeps_its_colour_words(built_shop, tmp_path):
    from engine.encoders.bundle import ModelBundle

    bundle = ModelBundle.load(built_shop.path / "bundle")
    assert bundle.colours is not None and {"blue", "grey", "red"} <= set(bundle.colours.names)
    assert {"navy blue", "maroon"} <= set(bundle.colours.names)  # trained from scratch: the default's words too
    saved = ModelBundle.load(bundle.save(tmp_path / "b"))
    assert saved.colours.names == bundle.colours.names and saved.fingerprint == bundle.fingerprint
    np.testing.assert_allclose(saved.colours.prototypes, bundle.colours.prototypes, atol=2e-3)  # float16 on disk
    bundle.colours = None  # a bundle without colour words keeps no colour entry (older fingerprints hold)
    assert "colours" not in bundle.describe() and saved.fingerprint != bundle.fingerprint


def test_colour_words_bring_that_colour_forward(engine):
    """The colour part alone (every other part's weight 0) ranks the photos of the named colour first:
    the prototype learned from the shop's colour attribute matches its photos' histograms."""
    fusion = replace(engine.config.fusion, colour_by_fit=False, w_text=0.0, w_visual=0.0, w_bridge=0.0, w_proto=0.0,
                     w_lexical=0.0)
    engine.config = replace(engine.config, fusion=fusion, read_categories=False)
    on = engine.search(Query(text="blue", k=10))
    assert on.understood["colours"] == ["blue"] and all("colour" in r.why for r in on.results)
    zh = engine.search(Query(text="蓝色", k=10))  # Chinese for blue, through the aliases: the same colour part
    assert zh.understood["colours"] == ["blue"] and [r.product.id for r in zh.results] == [r.product.id for r in on.results]
    engine.config = replace(engine.config, read_colours=False)
    off = engine.search(Query(text="blue", k=10))
    assert "colours" not in (off.understood or {}) and all("colour" not in r.why for r in off.results)
    blue_on = sum(r.product.attributes["colour"] == "blue" for r in on.results)
    blue_off = sum(r.product.attributes["colour"] == "blue" for r in off.results)
    assert blue_on == 10 and blue_off < 10


def test_indexes_without_a_colour_block_skip_the_colour_part(engine):
    engine.index.look_colour_weight = None  # snapshots saved before the looks kept colour as its own block
    response = engine.search(Query(text="red hoodie", k=5))
    assert all("colour" not in r.why for r in response.results)
    assert "colours" not in (response.understood or {})


@pytest.mark.parametrize("fit", [0.2, 0.97])
def test_the_colour_weight_follows_the_misfit(engine, fit):
    """Both colour words' parts weigh by 1 - fit; the reader's keeps at least ``colour_class_floor`` of its
    weight (at fit 0.97 the floor, 0.1, is above the misfit)."""
    engine.index.shared_fit = fit
    response = engine.search(Query(text="green mug", k=5))
    w = engine.config.fusion
    assert w.colour_class_floor > 1 - 0.97
    for r in response.results:
        assert r.score == pytest.approx(explained(w, fit, r.why), abs=1e-5)
        assert r.why.get("colour_class", 0.0) > 0
    floorless = replace(engine.config, fusion=replace(w, colour_class_floor=0.0))
    engine.config, before = floorless, engine.config
    try:
        for r in engine.search(Query(text="green mug", k=5)).results:
            assert r.score == pytest.approx(explained(floorless.fusion, fit, r.why, {"colour_class": 1 - fit}), abs=1e-5)
    finally:
        engine.config = before


def test_a_loaded_bundle_has_the_fingerprint_its_file_states(built_shop, tmp_path):
    """Vocabularies stored quantised (int8 bridge rows, float16 colour rows) hash the rows as stored, so a
    bundle loaded back reports the fingerprint written in its bundle.json, and saving it again changes
    nothing."""
    import json

    from engine.encoders.bundle import ModelBundle, default_bundle_path

    for folder in (default_bundle_path(), built_shop.path / "bundle"):
        bundle = ModelBundle.load(folder)
        assert bundle.fingerprint == json.loads((folder / "bundle.json").read_text())["fingerprint"]
    default = ModelBundle.load(default_bundle_path())
    assert default.prototypes is not None and default.colours is not None and default.types is not None
    again = ModelBundle.load(default.save(tmp_path / "again"))
    assert again.fingerprint == default.fingerprint
    for name in ("prototypes.safetensors", "colours.safetensors", "types.safetensors"):
        assert (tmp_path / "again" / name).read_bytes() == (default_bundle_path() / name).read_bytes()
