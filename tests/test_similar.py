"""Products like a stored one (engine/similar.py, GET /api/products/<id>/similar)."""

from __future__ import annotations

import pytest

from engine.errors import BadInputError, ProductNotFoundError
from engine.similar import similar
from engine.types import Filters, Query
from tests.api_client import KEY, client, validate  # noqa: F401  (client: a fixture)


def test_similar_searches_the_products_photo_and_leaves_it_out(engine):
    product = engine.catalog.get("S0042")
    found = similar(engine, "S0042", k=5)
    ids = [r.product.id for r in found.results]
    assert len(ids) == 5 and "S0042" not in ids
    assert found.understood == {"like": "S0042", "like_title": product.title, "by": "photo"}
    from engine.images import open_image
    by_photo = [r.product.id for r in engine.search(Query(image=open_image(product.images[0]), k=6)).results]
    assert ids == [i for i in by_photo if i != "S0042"][:5]  # what a shopper sending that photo gets, less itself


def test_near_duplicate_listings_of_the_product_are_left_out_too(engine):
    from engine.duplicates import find_duplicates

    groups = find_duplicates(engine.index, engine.config.rerank.duplicate_threshold,
                             same_photo_distance=engine.config.rerank.same_photo_distance,
                             price_gap=engine.config.rerank.fold_price_gap)
    ids = engine.index.table.ids
    group = [ids[r] for r in groups[0]]
    found = [r.product.id for r in similar(engine, group[0], k=10).results]
    assert not set(group) & set(found), (group, found)


def test_filters_apply_and_bad_arguments_are_refused(engine):
    found = similar(engine, "S0042", k=4, filters=Filters(max_price=30.0))
    assert found.results and all(r.product.price <= 30.0 for r in found.results)
    with pytest.raises(ProductNotFoundError):
        similar(engine, "no-such-product")
    with pytest.raises(BadInputError):
        similar(engine, "S0042", k=0)


def test_cheaper_alternatives_of_a_product(engine, client, monkeypatch):
    """A product page's "cheaper alternatives": like it, strictly cheaper, of its kind (``price=cheaper``);
    ``dearer`` the other way; a product without a price or an unknown value is a 400."""
    hoodies = sorted((p for p in engine.catalog if p.category == "Apparel/Tops/Hoodies"), key=lambda p: p.price)
    mid = hoodies[len(hoodies) // 2]
    found = similar(engine, mid.id, k=8, price="cheaper")
    assert found.results and found.understood["price"] == "cheaper"
    assert all(r.product.price < mid.price and r.product.category == mid.category for r in found.results)
    dearer = similar(engine, mid.id, k=8, price="dearer")
    assert dearer.results and all(r.product.price > mid.price for r in dearer.results)
    within = similar(engine, mid.id, k=8, price="cheaper", filters=Filters(category="Apparel"))  # theirs wins
    assert all(r.product.price < mid.price for r in within.results)
    assert {r.product.category for r in within.results} - {mid.category}  # other apparel too
    res = client.get(f"/api/products/{mid.id}/similar", query_string={"k": 4, "price": "cheaper"})
    assert res.status_code == 200 and all(r["product"]["price"] < mid.price for r in res.get_json()["results"])
    validate(res.get_json(), "SearchResponse")
    bad = client.get(f"/api/products/{mid.id}/similar", query_string={"price": "cheap"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "price"
    monkeypatch.setattr(engine.catalog, "get", lambda pid: mid.with_(price=None))  # (the shared shop stays as it is)
    with pytest.raises(BadInputError, match="no price"):
        similar(engine, mid.id, price="cheaper")


def test_similar_over_http(client):
    res = client.get("/api/products/S0042/similar", query_string={"k": 3, "category": "Apparel"})
    body = res.get_json()
    assert res.status_code == 200, body
    validate(body, "SearchResponse")
    assert len(body["results"]) == 3 and body["understood"]["like"] == "S0042"
    assert all(r["product"]["category"].startswith("Apparel") and r["product"]["id"] != "S0042" for r in body["results"])
    assert all(r["product"]["images"][0].startswith("/api/products/") for r in body["results"])
    assert client.get("/api/products/nope/similar").status_code == 404
    bad = client.get("/api/products/S0042/similar", query_string={"k": 51})
    assert bad.status_code == 400 and bad.get_json()["field"] == "k"
    assert client.get("/api/products/S0042/similar", query_string={"min_price": "cheap"}).status_code == 400
    stored = client.post("/api/products", json={"id": "T1", "title": "Red striped hoodie, no photo", "price": 20},
                         headers={"X-API-Key": KEY})
    assert stored.status_code == 201
    by_title = client.get("/api/products/T1/similar", query_string={"k": 3}).get_json()
    assert by_title["understood"]["by"] == "title" and "T1" not in [r["product"]["id"] for r in by_title["results"]]


def test_similar_reads_the_photos_vectors_from_the_index_not_the_tower(engine, monkeypatch):
    """The stored product's photo is no new photo: its vectors come from the index (no tower pass), and give
    what the photo sent as a query gives (the cells at the tower's own side)."""
    from engine.images import open_image

    product = engine.catalog.get("S0100")
    by_photo = [r.product.id for r in engine.search(Query(image=open_image(product.images[0]), k=7)).results]

    def no_tower(*args, **kwargs):
        raise AssertionError("the tower ran")

    monkeypatch.setattr(engine.embedder, "embed_pil", no_tower)
    found = similar(engine, "S0100", k=6)
    assert found.understood["by"] == "photo"
    assert [r.product.id for r in found.results] == [i for i in by_photo if i != "S0100"][:6]
