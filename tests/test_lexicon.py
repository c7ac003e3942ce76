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


def scores(found: list[tuple[str, float]]) -> dict[str, float]:
    return dict(found)


def test_terms_stem_plurals_join_hyphens_and_cut_cjk_runs_into_characters_and_pairs():
    assert lexicon.terms_of("条纹连帽衫") == ["条", "纹", "连", "帽", "衫", "条纹", "纹连", "连帽", "帽衫"]
    assert lexicon.terms_of("Mate 30 蓝色") == ["mate", "30", "蓝", "色", "蓝色"]
    assert lexicon.terms("The Red hoodies, with the RED dresses") == ["red", "hoodie", "dress"]
    assert lexicon.terms_of("Grey T-shirt") == ["grey", "t", "shirt", "tshirt"]  # a title meets "tshirts"
    assert lexicon.terms("grey t-shirts") == ["grey", "tshirt"]  # and a query typed either way meets it
    assert [lexicon.stem(w) for w in ("hoody", "hoodies", "watches", "dress", "this", "accessory", "accessories")] == \
        ["hoodie", "hoodie", "watch", "dress", "this", "accessorie", "accessorie"]
    assert lexicon.terms("Café") == lexicon.terms("cafe")


def test_a_title_holding_every_word_scores_one_and_fewer_words_less(catalog):
    got = scores(catalog.search_words("red striped hoodie", 10))
    assert got["h2"] == pytest.approx(1.0)
    assert 0 < got["h3"] < 0.9  # red and hoodie, not striped
    assert catalog.search_words("red striped hoodie", 10)[0][0] == "h2"


def test_words_meet_their_stems_and_the_description_counts_half(catalog):
    assert scores(catalog.search_words("striped", 10)) == {"h2": pytest.approx(1.0)}
    assert scores(catalog.search_words("stripes", 10)) == {"h2": pytest.approx(1.0)}  # a title's "Striped" too
    assert lexicon.terms_of("Dotted")[-1] == "dot" and lexicon.terms("dots") == ["dot"]
    assert scores(catalog.search_words("patterns", 10)) == {"h2": pytest.approx(0.5), "h3": pytest.approx(0.5)}
    assert scores(catalog.search_words("kangeroo", 10)) == {"h1": pytest.approx(1.0)}
    assert "b1" in scores(catalog.search_words("bags", 10))  # the category path is in the title column
    assert scores(catalog.search_words("water resistant", 10)) == {"w1": pytest.approx(0.5)}


def test_chinese_words_meet_without_spaces(catalog):
    got = scores(catalog.search_words("条纹连帽衫", 10))
    assert max(got, key=got.get) == "h2" and got["h2"] > got.get("h3", 0.0)


def test_a_chinese_querys_pairs_across_its_words_are_held_by_their_characters(catalog):
    """"红色连帽衫" holds "红色" and "连帽衫" but not the pair "色连" across them, nor does any title that puts a word
    between them ("红色波点连帽衫"): such a title holds every word (as "Red Dotted Hoodie" holds "red hoodie"), so a
    price order and refine keep it (part ``all_words``); before, only a title with the exact phrase did."""
    catalog.upsert([Product(id="z1", title="红色连帽衫"), Product(id="z2", title="红色波点连帽衫"),
                    Product(id="z3", title="蓝色波点连帽衫")])
    lexical, whole = catalog.word_parts(catalog.words("红色连帽衫"), ["z1", "z2", "z3"])
    assert whole == [1.0, 1.0, 0.0]
    assert lexical[0] == pytest.approx(1.0) and lexical[2] < lexical[1] < 1.0  # the exact phrase still ranks first


def test_words_no_product_has_weigh_the_score_down(catalog):
    assert catalog.search_words("zzqx", 10) == []
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
    assert catalog.search_words("striped", 10) == []


