"""Cross-origin reads for a storefront (server/cors.py): allowed sites may read, nobody may write."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from server import create_app
from tests.api_client import KEY

SHOP = "https://shop.example"


@pytest.fixture()
def app_for(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")

    def make(origins):
        return create_app(replace(built_shop, data_dir=str(tmp_path / "shop"), cors_origins=origins), api_key=KEY).test_client()
    return make


def test_an_allowed_storefront_may_search_and_read(app_for):
    client = app_for((SHOP,))
    pre = client.options("/api/search", headers={"Origin": SHOP, "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in pre.headers["Access-Control-Allow-Methods"] and pre.headers["Access-Control-Allow-Headers"] == "Content-Type"
    res = client.post("/api/search", json={"text": "red hoodie", "k": 2}, headers={"Origin": SHOP})
    assert res.status_code == 200 and res.headers["Access-Control-Allow-Origin"] == SHOP and "Origin" in res.headers["Vary"]
    for path in ("/api/suggest?q=red", "/api/products/S0042", "/api/products/S0042/similar?k=2", "/api/categories"):
        assert client.get(path, headers={"Origin": SHOP}).headers.get("Access-Control-Allow-Origin") == SHOP, path
    bad = client.post("/api/search", json={"k": 2}, headers={"Origin": SHOP})  # an error the page can read
    assert bad.status_code == 400 and bad.headers["Access-Control-Allow-Origin"] == SHOP


def test_other_sites_and_every_write_get_no_cross_origin_answer(app_for):
    client = app_for((SHOP,))
    other = client.post("/api/search", json={"text": "red hoodie", "k": 2}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    for method, path in (("POST", "/api/products"), ("PUT", "/api/synonyms"), ("GET", "/api/unheard"),
                         ("GET", "/api/duplicates"), ("DELETE", "/api/products/S0042")):
        pre = client.options(path, headers={"Origin": SHOP, "Access-Control-Request-Method": method})
        assert "Access-Control-Allow-Origin" not in pre.headers, path
    write = client.post("/api/products", json={"id": "X", "title": "x"}, headers={"Origin": SHOP, "X-API-Key": KEY})
    assert "Access-Control-Allow-Origin" not in write.headers


def test_any_site_with_a_star_and_none_by_default(app_for):
    star = app_for(("*",)).get("/api/categories", headers={"Origin": "https://anyone.example"})
    assert star.headers["Access-Control-Allow-Origin"] == "*"
    default = app_for(()).get("/api/categories", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in default.headers
