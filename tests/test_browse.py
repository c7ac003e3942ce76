"""Browsing (engine/browse.py): filters alone list their matches, in the catalogue's order or by price."""

from dataclasses import replace

import numpy as np
import pytest

from engine.browse import ordered_rows
from engine.engine import SearchEngine
from engine.errors import BadInputError
from engine.types import Filters, Product, Query
from tests.api_client import client, validate  # noqa: F401 (client: the fixture)


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    import shutil

    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


def test_a_category_is_listed_whole_in_the_catalogue_order_page_by_page(engine):
    table = engine.index.table
    wanted = [table.ids[r] for r in np.flatnonzero(table.mask(Filters(category="Accessories")))]
    pages = [engine.search(Query(filters=Filters(category="Accessories"), k=7, offset=o)) for o in range(0, 200, 7)]
    assert {p.plan for p in pages} == {"browse"} and {p.matching for p in pages} == {len(wanted)}
    listed = [r.product.id for p in pages for r in p.results]
    assert listed == wanted and len(wanted) > 7
    assert all(r.product.category.startswith("Accessories/") and r.score == 0 and not r.why
               for p in pages for r in p.results)
    assert pages[0].refine["relevant"] == len(wanted)


def test_by_price_every_match_cheapest_first_and_no_price_last(shop_copy):
    engine = SearchEngine.open(shop_copy)
    engine.add_products([Product(id="NOPRICE", title="Mystery mug", category="Home/Kitchen/Mugs")])
    mugs = Filters(category="Home/Kitchen/Mugs")
    up = engine.search(Query(filters=mugs, k=200, sort="price_asc"))
    down = engine.search(Query(filters=mugs, k=200, sort="price_desc"))
    prices = [r.product.price for r in up.results]
    assert up.results[-1].product.id == down.results[-1].product.id == "NOPRICE"
    assert prices[:-1] == sorted(prices[:-1]) and [r.product.price for r in down.results][:-1] == prices[-2::-1]
    assert up.ordered == up.matching == len(up.results)


def test_words_that_are_only_a_price_browse_under_it(engine):
    found = engine.search(Query(text="under 30", k=50, sort="price_desc"))
    assert found.plan == "browse" and found.understood["max_price"] == 30
    prices = [r.product.price for r in found.results]
    assert prices and max(prices) <= 30 and prices == sorted(prices, reverse=True)
    assert engine.search(Query(text="red under 30", k=5)).plan != "browse"  # a word left: searched


def test_cheapest_alone_lists_the_whole_catalogue_by_price(engine):
    for query in (Query(text="cheapest", k=30), Query(k=30, sort="price_asc"), Query(text="最便宜的", k=30)):
        found = engine.search(query)
        prices = [r.product.price for r in found.results]
        assert found.plan == "browse" and found.matching == engine.index.table.n_alive and prices == sorted(prices)
        assert prices[0] == float(np.nanmin(engine.index.table.price[engine.index.table.alive]))


def test_nothing_to_search_or_browse_and_bad_pages_are_refused(engine):
    with pytest.raises(BadInputError, match="filters or a price sort alone"):
        engine.search(Query(k=5))
    with pytest.raises(BadInputError):
        engine.search(Query(filters=Filters(category="Accessories"), offset=-1))
    deep = engine.search(Query(filters=Filters(min_price=0), k=5, offset=5000))  # past the matches: an empty page
    assert deep.plan == "browse" and deep.results == ()


def test_ordered_rows_keeps_ties_in_the_catalogue_order():
    price = np.array([5, np.nan, 3, 5, 1, np.nan], np.float32)
    rows = np.arange(6)
    assert ordered_rows(rows, price, "price_asc").tolist() == [4, 2, 0, 3, 1, 5]
    assert ordered_rows(rows, price, "price_desc").tolist() == [0, 3, 2, 4, 1, 5]
    assert ordered_rows(rows, price, "relevance").tolist() == rows.tolist()


def test_browsing_over_http(client):
    res = client.post("/api/search", json={"filters": {"category": "Footwear", "max_price": 80}, "k": 5})
    body = res.get_json()
    assert res.status_code == 200 and body["plan"] == "browse"
    validate(body, "SearchResponse")
    assert all(r["product"]["category"].startswith("Footwear") and r["product"]["price"] <= 80 for r in body["results"])
