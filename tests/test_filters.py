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
