"""Pages (offset) and price order of search results (engine/paging.py)."""

import pytest

from engine import paging
from engine.errors import BadInputError
from engine.images import open_image
from engine.types import Filters, Product, Query, SearchResult


def _ids(response):
    return [r.product.id for r in response.results]


@pytest.mark.parametrize("photo", [False, True])
def test_relevance_pages_are_the_slices_of_one_deeper_ranking(engine, sample_folder, photo):
    image = open_image(sample_folder / "images" / "S0041-0.png") if photo else None
    text = None if photo else "blue hoodie"
    deep = _ids(engine.search(Query(image=image, text=text, k=30)))
    pages = [_ids(engine.search(Query(image=image, text=text, k=10, offset=o))) for o in (0, 10, 20)]
    assert pages[0] == deep[:10] and pages[1] + pages[2] == deep[10:30]
    assert len(set(deep)) == 30


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_pages_follow_each_other_over_the_relevant_matches(engine, sort):
    filters = Filters(max_price=150.0)
    pages = [engine.search(Query(text="bag", k=25, offset=o, sort=sort, filters=filters)) for o in range(0, 200, 25)]
    prices = [r.product.price for p in pages for r in p.results]
    ids = [pid for p in pages for pid in _ids(p)]
    assert len(ids) == len(set(ids)) == pages[0].ordered > 0  # every page new, none skipped
    assert prices == sorted(prices, reverse=sort == "price_desc") and all(p <= 150.0 for p in prices)
    ranked = engine.search(Query(text="bag", k=200, filters=filters)).results
    floor = engine.config.rerank.sort_floor * ranked[0].score
    within = [r for r in ranked if r.score >= floor]  # the relevant part of the 200 best: of those, the ones holding
    assert set(ids) == {r.product.id for r in within if r.why["lexical"] == 1.0}  # the word "bag", as some do
    assert set(ids) < {r.product.id for r in within} and all("bag" in r.product.title.lower() for p in pages for r in p.results)


def _result(pid, price, score=1.0):
    return SearchResult(Product(id=pid, title=pid, price=price), score, {})


def test_price_order_puts_products_without_a_price_last_and_keeps_ties_in_relevance_order():
    ranked = (_result("a", 5.0), _result("b", None), _result("c", 2.0), _result("d", 5.0), _result("e", None))
    up = paging.in_order(ranked, "price_asc", 0.5)
    down = paging.in_order(ranked, "price_desc", 0.5)
    assert [r.product.id for r in up] == ["c", "a", "d", "b", "e"]
    assert [r.product.id for r in down] == ["a", "d", "c", "b", "e"]
    assert [r.product.id for r in paging.cut(ranked, Query(text="x", k=2, offset=1))] == ["b", "c"]


def test_price_order_leaves_out_matches_far_below_the_best():
    """A small shop's 200 best for "bag" run into mugs and hats: those score under half the best bag."""
    ranked = (_result("bag1", 90.0, 1.3), _result("bag2", 40.0, 1.0), _result("mug", 9.0, 0.4), _result("hat", 5.0, 0.3))
    assert [r.product.id for r in paging.in_order(ranked, "price_asc", 0.5)] == ["bag2", "bag1"]
    assert paging.in_order(ranked, "relevance", 0.5) == ranked
    negative = tuple(_result(f"p{i}", float(i), -0.1 * i) for i in range(3))  # no positive best: nothing to measure by
    assert len(paging.in_order(negative, "price_desc", 0.5)) == 3


def test_price_order_keeps_the_products_holding_every_word_when_some_do():
    """"striped mug" by price: striped mugs, not the dotted mugs and striped bags scoring within the floor; when
    no product holds every word, the floor alone decides (as without the words' part)."""
    def held(pid, price, score, lexical):
        r = _result(pid, price, score)
        return SearchResult(r.product, r.score, {"lexical": lexical, "all_words": float(lexical == 1.0)})
    ranked = (held("striped mug", 12.0, 1.5, 1.0), held("dotted mug", 3.0, 1.3, 0.5), held("striped bag", 8.0, 1.2, 0.5),
              held("striped mug 2", 20.0, 0.9, 1.0), held("hat", 1.0, 0.2, 1.0))
    assert [r.product.id for r in paging.in_order(ranked, "price_asc", 0.5)] == ["striped mug", "striped mug 2"]
    partial = tuple(held(r.product.id, r.product.price, r.score, 0.5) for r in ranked)
    assert [r.product.id for r in paging.in_order(partial, "price_asc", 0.5)] == [
        "dotted mug", "striped bag", "striped mug", "striped mug 2"]
    assert paging.relevant([1.5, 1.3], 0.5, {"all_words": [1.0, 0.0]}).tolist() == [True, False]
    assert paging.relevant([1.5, 1.3], 0.5, {"lexical": [1.0, 0.5]}).tolist() == [True, True]  # the share alone narrows nothing
    # the category the words name first: a mug holding every word loses to the named category's products
    assert paging.relevant([1.5, 1.3, 1.2], 0.5, {"all_words": [1.0, 0.0, 0.0], "category_words_fit": [0.0, 1.0, 1.0]}
                           ).tolist() == [False, True, True]
    assert [h.tolist() for h in paging.held_parts({"category_words_fit": [0.5, 0.0], "category_fit": [0.0, 1.0]})] == [
        [0.5, 1.0]]
    assert paging.held_parts({"predicted_category_fit": [1.0]}) == []  # a photo's guess is not the shopper's word
    assert paging.relevant([1.5, 1.3], 0.5).tolist() == [True, True]


@pytest.mark.parametrize("query, field", [
    (Query(text="x", offset=-1), "offset"),
    (Query(text="x", k=10, offset=991), "offset"),
    (Query(text="x", k=10, offset=191, sort="price_asc"), "offset"),
    (Query(text="x", sort="cheapest"), "sort"),
])
def test_bad_pages_are_rejected_by_field(engine, query, field):
    with pytest.raises(BadInputError) as err:
        engine.search(query)
    assert err.value.field == field
