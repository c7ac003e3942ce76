"""Price phrases in query text: read as filters, never invented from bare numbers."""

import numpy as np
import pytest

from engine.query_text import parse_price, understand
from engine.types import Filters, Preferences, Query

CASES = [  # text, words left for the towers, min, max, around
    ("this bag, but in brown, under 300", "this bag, but in brown", None, 300, None),
    ("running shoes between $50 and $80", "running shoes", 50, 80, None),
    ("jacket from $50 to $80", "jacket", 50, 80, None),
    ("shoes 50-80 dollars", "shoes", 50, 80, None),
    ("€30-€50 scarf", "scarf", 30, 50, None),
    ("gray hoodie for under $45", "gray hoodie", None, 45, None),
    ("kids shoes up to 1,200", "kids shoes", None, 1200, None),
    ("laptop under $1,299.99", "laptop", None, 1299.99, None),
    ("bag under 300 euros", "bag", None, 300, None),
    ("dress over 1.5k", "dress", 1500, None, None),
    ("tee < 20", "tee", None, 20, None),
    ("watch around 200", "watch", None, None, 200),
    ("bag ~80 usd", "bag", None, None, 80),
    ("maxi dress max 40", "maxi dress", None, 40, None),
    ("连衣裙 200元以下", "连衣裙", None, 200, None),
    ("华为手机 3000到5000元", "华为手机", 3000, 5000, None),
    ("MUJI 低于100元 乳液", "MUJI 乳液", None, 100, None),
    ("口红 约200元", "口红", None, None, 200),
    ("手机 2000元以上", "手机", 2000, None, None),
    ("sac en cuir under 49,99 €", "sac en cuir", None, 49.99, None),  # a decimal comma
    ("tote 19,5-39,5 eur", "tote", 19.5, 39.5, None),
    ("coat under 1,299", "coat", None, 1299, None),  # thousands, not a decimal; "at" inside "coat" is no prefix
    ("boat shoes under 40 dollars", "boat shoes", None, 40, None),
    ("boots under 300, black", "boots, black", None, 300, None),
]
NOT_PRICES = ["under armour hoodie", "iphone 12", "size 8-10 boots", "2 in 1 charger", "airmax 90",
              "400ml lotion", "maxi dress", "over-ear headphones", "小米 10 Pro", "iphone 14 pro max 256gb",
              "iPhone 15 Pro Max 512", "lotion under 300ml", "backpack up to 30l", "over 50% off", "up to 2.5kg"]


@pytest.mark.parametrize("text,rest,lo,hi,around", CASES)
def test_price_phrases_become_numbers(text, rest, lo, hi, around):
    u = parse_price(text)
    assert (u.text, u.min_price, u.max_price, u.price_target) == (rest, lo, hi, around)
    assert u.phrases


@pytest.mark.parametrize("text", NOT_PRICES)
def test_bare_numbers_and_price_like_words_are_left_alone(text):
    u = parse_price(text)
    assert u.text == text and not u.phrases
    assert (u.min_price, u.max_price, u.price_target) == (None, None, None)


def test_understand_fills_only_what_the_caller_left_open():
    q, u = understand(Query(text="red hoodie between 20 and 60", filters=Filters(max_price=40)))
    assert q.text == "red hoodie" and q.filters.min_price == 20 and q.filters.max_price == 40
    assert u.max_price == 60  # reported as read, even though the caller's bound wins
    q, _ = understand(Query(text="mug around 12", preferences=Preferences(price_target=30)))
    assert q.preferences.price_target == 30


def test_understand_keeps_the_callers_range_when_the_words_contradict_it():
    q, _ = understand(Query(text="lamp over 500", filters=Filters(max_price=100)))
    assert q.filters == Filters(max_price=100)


def test_a_text_that_is_only_a_price_keeps_its_words():
    q, u = understand(Query(text="under 50"))
    assert q.text == "under 50" and q.filters.max_price == 50 and u.text == ""


@pytest.mark.parametrize("text,photo_words,max_price", [
    ("Similar!", "Similar!", None), ("more like this", "more like this", None), ("同款", "同款", None),
    ("similar under 50", "similar", 50), ("under 50", "", 50),
    ("cheaper ones", "ones", None), ("cheaper alternatives", "alternatives", None)])  # fillers beside the order
def test_words_that_only_point_at_the_photo_leave_the_photo_alone(text, photo_words, max_price):
    from PIL import Image

    q, u = understand(Query(image=Image.new("RGB", (8, 8)), text=text))
    assert q.text is None and q.image is not None and u.photo_words == photo_words
    assert q.filters.max_price == max_price and u.as_dict().get("photo_words", "") == photo_words


