"""Soft attribute preferences and the shop's standing boosts (engine/fusion.py: attribute_fit, boost)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from engine.attributes import AttributeTable
from engine.engine import SearchEngine
from engine.errors import BadSettingError
from engine.types import Preferences, Product, Query
from tests.api_client import client  # noqa: F401  (a fixture)


def test_holding_reads_each_rows_own_values_against_a_brute_force_check():
    rng = np.random.default_rng(3)
    table, stated = AttributeTable(), []
    for i in range(61):
        attrs = {"brand": ["Acme", "Bolt", "acme"][i % 3], ("color" if i % 2 else "colour"): "Red|Blue" if i % 5 else "Green"}
        stated.append(attrs)
        table.add(Product(id=str(i), title="t", attributes=attrs))
    rows = rng.choice(61, size=17, replace=False)
    wanted = [("Brand", "ACME"), ("colour", "blue"), ("brand", "bolt"), ("size", "M")]
    got = table.holding(rows, wanted)
    for i, r in enumerate(rows):
        a = stated[r]
        colours = {c.lower() for c in (a.get("colour") or a.get("color")).split("|")}
        assert got[i].tolist() == [a["brand"].lower() == "acme", "blue" in colours, a["brand"] == "Bolt", False]


@pytest.fixture()
def shop(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


def test_a_preferred_pattern_moves_products_up_without_removing_any(shop):
    engine = SearchEngine.open(shop)
    plain = engine.search(Query(text="hoodie", k=20))
    liked = engine.search(Query(text="hoodie", k=20, preferences=Preferences(attributes={"pattern": "dotted"})))
    assert liked.matching == plain.matching
    top = [r.product.attributes.get("pattern") for r in liked.results[:5]]
    assert top.count("dotted") > [r.product.attributes.get("pattern") for r in plain.results[:5]].count("dotted")
    assert all(r.why.get("attribute_fit") in (0.0, 1.0) for r in liked.results)


def test_standing_boosts_demote_and_promote_and_bad_rules_are_refused(shop):
    plain = SearchEngine.open(shop).search(Query(text="red hoodie", k=10))
    first = plain.results[0].product
    demoted = SearchEngine.open(replace(shop, boosts={f"pattern={first.attributes['pattern']}": -5.0}))
    got = demoted.search(Query(text="red hoodie", k=10))
    assert got.results[0].product.attributes["pattern"] != first.attributes["pattern"]
    held = [r for r in got.results if r.product.attributes.get("pattern") == first.attributes["pattern"]]
    assert all(r.why["boost"] == -5.0 for r in held)
    with pytest.raises(BadSettingError, match="attribute=value"):
        SearchEngine.open(replace(shop, boosts={"pattern": 1.0}))
    with pytest.raises(BadSettingError, match="not a number"):
        SearchEngine.open(replace(shop, boosts={"pattern=dotted": "lots"}))


def test_out_of_stock_products_come_after_the_in_stock_ones_by_default():
    """A Google feed writes availability "out_of_stock" (a quarter of a fashion feed's top 10s were): they rank
    below by ``out_of_stock`` (-0.5) unless the shop sets it to 0 or writes its own rule, which wins."""
    from engine.fusion import standing_boosts

    assert standing_boosts({}, -0.5)["availability=out_of_stock"] == -0.5
    assert standing_boosts({}, -0.5)["availability=sold out"] == -0.5
    assert standing_boosts({}, 0.0) == {}
    assert standing_boosts({"Availability=Out_Of_Stock": -2.0, "brand=Acme": 0.1}, -0.5)["availability=out_of_stock"] == -2.0
    with pytest.raises(BadSettingError):
        standing_boosts({"availability": -1.0}, -0.5)


def test_an_out_of_stock_product_ranks_below_its_in_stock_twin(shop):
    engine = SearchEngine.open(shop)
    first = engine.search(Query(text="red striped hoodie", k=1)).results[0].product
    engine.catalog.upsert([first.with_(attributes={**first.attributes, "availability": "out_of_stock"})])
    engine.sync()
    moved = engine.search(Query(text="red striped hoodie", k=10)).results
    assert moved[0].product.id != first.id
    assert next(r for r in moved if r.product.id == first.id).why["boost"] == -0.5
    kept = SearchEngine.open(replace(shop, out_of_stock=0.0)).search(Query(text="red striped hoodie", k=1))
    assert kept.results[0].product.id == first.id


def test_preferred_attributes_over_http(client):
    def striped(body):
        return sum(r["product"]["attributes"]["pattern"] == "striped" for r in body["results"])
    plain = client.post("/api/search", json={"text": "hoodie", "k": 5}).get_json()
    body = client.post("/api/search", json={"text": "hoodie", "k": 5,
                                            "preferences": {"attributes": {"pattern": "striped"}}}).get_json()
    assert striped(body) > striped(plain) and "attribute_fit" in body["results"][0]["why"]
    bad = client.post("/api/search", json={"text": "hoodie", "preferences": {"attributes": {"pattern": 3}}})
    assert bad.status_code == 400 and bad.get_json()["field"] == "preferences.attributes"