def test_a_price_update_keeps_the_row_and_leaves_the_words_as_they_are(catalog, monkeypatch):
    """A price feed rewrites no terms (3x faster, and the FTS5 table is not churned); changed words are."""
    conn = catalog._conn()
    row = conn.execute("SELECT rowid FROM products WHERE id = 'h2'").fetchone()[0]
    rewrites = []
    monkeypatch.setattr(lexicon, "rewrite", lambda *a, **k: rewrites.append(a[1]))
    catalog.upsert([HOODIES[1].with_(price=9.5, images=("a.jpg",))])
    assert rewrites == [] and catalog.get("h2").price == 9.5 and catalog.count() == len(catalog) == 6
    assert conn.execute("SELECT rowid FROM products WHERE id = 'h2'").fetchone()[0] == row
    catalog.upsert([HOODIES[1].with_(title="Red Striped Hoodie!", price=9.5)])  # words changed: rewritten
    assert rewrites == [row]
    monkeypatch.undo()
    catalog.upsert([HOODIES[1].with_(title="Red STRIPED hoodie", price=8.0)])  # the same terms: left as they are
    catalog.upsert([HOODIES[1].with_(title="Red Checked Hoodie", description="", price=8.0)])
    assert scores(catalog.search_words("checked", 10)) == {"h2": pytest.approx(1.0)}
    assert catalog.search_words("striped", 10) == [] and catalog.words("stripe").weights["stripe"][1] == 0


def test_stock_links_and_codes_are_not_words(catalog):
    """A feed's availability, stock, links and codes are no search words: "in stock" matched every product a
    feed listed so, a link's "https shop example" words matched, and each stock change rewrote the terms."""
    feed = HOODIES[1].with_(attributes={"brand": "Acme", "availability": "in stock", "stock": "17",
                                        "link": "https://shop.example/p/h2", "gtin": "4006381333931",
                                        "page": "https://shop.example/h2"})
    catalog.upsert([feed])
    title = catalog._conn().execute("SELECT l.title FROM lexicon l JOIN products p ON p.rowid = l.rowid "
                                    "WHERE p.id = 'h2'").fetchone()[0].split()
    assert "acme" in title and not {"stock", "17", "https", "shop", "example", "4006381333931"} & set(title)
    assert catalog.search_words("acme", 10) and not catalog.search_words("example", 10)


def test_term_counts_follow_writes(catalog):
    def df(term: str) -> int:
        return catalog.words(term).weights.get(term, (0.0, 0))[1]

    assert df("hoodie") == 3 and df("red") == 2 and df("chaz") == 1 and catalog.count() == 6
    catalog.upsert([HOODIES[1].with_(title="Green Striped Hoodie", description="", attributes={})])
    assert df("red") == 1 and df("green") == 2 and df("hoodie") == 3 and catalog.count() == 6
    catalog.delete("h1")
    assert df("chaz") == 0 and df("hoodie") == 2 and catalog.count() == len(catalog) == 5


def _lexicon_state(c: Catalog) -> tuple[dict, dict]:
    conn = c._conn()
    docs = dict(conn.execute("SELECT p.id, l.title || '|' || l.body FROM lexicon l JOIN products p ON p.rowid = l.rowid"))
    return docs, dict(conn.execute("SELECT term, n FROM lexicon_df WHERE n > 0"))


def test_rewrites_leave_the_words_and_counts_a_fresh_catalogue_of_the_same_products_has(catalog, tmp_path):
    """Attribute feeds reuse the stored description's terms and count only the terms that came or went:
    after any mix of writes the lexicon equals that of the same products written once."""
    catalog.upsert([HOODIES[1].with_(attributes={"colour": "red", "stock": "in"}),  # an attribute: title column
                    HOODIES[2].with_(description="A red hoodie, Café dots. 红色"),  # the description alone
                    HOODIES[0].with_(title="Chaz Hoodie", attributes={"colour": "grey"})])
    catalog.upsert([HOODIES[1].with_(attributes={"colour": "red", "stock": "out"}), HOODIES[3].with_(price=3.0)])
    catalog.delete("t1")
    fresh = Catalog(tmp_path / "fresh.db")
    fresh.upsert([catalog.get(pid) for pid in catalog.ids()])
    assert _lexicon_state(catalog) == _lexicon_state(fresh)
    fresh.close()