def test_pointing_words_are_read_when_prices_are_not():
    from PIL import Image

    q, u = understand(Query(image=Image.new("RGB", (8, 8)), text="similar"), prices=False)
    assert q.text is None and u.photo_words == "similar"
    priced = Query(text="lamp under 50")
    assert understand(priced, prices=False) == (priced, None)


def test_pointing_words_without_a_photo_or_with_other_words_are_searched():
    from PIL import Image

    assert understand(Query(text="similar")) == (Query(text="similar"), None)
    with_words = Query(image=Image.new("RGB", (8, 8)), text="similar but red")
    assert understand(with_words) == (with_words, None)


def test_engine_answers_a_photo_with_pointing_words_as_the_photo_alone(engine):
    from engine.images import open_image

    photo = open_image(next(iter(engine.catalog)).images[0])
    alone = engine.search(Query(image=photo, k=5))
    pointed = engine.search(Query(image=photo, text="like this", k=5))
    assert [r.product.id for r in pointed.results] == [r.product.id for r in alone.results]
    assert [r.score for r in pointed.results] == pytest.approx([r.score for r in alone.results])
    assert pointed.understood["photo_words"] == "like this" and "anchor" not in pointed.understood


def test_no_price_phrase_changes_nothing():
    query = Query(text="blue teapot", k=3)
    assert understand(query) == (query, None)


def test_engine_applies_price_words_and_reports_them(engine):
    res = engine.search(Query(text="teapot under 30", k=50))
    assert res.results and all(r.product.price is not None and r.product.price <= 30 for r in res.results)
    assert res.understood["max_price"] == 30 and res.understood["text"] == "teapot"
    plain = engine.search(Query(text="teapot", k=50))
    assert plain.understood is None
    assert any(r.product.price > 30 for r in plain.results)  # the sample shop has dearer ones


CATEGORIES = ["Men/Tops/Hoodies & Sweatshirts", "Women/Tops/Hoodies & Sweatshirts", "Men/Tops/Jackets",
              "Gear/Watches", "Gear/Bags", "美妆/口红", "手机/华为手机", ""]


def test_plural_forms_meet_their_singulars():
    from engine.query_text import forms

    assert "hoodie" in forms("Hoodies") and "watch" in forms("watches") and "body" in forms("bodies")
    assert forms("dress") == {"dress"} and forms("bag") == {"bag"}


@pytest.mark.parametrize("text,words,best", [
    ("gray hoodie", ["hoodie"], {0, 1}),
    ("men's jacket", ["jacket", "men"], {2}),
    ("Chaz Kangeroo Hoodie", ["hoodie"], {0, 1}),
    ("sports watches", ["watches"], {3}),
    ("红色口红", ["口红"], {5}),
    ("华为 Mate 30 Pro 5G", ["华为"], {6}),  # Chinese meets Chinese through character pairs
])
def test_category_words_name_the_shops_categories(text, words, best):
    from engine.query_text import CategoryWords

    matched, fit = CategoryWords(CATEGORIES).match(text)
    assert matched == words
    assert set(np.flatnonzero(fit == fit.max())) == best and fit[-1] == 0  # "" (no category) never fits


def test_words_that_name_no_category_give_no_preference():
    from engine.query_text import CategoryWords

    assert CategoryWords(CATEGORIES).match("something blue and soft") == ([], None)
    assert CategoryWords([]).match("hoodie") == ([], None)


def test_engine_prefers_the_named_category_and_says_so(engine):
    from dataclasses import replace

    res = engine.search(Query(text="red hoodie", k=10))
    assert res.understood["category_words"] == ["hoodie"]
    assert all("category_words_fit" in r.why for r in res.results)
    assert res.results[0].product.category.endswith("Hoodies")
    given = engine.search(Query(text="red hoodie", k=3, preferences=Preferences(category="Apparel")))
    assert all("category_words_fit" not in r.why and "category_fit" in r.why for r in given.results)
    engine.config = replace(engine.config, read_categories=False)
    off = engine.search(Query(text="red hoodie", k=10))
    assert "category_words" not in (off.understood or {}) and all("category_words_fit" not in r.why for r in off.results)


