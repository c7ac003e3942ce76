"""Typo tolerance (engine/spelling.py): a misspelt word no product holds is read as the catalogue's word one
edit away; real words, short words, codes and other scripts are searched as typed."""

import random
from dataclasses import replace

import pytest

from engine import spelling
from engine.catalog import Catalog
from engine.types import Product, Query

PRODUCTS = [
    Product(id="h1", title="Red Striped Hoodie", category="Apparel/Tops/Hoodies"),
    Product(id="h2", title="Blue Hoodie", category="Apparel/Tops/Hoodies"),
    Product(id="j1", title="Slim jeans", category="Apparel/Bottoms/Jeans"),
    Product(id="s1", title="Soft cotton shorts MX500", category="Apparel/Bottoms/Shorts"),
    Product(id="s2", title="Linen shirts", category="Apparel/Tops/Shirts"),
    Product(id="s3", title="Oxford shirts", category="Apparel/Tops/Shirts"),
    Product(id="b1", title="Black belt", category="Accessories/Belts"),
    Product(id="d1", title="Red dotted scarf", category="Accessories/Scarves"),
]


@pytest.fixture()
def catalog(tmp_path):
    c = Catalog(tmp_path / "catalog.db")
    c.upsert(PRODUCTS)
    yield c
    c.close()


def fixed(catalog, text: str, vocabulary=frozenset(), first=frozenset()) -> spelling.Spelled:
    return spelling.correct(text, catalog.term_counts, vocabulary, first)


def test_edits_are_every_string_one_damerau_edit_away():
    got = spelling.edits("abc")
    assert {"bc", "ac", "ab"} <= got  # deletes
    assert {"bac", "acb"} <= got  # neighbours swapped
    assert {"xbc", "azc", "abz"} <= got and {"zabc", "abcz", "abzc"} <= got  # changes, inserts
    assert "abc" not in got and "cba" not in got  # two edits away
    # 3 deletes + 2 swaps + 3 * 25 changes + 4 * 26 inserts, of which "aabc", "abbc", "abcc" arise twice
    assert len(got) == 3 + 2 + 75 + 104 - 3


def test_a_misspelt_word_becomes_the_catalogues_word_keeping_its_ending_and_capital(catalog):
    assert fixed(catalog, "red hodie") == spelling.Spelled("red hoodie", {"hodie": "hoodie"})
    assert fixed(catalog, "Hodies under 50").text == "Hoodies under 50"  # the plural kept, capital too
    assert fixed(catalog, "hoodeis").text == "hoodies"  # two letters swapped, at the stem's end
    assert fixed(catalog, "stirped").changes == {"stirped": "striped"}
    assert fixed(catalog, "slim jeens").changes == {"jeens": "jeans"}


def test_known_words_short_words_codes_and_other_scripts_stay_as_typed(catalog):
    assert fixed(catalog, "striped hoodie").changes == {}  # held by products
    assert fixed(catalog, "sofa").changes == {}  # an English word the shop lacks is not bent into "soft"
    assert fixed(catalog, "jeas").changes == {"jeas": "jeans"} and fixed(catalog, "jea").changes == {}  # too short
    assert fixed(catalog, "mx501 hoodie").changes == {}  # a code
    assert fixed(catalog, "红色连帽衫 hoodie").changes == {}
    assert fixed(catalog, "zzzzzzz").changes == {}  # nothing one edit away
    assert fixed(catalog, "hodie" * 5).changes == {}  # longer than MAX_LENGTH: a pasted string, not a word
    many = " ".join(f"hoodie{c}" for c in "abcdefghij")  # ten typos of one word: MAX_WORDS are looked at
    assert len(fixed(catalog, many).changes) == spelling.MAX_WORDS
    assert fixed(catalog, "tealx", vocabulary=frozenset({"tealx"})).changes == {}  # the bundle's colour words


def test_the_bases_the_lexicon_keeps_for_ed_words_are_never_offered(catalog):
    # "Dotted" is also held as "dotte", "dott" and "dot" (so that "dots" meets it): not words to correct to
    assert fixed(catalog, "dotter scarf").text == "dotted scarf"
    assert fixed(catalog, "stripd hoodie").text == "striped hoodie"  # not "strip"
    assert fixed(catalog, "hoode").text == "hoodie"  # the term's own spelling, not "hoody"


def test_words_run_together_are_split_into_words_the_catalogue_holds(catalog):
    assert fixed(catalog, "redhoodie").changes == {"redhoodie": "red hoodie"}
    assert fixed(catalog, "Slimjeans please").text == "Slim jeans please"
    assert fixed(catalog, "blackornage", vocabulary=frozenset({"orange"})).changes == {}  # "ornage": two faults
    assert fixed(catalog, "blackorange", vocabulary=frozenset({"orange"})).text == "black orange"
    assert fixed(catalog, "bluered").changes == {"bluered": "blue red"}


def test_the_bundles_colour_words_are_offered_though_no_title_names_them(catalog):
    assert fixed(catalog, "ornage hoodie").changes == {}
    assert fixed(catalog, "ornage hoodie", vocabulary=frozenset({"orange", "navy"})).text == "orange hoodie"
    catalog.upsert([Product(id=f"g{i}", title="Gwen tee") for i in range(3)])
    assert fixed(catalog, "geen tee", first=frozenset({"green"})).text == "green tee"  # a colour first, not "gwen"
    assert fixed(catalog, "geen tee", vocabulary=frozenset({"green"})).text == "gwen tee"  # others by counts
    assert fixed(catalog, "black belo", vocabulary=frozenset({"below"})).text == "black belt"  # a price word
    assert fixed(catalog, "black belo", first=frozenset({"below"})).text == "black below"  # waits its turn