@pytest.mark.parametrize("text", ["Red Striped HOODIE, 100% cotton", "", "tab\there"])
def test_plain_ascii_text_takes_the_same_path_as_any_other(text):
    import unicodedata
    slow = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    assert lexicon._plain(text) == "".join(c for c in slow if not unicodedata.combining(c))


def test_matches_put_titles_holding_every_word_first_ranked_or_not(catalog, monkeypatch):
    catalog.upsert([Product(id="x1", title="Striped scarf", description="red hoodie colours", category="Scarves")])
    ranked = [pid for pid, _ in catalog.search_words("red striped hoodie", 10)]
    assert ranked[0] == "h2" and set(ranked) >= {"h2", "h3", "x1"}
    monkeypatch.setattr(lexicon, "RANK_POSTINGS", 0)  # a catalogue too big to rank: matches as they come
    words = catalog.words("red striped hoodie")
    assert catalog.word_matches(words, 1) == ["h2"]  # the only title holding every word
    assert set(catalog.word_matches(words, 10)) == {"h2", "x1"}  # then every word anywhere; no ranked OR


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
    assert catalog.search_words("renamed", 10) == []


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
    assert reopened.words("hoodie").weights["hoodie"][1] == 3
    conn = sqlite3.connect(path)  # a lexicon of another version is written anew
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'lexicon'")
    conn.execute("DELETE FROM lexicon")
    conn.commit()
    conn.close()
    assert scores(Catalog(path).search_words("kangeroo", 10)) == {"h1": pytest.approx(1.0)}


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


def test_without_fts5_the_catalogue_works_and_word_search_is_off(tmp_path, monkeypatch):
    monkeypatch.setattr(lexicon, "_SUPPORTED", False)  # as a Python whose SQLite lacks FTS5
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert(HOODIES)
    catalog.delete("h1")
    assert not catalog.lexical and len(catalog) == catalog.count() == 5
    assert catalog.search_words("red striped hoodie", 10) == []
    monkeypatch.setattr(lexicon, "_SUPPORTED", True)  # opened later where FTS5 exists: every word is written
    assert scores(Catalog(tmp_path / "catalog.db").search_words("striped", 10)) == {"h2": pytest.approx(1.0)}


def test_suggestions_complete_the_last_word_and_keep_titles_distinct(catalog):
    catalog.upsert([HOODIES[1].with_(id="h2-copy")])  # a re-listing: its title is offered once
    assert catalog.suggest("red stri") == [("h2", "Red Striped Hoodie")]
    assert sorted(t for _, t in catalog.suggest("hood", 10)) == ["Chaz Kangeroo Hoodie", "Red Dotted Hoodie",
                                                                 "Red Striped Hoodie"]
    assert catalog.suggest("red striped ") == [("h2", "Red Striped Hoodie")]  # a finished word: whole
    assert sorted(t for _, t in catalog.suggest("red s")) == ["Red Dotted Hoodie", "Red Striped Hoodie"]  # one letter: no prefix yet
    assert catalog.suggest("h") == [] and catalog.suggest("zzq") == [] and catalog.suggest("hood", 0) == []
    assert catalog.suggest("the ") == [] and catalog.suggest("a b") == []  # stop words alone; one letter after them
    catalog.upsert([Product(id="c1", title="红色条纹连帽衫")])
    assert catalog.suggest("条纹") == [("c1", "红色条纹连帽衫")]


def test_any_typed_text_is_searched_without_an_fts5_syntax_error(catalog):
    """Quotes, stars, FTS5 keywords, lone hyphens, stop words, CJK: the words never reach FTS5 unquoted."""
    import random

    rnd = random.Random(0)
    alphabet = [*"abc XYZ-_*\"'()^:+.,!?红色包éü0123", "AND", "OR", "NOT", "NEAR", "the ", " "]
    for _ in range(1000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12)))
        assert isinstance(catalog.suggest(text), list) and isinstance(catalog.search_words(text, 5), list), text
