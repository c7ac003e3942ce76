"""The HTTP API's product writes: the API key, visible at once, photos kept or replaced, PATCH, multipart forms."""

import io
import shutil
from dataclasses import replace

import jsonschema

from server import create_app
from server.openapi import SPEC

from tests.api_client import KEY, b64 as _b64, client, png as _png  # noqa: F401 (client: the fixture)


def test_writes_need_the_key_and_are_visible_at_once(client):
    product = {"id": "API1", "title": "Lime green kettle", "price": 12.5, "category": "Home/Kitchen/Kettles",
               "attributes": {"brand": "Kettlr"}, "photos": [_b64(_png("lime"))]}
    assert client.post("/api/products", json=product).status_code == 401
    assert client.post("/api/products", json=product, headers={"X-API-Key": "wrong"}).status_code == 401
    res = client.post("/api/products", json=product, headers={"X-API-Key": KEY})
    assert res.status_code == 201, res.get_json()
    found = client.post("/api/search", json={"text": "kettle", "filters": {"attributes": {"brand": "kettlr"}}})
    assert [r["product"]["id"] for r in found.get_json()["results"]] == ["API1"]
    photo = client.get("/api/products/API1/photos/0")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    photo.close()
    assert client.delete("/api/products/API1", headers={"X-API-Key": KEY}).status_code == 200
    gone = client.post("/api/search", json={"text": "kettle", "filters": {"category": "Home"}, "k": 200})
    assert "API1" not in [r["product"]["id"] for r in gone.get_json()["results"]]
    assert client.delete("/api/products/API1", headers={"X-API-Key": KEY}).status_code == 404


def test_a_product_sent_again_without_photos_keeps_them(client):
    """Updating a price by sending the product again must not drop its photos; "photos": [] does."""
    headers = {"X-API-Key": KEY}
    product = {"id": "KEEP1", "title": "Lime kettle", "price": 30.0, "photos": [_b64(_png("lime"))]}
    assert client.post("/api/products", json=product, headers=headers).status_code == 201
    stored = client.get("/api/products/KEEP1").get_json()["images"]
    again = {"id": "KEEP1", "title": "Lime kettle", "price": 25.0}
    assert client.put("/api/products", json=again, headers=headers).status_code == 200
    body = client.get("/api/products/KEEP1").get_json()
    assert body["price"] == 25.0 and body["images"] == stored and len(stored) == 1
    photo = client.get(stored[0])
    assert photo.status_code == 200
    photo.close()
    cleared = client.post("/api/products", json={**again, "photos": []}, headers=headers)
    assert cleared.status_code == 201 and client.get("/api/products/KEEP1").get_json()["images"] == []


def test_patch_changes_only_the_given_fields(client):
    headers = {"X-API-Key": KEY}
    before = client.get("/api/products/S0001").get_json()
    change = {"price": 12.5, "attributes": {"material": "wool"}}
    jsonschema.validate(change, SPEC["paths"]["/api/products/{id}"]["patch"]["requestBody"]["content"]
                        ["application/json"]["schema"])
    res = client.patch("/api/products/S0001", json=change, headers=headers)
    assert res.status_code == 200 and res.get_json()["stored"] == ["S0001"]
    after = client.get("/api/products/S0001").get_json()
    assert after["price"] == 12.5 and after["attributes"] == {"material": "wool"}
    assert {k: after[k] for k in ("title", "description", "category", "currency", "images")} == \
        {k: before[k] for k in ("title", "description", "category", "currency", "images")}
    found = client.post("/api/search", json={"text": before["title"], "k": 200, "filters": {"max_price": 13}}).get_json()
    assert "S0001" in [r["product"]["id"] for r in found["results"]]  # the index follows the catalogue
    assert client.patch("/api/products/S0001", json={"price": None}, headers=headers).status_code == 200
    assert client.get("/api/products/S0001").get_json()["price"] is None
    assert client.patch("/api/products/S0001", json={"price": 3}).status_code == 401
    assert client.patch("/api/products/NOPE", json={"price": 3}, headers=headers).status_code == 404
    for bad, field in (({"colour": "red"}, "product"), ({}, "product"), ({"price": -2}, "price"),
                       ({"title": " "}, "product.title"), ({"photos": ["%%%"]}, "photos")):
        res = client.patch("/api/products/S0001", json=bad, headers=headers)
        assert res.status_code == 400 and res.get_json()["field"] == field, (bad, res.get_json())
    assert client.get("/api/products/S0001").get_json()["images"] == before["images"]  # nothing lost
    assert client.patch("/api/products/S0001", json={"photos": [_b64(_png("navy"))]}, headers=headers).status_code == 200
    replaced = client.get("/api/products/S0001").get_json()
    assert len(replaced["images"]) == 1 and replaced["title"] == before["title"] and replaced["price"] is None
    photo = client.get(replaced["images"][0])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"  # the uploaded photo, stored as JPEG
    photo.close()


def test_writes_refused_when_no_key_is_configured(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop2")
    app = create_app(replace(built_shop, data_dir=str(tmp_path / "shop2")), api_key="")
    res = app.test_client().post("/api/products", json={"id": "x", "title": "y"}, headers={"X-API-Key": ""})
    assert res.status_code == 403 and "no API key" in res.get_json()["error"]


def test_a_product_with_photo_files_from_a_multipart_form(client):
    """A shop's admin form: the product's fields as form fields, its photos as files; found by that photo."""
    data = {"id": "FORM1", "title": "Form-made teal mug", "price": "12.5", "category": "Home/Kitchen/Mugs",
            "photos": [(io.BytesIO(_png("teal", (64, 64))), "a.png"), (io.BytesIO(_png("navy", (64, 64))), "b.png")]}
    res = client.post("/api/products", data=data, content_type="multipart/form-data", headers={"X-API-Key": KEY})
    assert res.status_code == 201, res.get_json()
    stored = client.get("/api/products/FORM1").get_json()
    assert stored["price"] == 12.5 and len(stored["images"]) == 2
    found = client.post("/api/search", data={"image": (io.BytesIO(_png("teal", (64, 64))), "q.png"), "k": "3"},
                        content_type="multipart/form-data").get_json()
    assert "FORM1" in [r["product"]["id"] for r in found["results"]]
    bad = client.post("/api/products", data={**data, "photos": [(io.BytesIO(b"<svg/>"), "x.png")], "colour": "teal"},
                      content_type="multipart/form-data", headers={"X-API-Key": KEY})
    assert bad.status_code == 400 and bad.get_json()["field"] == "products[0].colour"