def test_the_most_held_word_wins_and_ties_read_one_way(catalog):
    # "shrts" is one edit from "shirts" (2 products) and "shorts" (1): the more held wins
    assert fixed(catalog, "shrts").changes == {"shrts": "shirts"}
    catalog.upsert([Product(id=f"x{i}", title="Running shorts") for i in range(3)])
    assert fixed(catalog, "shrts").changes == {"shrts": "shorts"}
    assert fixed(catalog, "blackj belt").text == "black belt"  # not "blacks": a plural only for a plural
    rnd = random.Random(0)
    for _ in range(50):  # the same text always reads the same way, whatever order sets iterate in
        word = "".join(rnd.choice("hodiestr") for _ in range(6))
        assert fixed(catalog, word) == fixed(catalog, word)


def test_corrections_follow_the_catalogues_writes(catalog):
    assert fixed(catalog, "cardigen").changes == {}
    catalog.upsert([Product(id="c1", title="Wool cardigan")])
    assert fixed(catalog, "cardigen").changes == {"cardigen": "cardigan"}
    catalog.delete("c1")
    assert fixed(catalog, "cardigen").changes == {}  # a word no product holds any more is not offered


def test_suggestions_read_the_whole_words_typing_errors(catalog):
    assert catalog.suggest("red stirped hoo") == [("h1", "Red Striped Hoodie")]
    assert catalog.suggest("slim jeens ") == [("j1", "Slim jeans")]
    assert catalog.suggest("zzzz hoo") == [] and catalog.suggest("hoo") != []


def test_the_engine_searches_the_corrected_words_and_says_so(engine):
    clean = engine.search(Query(text="red striped hoodie", k=5))
    response = engine.search(Query(text="red stirped hodie", k=5))
    assert response.understood["corrected"] == {"stirped": "striped", "hodie": "hoodie"}
    assert response.understood["text"] == "red striped hoodie"
    assert [r.product.id for r in response.results] == [r.product.id for r in clean.results]
    as_typed = engine.search(Query(text="red stirped hodie", k=5, read_words=False))
    assert not as_typed.understood or "corrected" not in as_typed.understood
    engine.config = replace(engine.config, read_typos=False)
    off = engine.search(Query(text="red stirped hodie", k=5))
    assert not off.understood or "corrected" not in off.understood


def test_a_misspelt_price_phrase_is_read_as_one(engine):
    response = engine.search(Query(text="red hoodie undr 50", k=5))
    assert response.understood["corrected"] == {"undr": "under"} and response.understood["max_price"] == 50
    assert response.understood["text"] == "red hoodie"
    from engine.query_text import _AROUND_WORDS, _MAX_WORDS, _MIN_WORDS, _PRICE_PREFIX, PRICE_WORDS
    import re

    phrases = re.sub(r"\(\?:(\w+)\)\?", r"\1", " ".join((_MAX_WORDS, _MIN_WORDS, _AROUND_WORDS, _PRICE_PREFIX, "between")))
    assert all(re.search(rf"\b{w}\b", phrases) for w in PRICE_WORDS)  # the list names the patterns' own words


def test_price_words_are_read_beside_corrections(engine):
    response = engine.search(Query(text="red hodie under 50", k=5))
    assert response.understood["corrected"] == {"hodie": "hoodie"}
    assert response.understood["max_price"] == 50 and response.understood["text"] == "red hoodie"
    assert all(r.product.price <= 50 for r in response.results)


GERMAN = [("Kissen rot gestreift", "Ein weiches Kissen aus Baumwolle, mit Reißverschluss und für jeden Tag."),
          ("Decke blau kariert", "Eine warme Decke aus Wolle, die man gern auf dem Sofa hat."),
          ("Tasse grün", "Eine Tasse aus Keramik, die in die Spülmaschine darf und nicht bricht.")]


def _german_shop(tmp_path):
    from engine.catalog import Catalog
    from engine.types import Product

    catalog = Catalog(tmp_path / "de" / "catalog.db")
    catalog.upsert([Product(id=f"d{i}", title=t, description=d) for i, (t, d) in enumerate(GERMAN)])
    return catalog


def test_a_shops_language_is_told_by_its_most_frequent_words():
    assert spelling.languages_of([d for _, d in GERMAN]) == ("de",)
    assert spelling.languages_of(["Un pull rouge rayé en coton, avec des poches et pour tous les jours."]) == ("fr",)
    assert spelling.languages_of(["A soft red hoodie made of cotton, with pockets and for every day."]) == ()
    assert spelling.languages_of(["Kissen rot", "Decke blau"]) == ()  # titles alone say too little: typo_languages
    assert spelling.languages_of([]) == ()


def test_a_real_word_of_the_shops_language_is_left_alone_and_typing_errors_still_corrected(tmp_path):
    from engine import query_rewrite

    catalog = _german_shop(tmp_path)
    assert query_rewrite.correct("kussen", catalog, None, languages=("en",)).changes == {"kussen": "kissen"}  # before
    assert query_rewrite.correct("kussen", catalog, None).changes == {}  # "küssen", a German word: detected, known
    assert query_rewrite.correct("kisen rot", catalog, None).changes == {"kisen": "kissen"}
    assert "kussen" in spelling.known_words(catalog, ("de",)) and "kussen" not in spelling.known_words(catalog, ("en",))
    assert len(spelling.word_list("de")) == spelling.LANGUAGE_WORDS