def test_words_naming_one_category_in_the_shops_own_texts_become_aliases():
    """"连帽衫" is in every hoodie's text and no other product's: it names the hoodies; a colour or a brand
    spread over categories names none; a word seen in fewer than three products teaches nothing."""
    from engine.query_text import aliases

    zh = {"Red": "红色", "Blue": "蓝色", "Green": "绿色", "Gray": "灰色"}
    texts = ([(0, f"{c} hoodie {zh[c]}连帽衫 Acme") for c in ("Red", "Blue", "Green", "Gray")]
             + [(1, f"{c} bag {zh[c]}包 Acme") for c in ("Red", "Blue", "Green")] + [(2, "Odd lamp 台灯"), (2, "Odd lamp 台灯")])
    found = aliases(texts)
    assert found["连帽"] == found["帽衫"] == found["hoodie"] == 0 and found["包"] == found["bag"] == 1
    assert not {"acme", "红色", "red", "blue"} & found.keys()  # spread over both categories
    assert not {"色连", "色包"} & found.keys()  # pairs across a word boundary, through 色, in every text
    assert "lamp" not in found and "台灯" not in found  # two products only


def test_a_bilingual_shops_chinese_words_meet_its_english_category_names():
    from engine.query_text import CategoryWords

    names = ["Apparel/Tops/Hoodies", "Accessories/Bags", "Home/Kitchen/Mugs"]
    texts = ([(names[0], f"{c} hoodie. {z}连帽衫") for c, z in (("Red", "红色"), ("Blue", "蓝色"), ("Gray", "灰色"))]
             + [(names[1], f"{c} bag. {z}包") for c, z in (("Red", "红色"), ("Blue", "蓝色"), ("Gray", "灰色"))]
             + [(names[2], f"{c} mug. {z}马克杯") for c, z in (("Red", "红色"), ("Blue", "蓝色"), ("Gray", "灰色"))])
    assert CategoryWords(names).match("红色连帽衫") == ([], None)  # the names alone are English
    words = CategoryWords(names, texts)
    for text, said, code in (("红色连帽衫", {"帽衫", "连帽"}, 0), ("绿色包", {"包"}, 1), ("绿色马克杯", {"克杯", "马克"}, 2)):
        matched, fit = words.match(text)  # "色包" straddles a word: 色 is in every text, so 包 names the bags
        assert said <= set(matched) and int(np.argmax(fit)) == code and fit.max() == 1.0
    assert words.match("red hoodie")[0] == ["hoodie"]  # English as before


def test_engine_reads_chinese_category_words_from_the_sample_shops_titles(engine):
    """The sample shop's categories are named in English, its descriptions carry the Chinese titles."""
    from dataclasses import replace

    res = engine.search(Query(text="红色连帽衫", k=10))
    assert res.understood["category_words"] == ["帽衫", "连帽"]
    assert all(r.why["category_words_fit"] == float(r.product.category.endswith("Hoodies")) for r in res.results)
    kept = engine.config
    engine.config = replace(kept, read_categories=False)
    try:
        off = engine.search(Query(text="红色连帽衫", k=10))
    finally:
        engine.config = kept
    hoodies = lambda response: sum(r.product.category.endswith("Hoodies") for r in response.results)  # noqa: E731
    assert hoodies(res) > hoodies(off)


def test_the_shops_own_aliases_answer_only_where_the_category_names_do_not():
    """"Lakme" is in every lipstick's title only: "lakme lipstick" and "lakme eyeliner" are read by the names
    as before; "lakme" alone falls back on the alias."""
    from engine.query_text import CategoryWords

    names = ["Beauty/Lipstick", "Beauty/Eyeliner"]
    texts = [(names[0], f"Lakme {c} lipstick") for c in ("red", "pink", "nude")] + \
            [(names[1], f"Maybelline {c} eyeliner") for c in ("black", "brown", "blue")]
    words = CategoryWords(names, texts)
    assert words.aliases["lakme"] == 0
    matched, fit = words.match("lakme eyeliner")
    assert matched == ["eyeliner"] and fit.tolist() == [0.0, 1.0]
    matched, fit = words.match("lakme")
    assert matched == ["lakme"] and fit.tolist() == [1.0, 0.0]


def test_a_warmed_engine_has_read_its_category_words(engine):
    """Learning the aliases takes a worker about 0.2 s: warm() does it before the first query."""
    engine._category_words = None
    engine.warm()
    assert engine._category_words is not None and engine._category_words.size == len(engine.index.table.categories)


@pytest.mark.parametrize("text,rest,sort", [
    ("cheapest bag", "bag", "price_asc"), ("cheap red bag under 100", "red bag", "price_asc"),
    ("the most expensive watch", "watch", "price_desc"), ("最便宜的手机", "手机", "price_asc"), ("最贵的手表", "手表", "price_desc"),
    ("günstige Tasche", "Tasche", "price_asc"), ("sac pas cher", "sac", "price_asc"), ("bolso barato", "bolso", "price_asc"),
    ("bag cheaper than 50", "bag", "relevance"),  # a price, not an order
    ("cheapskate bag", "cheapskate bag", "relevance"), ("Barati purse", "Barati purse", "relevance")])
