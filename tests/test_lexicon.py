"""Lexical matching (engine/lexicon.py): the catalogue's words in SQLite FTS5, kept with each write, and
the ``lexical`` part they give a query's candidates."""

import sqlite3

import pytest

from engine import lexicon
from engine.catalog import Catalog
from engine.errors import ProductNotFoundError
from engine.types import Filters, Product, Query

HOODIES = [
    Product(id="h1", title="Chaz Kangeroo Hoodie", description="Warm hoodie for cold days",
            category="Men/Tops/Hoodies"),
    Product(id="h2", title="Red Striped Hoodie", description="A red hoodie with a striped pattern. 红色条纹连帽衫",
            category="Apparel/Tops/Hoodies", attributes={"colour": "red"}),
    Product(id="h3", title="Red Dotted Hoodie", description="A red hoodie with a dotted pattern. 红色波点连帽衫",
            category="Apparel/Tops/Hoodies", attributes={"colour": "red"}),
    Product(id="b1", title="Blue bag", category="Accessories/Bags"),
    Product(id="t1", title="Green tee", category="Apparel/Tops/Tees"),
    Product(id="w1", title="Black watch", description="Steel, water resistant", category="Gear/Watches"),
]


@pytest.fixture()
def catalog(tmp_path):
    c = Catalog(tmp_path / "catalog.db")
    c.upsert(HOODIES)
    yield c
    c.close()


def scores(hits: lexicon.Hits) -> dict[str, float]:
    return dict(zip(hits.ids, hits.scores))


def test_segment_writes_cjk_runs_as_characters_and_pairs():
    assert lexicon.segment("条纹连帽衫").split() == ["条", "纹", "连", "帽", "衫", "条纹", "纹连", "连帽", "帽衫"]
    assert lexicon.segment("Mate 30 蓝色").split() == ["Mate", "30", "蓝", "色", "蓝色"]
    assert lexicon.terms("The Red hoodie, with the RED stripes") == ["red", "hoodie", "stripes"]


def test_a_title_holding_every_word_scores_one_and_fewer_words_less(catalog):
    got = scores(catalog.search_words("red striped hoodie", 10))
    assert got["h2"] == pytest.approx(1.0)
    assert 0 < got["h3"] < 0.9  # red and hoodie, not striped
    assert list(catalog.search_words("red striped hoodie", 10).ids)[0] == "h2"


def test_words_meet_their_stems_and_the_description_counts_half(catalog):
    assert scores(catalog.search_words("stripes", 10)) == {"h2": pytest.approx(1.0)}  # "Striped" in the title
    assert scores(catalog.search_words("patterns", 10)) == {"h2": pytest.approx(0.5), "h3": pytest.approx(0.5)}
    assert scores(catalog.search_words("kangeroo", 10)) == {"h1": pytest.approx(1.0)}
    assert "b1" in scores(catalog.search_words("bags", 10))  # the category path is in the title column
    assert scores(catalog.search_words("water resistant", 10)) == {"w1": pytest.approx(0.5)}


def test_chinese_words_meet_without_spaces(catalog):
    got = scores(catalog.search_words("条纹连帽衫", 10))
    assert max(got, key=got.get) == "h2" and got["h2"] > got.get("h3", 0.0)


def test_words_no_product_has_weigh_the_score_down(catalog):
    assert catalog.search_words("zzqx", 10).ids == ()
    partly = scores(catalog.search_words("kangeroo zzqx", 10))
    assert 0 < partly["h1"] < 0.6


def test_updates_and_deletes_move_the_words_with_the_product(catalog):
    catalog.upsert([HOODIES[1].with_(title="Green Striped Hoodie", description="", attributes={})])
    assert "h2" in scores(catalog.search_words("green striped", 10))
    assert scores(catalog.search_words("green striped", 10))["h2"] == pytest.approx(1.0)
    assert scores(catalog.search_words("red striped", 10))["h2"] < 0.6  # striped, no longer red
    catalog.delete("h2")
    assert "h2" not in scores(catalog.search_words("striped", 10))
    with pytest.raises(ProductNotFoundError):
        catalog.delete("h2")
    assert catalog.search_words("striped", 10).ids == ()


def test_a_failed_write_leaves_products_and_words_as_they_were(catalog):
    class Boom(Exception):
        pass

    def products():
        yield HOODIES[0].with_(title="Renamed")
        raise Boom

    with pytest.raises(Boom):
        catalog.upsert(products())
    assert catalog.get("h1").title == "Chaz Kangeroo Hoodie"
    assert "h1" in scores(catalog.search_words("chaz", 10))
    assert catalog.search_words("renamed", 10).ids == ()


def test_a_catalogue_from_before_the_lexicon_gets_its_words_on_open(tmp_path):
    path = tmp_path / "old.db"
    Catalog(path).upsert(HOODIES)
    conn = sqlite3.connect(path)  # as a catalogue written before the lexicon existed
    conn.execute("DROP TABLE lexicon")
    conn.execute("DELETE FROM meta WHERE key = 'lexicon'")
    conn.commit()
    conn.close()
    reopened = Catalog(path)
    assert scores(reopened.search_words("kangeroo", 10)) == {"h1": pytest.approx(1.0)}
    Catalog(path)  # a second open does not write the words twice
    assert len(scores(reopened.search_words("hoodie", 10))) == 3


def test_engine_adds_the_part_and_finds_products_by_their_words(engine):
    product = engine.catalog.get("S0042")
    response = engine.search(Query(text=product.title, k=10))
    assert all("lexical" in r.why for r in response.results)
    top = response.results[0]
    assert top.product.id == product.id or top.product.title == product.title
    assert top.why["lexical"] == pytest.approx(1.0, abs=0.2)


def test_word_hits_respect_filters(engine):
    product = engine.catalog.get("S0042")
    other = next(c for c in engine.index.table.categories if c and c != product.category)
    response = engine.search(Query(text=product.title, k=10, filters=Filters(category=other)))
    assert response.results and all(r.product.category.startswith(other) for r in response.results)


def test_the_part_can_be_switched_off(engine):
    from dataclasses import replace

    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_lexical=0.0))
    response = engine.search(Query(text="red striped hoodie", k=5))
    assert response.results and all("lexical" not in r.why for r in response.results)
