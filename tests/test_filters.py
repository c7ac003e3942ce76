"""Filters always return min(k, matching) results, each satisfying every filter."""

import numpy as np
import pytest

from engine.errors import BadInputError
from engine.types import Filters, Query


def _matching(engine, filters):
    return int(engine.index.table.mask(filters).sum())


@pytest.mark.parametrize("filters", [
    Filters(max_price=20),
    Filters(min_price=50, max_price=60),
    Filters(category="Apparel"),
    Filters(category="apparel/tops/hoodies"),
    Filters(category="Footwear", max_price=80),
    Filters(attributes={"colour": "Purple"}),
    Filters(attributes={"colour": "purple", "pattern": "dotted"}, category="Accessories"),
    Filters(min_price=1000),
])
@pytest.mark.parametrize("k", [1, 3, 10, 50])
def test_min_k_matching_and_every_result_satisfies(engine, filters, k):
    response = engine.search(Query(text="red hoodie", filters=filters, k=k))
    matching = _matching(engine, filters)
    assert response.matching == matching
    ids = [r.product.id for r in response.results]
    assert len(ids) == len(set(ids))
    assert len(ids) == min(k, matching)
    for r in response.results:
        p = r.product
        if filters.min_price is not None:
            assert p.price >= filters.min_price
        if filters.max_price is not None:
            assert p.price <= filters.max_price
        if filters.category:
            path, want = p.category.lower(), filters.category.lower()
            assert path == want or path.startswith(want + "/")
        for key, value in filters.attributes.items():
            assert value.lower() in p.attributes[key].lower().split("|")


def test_exactly_k_matching(engine):
    filters = Filters(attributes={"colour": "green", "pattern": "checked"})
    matching = _matching(engine, filters)
    response = engine.search(Query(text="bag", filters=filters, k=matching))
    assert len(response.results) == matching


def test_unknown_category_and_bad_values_are_rejected(engine):
    with pytest.raises(BadInputError, match="unknown category 'Garden'"):
        engine.search(Query(text="x", filters=Filters(category="Garden")))
    with pytest.raises(BadInputError, match="min_price"):
        engine.search(Query(text="x", filters=Filters(min_price=float("nan"))))
    with pytest.raises(BadInputError, match="k"):
        engine.search(Query(text="x", k=0))
    with pytest.raises(BadInputError, match="query"):
        engine.search(Query(text="  "))


def test_price_preference_moves_results_without_removing_any(engine):
    from engine.types import Preferences

    base = engine.search(Query(text="Blue bag", k=20))
    cheap = engine.search(Query(text="Blue bag", k=20, preferences=Preferences(price_target=5.0)))
    assert len(cheap.results) == len(base.results) == 20
    assert np.mean([r.product.price for r in cheap.results[:5]]) <= np.mean([r.product.price for r in base.results[:5]])
    assert all("price_fit" in r.why for r in cheap.results)


def test_refine_attribute_counts_equal_a_brute_force_count_on_seeded_rows():
    """refine.attributes against counting each row's values by hand: facets are the attributes whose values
    repeat (a per-product link is none), colours have their own facet, values count case-insensitively,
    shown as first written, a row once per value, 10 values an attribute."""
    from collections import Counter

    from engine import refine
    from engine.attributes import AttributeTable
    from engine.types import Candidates, Product

    rng = np.random.default_rng(7)
    brands = ["Acme", "acme", "Bolt", "Core"] + [f"B{i}" for i in range(12)]
    table, rows = AttributeTable(), []
    for i in range(157):
        attrs = {"link": f"https://shop.example/{i}", "colour": "Red|Blue"}
        if i % 5:
            attrs["brand"] = brands[int(rng.integers(len(brands)))]
        if i % 3:
            attrs["size"] = "|".join(sorted(set(rng.choice(["S", "M", "L", "S"], size=2).tolist())))
        rows.append(attrs)
        table.add(Product(id=str(i), title="t", attributes=attrs))
    picked = np.sort(rng.choice(157, size=61, replace=False))
    got = refine.attributes(table, picked.tolist())
    assert set(got) == {"brand", "size"}
    for name in ("brand", "size"):
        want = Counter(v.lower() for r in picked for v in set(rows[r].get(name, "").split("|")) if v)
        assert {k.lower(): n for k, n in got[name].items()} == dict(want.most_common(10)) or (
            len(want) > 10 and sorted(got[name].values(), reverse=True) == [n for _, n in want.most_common(10)])
    first = next(r["brand"] for r in rows if r.get("brand", "").lower() == "acme")
    assert [k for k in got["brand"] if k.lower() == "acme"] in ([first], [])  # shown as first written, once
    assert refine.counts(table, Candidates(picked, np.ones(61, np.float32), {}), 0.5)["attributes"] == got


def test_a_kind_the_filters_leave_none_of_is_said_so(engine):
    """"bag under P" where every bag costs more: the closest products are shown and the response names "bag";
    with a bag within the filters, nothing is said."""
    table = engine.index.table
    bags = table.mask(Filters(category="Accessories/Bags"))
    cheapest = float(np.nanmin(table.price[bags]))
    none = engine.search(Query(text=f"bag under {cheapest - 0.01:.2f}", k=5))
    assert none.understood["not_within_filters"] == ["bag"] and none.results
    assert all(not r.product.category.startswith("Accessories/Bags") for r in none.results)
    some = engine.search(Query(text=f"bag under {cheapest + 0.01:.2f}", k=5))
    assert "not_within_filters" not in some.understood and some.results[0].product.category == "Accessories/Bags"