def test_words_asking_for_a_price_order_set_the_sort(text, rest, sort):
    q, u = understand(Query(text=text))
    assert q.sort == sort and (u.text if u else q.text) == rest
    assert (u.as_dict().get("sort") if u else None) == (None if sort == "relevance" else sort)


def test_this_but_cheaper_beside_a_photo_is_the_photo_by_price():
    from PIL import Image

    q, u = understand(Query(image=Image.new("RGB", (8, 8)), text="this, but cheaper"))
    assert q.text is None and q.sort == "price_asc" and u.photo_words == "this"


@pytest.mark.parametrize("text,rest", [
    ("this, but cheaper and in blue", "this, in blue"), ("in blue but cheaper", "in blue"),
    ("cheap and cheerful mug", "cheerful mug"), ("black and white shirt under 50", "black and white shirt"),
    ("red and blue bag", "red and blue bag")])
def test_connectors_the_order_words_leave_dangling_go_with_them(text, rest):
    """"this, but cheaper and in blue" sent "this, but and in blue" to the towers."""
    assert parse_price(text).text == rest


@pytest.mark.parametrize("text,sort,compares", [
    ("this, but cheaper", "price_asc", True), ("less expensive", "price_asc", True), ("更便宜", "price_asc", True),
    ("moins cher", "price_asc", True), ("más barato", "price_asc", True), ("more expensive", "price_desc", True),
    ("pricier", "price_desc", True), ("更贵的", "price_desc", True),
    ("cheapest", "price_asc", False), ("le moins cher", "price_asc", False), ("el más barato", "price_asc", False),
    ("最便宜", "price_asc", False), ("günstiger Laptop", "price_asc", False), ("cheap", "price_asc", False)])
def test_comparatives_are_told_from_superlatives(text, sort, compares):
    """"Cheaper" compares (beside a photo, with the product it shows: engine/comparative.py); "cheapest", "le
    moins cher" only order; German "günstiger" is also the plain adjective, so it only orders."""
    u = parse_price(text)
    assert (u.sort, u.compares) == (sort, compares) and u.text in ("this,", "this", "", "Laptop")


def test_this_but_cheaper_lists_cheaper_products_of_the_kind_the_photo_shows(engine, built_shop):
    """A catalogue photo with "but cheaper": below that product's price, in its category, best match first (before:
    the photo's matches by price, a red mug first for a red bag); "more expensive" above it; a bound the request
    gives that is already below the price stands, and then the words only order."""
    from engine.images import open_image

    hoodies = [p for p in engine.catalog.get_many(engine.catalog.ids()).values() if p.category == "Apparel/Tops/Hoodies"]
    shown = sorted(hoodies, key=lambda p: p.price)[len(hoodies) // 2]  # cheaper and dearer hoodies both exist
    photo = open_image(built_shop.path / shown.images[0])
    found = engine.search(Query(image=photo, text="this, but cheaper", k=10))
    assert found.understood["cheaper_than"] == {"id": shown.id, "title": shown.title, "price": shown.price}
    assert "sort" not in found.understood and found.results
    assert all(r.product.price < shown.price and r.product.category == shown.category for r in found.results)
    scores = [r.score for r in found.results]
    assert scores == sorted(scores, reverse=True)  # relevance: the closest cheaper alternatives first
    dearer = engine.search(Query(image=photo, text="more expensive", k=10))
    assert dearer.understood["pricier_than"]["id"] == shown.id and dearer.results
    assert all(r.product.price > shown.price for r in dearer.results)
    bounded = engine.search(Query(image=photo, text="cheaper", k=10, filters=Filters(max_price=shown.price / 2)))
    assert "cheaper_than" not in bounded.understood and bounded.understood["sort"] == "price_asc"
    text_only = engine.search(Query(text="hoodie, but cheaper", k=5))  # no photo: nothing to compare with
    assert "cheaper_than" not in text_only.understood and text_only.understood["sort"] == "price_asc"


def test_the_callers_order_wins_and_the_reading_can_be_off():
    q, u = understand(Query(text="cheapest bag", sort="price_desc"))
    assert q.sort == "price_desc" and "sort" not in u.as_dict() and q.text == "bag"
    q, u = understand(Query(text="cheapest bag"), orders=False)
    assert q.sort == "relevance" and q.text == "cheapest bag" and u is None
