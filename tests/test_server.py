"""The HTTP API: searches, bad input (4xx JSON), OpenAPI, concurrency (product writes: test_server_writes.py)."""

import io
import json
import threading

import jsonschema
import pytest
from PIL import Image

from server.openapi import SPEC

from tests.api_client import KEY, b64 as _b64, client, png as _png, validate as _validate  # noqa: F401 (client: the fixture)


def test_json_search_matches_the_openapi_schema(client):
    res = client.post("/api/search", json={"text": "red hoodie", "k": 5, "filters": {"max_price": 80}})
    assert res.status_code == 200
    body = res.get_json()
    _validate(body, "SearchResponse")
    assert len(body["results"]) == 5 and all(r["product"]["price"] <= 80 for r in body["results"])
    photo = client.get(body["results"][0]["product"]["images"][0])
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    photo.close()


def test_pages_and_price_order_over_http(client):
    """The next page starts where the first ended; a price order comes back cheapest first, in the
    OpenAPI shape, also from a multipart form."""
    first = client.post("/api/search", json={"text": "hoodie", "k": 6}).get_json()
    second = client.post("/api/search", json={"text": "hoodie", "k": 6, "offset": 6}).get_json()
    both = client.post("/api/search", json={"text": "hoodie", "k": 12}).get_json()
    _validate(second, "SearchResponse")
    assert second["offset"] == 6 and second["sort"] == "relevance"
    assert [r["product"]["id"] for r in first["results"] + second["results"]] == \
        [r["product"]["id"] for r in both["results"]]
    cheap = client.post("/api/search", data={"text": "hoodie", "k": "8", "sort": "price_asc"}).get_json()
    _validate(cheap, "SearchResponse")
    prices = [r["product"]["price"] for r in cheap["results"]]
    assert cheap["sort"] == "price_asc" and len(prices) == 8 and prices == sorted(prices)


def test_cheapest_in_the_words_orders_the_relevant_matches_by_price(client):
    body = client.post("/api/search", json={"text": "cheapest hoodie", "k": 8}).get_json()
    _validate(body, "SearchResponse")
    prices = [r["product"]["price"] for r in body["results"]]
    assert body["sort"] == body["understood"]["sort"] == "price_asc" and body["ordered"] >= len(prices) > 0
    assert prices == sorted(prices) and body["understood"]["text"] == "hoodie"
    mine = client.post("/api/search", json={"text": "cheapest hoodie", "k": 8, "sort": "price_desc"}).get_json()
    dear = [r["product"]["price"] for r in mine["results"]]  # the caller's order wins over the words'
    assert mine["sort"] == "price_desc" and "sort" not in mine["understood"] and dear == sorted(dear, reverse=True)
    assert dear[0] >= prices[-1]


def test_price_words_in_the_text_filter_and_are_reported(client):
    res = client.post("/api/search", json={"text": "red hoodie between $20 and $60", "k": 8})
    body = res.get_json()
    _validate(body, "SearchResponse")
    assert body["understood"] == {"text": "red hoodie", "phrases": ["between $20 and $60"],
                                  "min_price": 20.0, "max_price": 60.0, "category_words": ["hoodie"],
                                  "colours": ["red"]}
    assert body["results"] and all(20 <= r["product"]["price"] <= 60 for r in body["results"])


def test_read_words_false_embeds_the_text_as_typed(client):
    body = client.post("/api/search", json={"text": "red hoodie under 30", "k": 40, "read_words": False}).get_json()
    assert body["understood"] is None and any(r["product"]["price"] > 30 for r in body["results"])
    form = client.post("/api/search", data={"text": "red hoodie under 30", "read_words": "false"}).get_json()
    assert form["understood"] is None
    bad = client.post("/api/search", json={"text": "mug", "read_words": "maybe"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "read_words"


def test_multipart_photo_plus_text_search(client):
    data = {"image": (io.BytesIO(_png("blue")), "q.png"), "text": "bag", "k": "3",
            "filters": json.dumps({"category": "Accessories"})}
    res = client.post("/api/search", data=data, content_type="multipart/form-data")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert len(body["results"]) == 3
    assert all(r["product"]["category"].startswith("Accessories") for r in body["results"])


def test_product_health_openapi_metrics(client, built_shop):
    res = client.get("/api/products/S0001")
    assert res.status_code == 200
    _validate(res.get_json(), "Product")
    assert client.get("/api/health").get_json()["products"] == 328
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    client.post("/api/search", json={"text": "mug"})
    health = client.get("/api/health").get_json()
    assert health["catalogue_seq"] == health["seq"] and health["pending"] == 0
    assert health["catalogue_bridge"] is False  # the sample shop's own bundle has no vocabulary
    from engine.encoders import resolve_device
    from engine.encoders.fast import resolve_runtime

    # loaded by the search above: ONNX Runtime on the CPU when installed, torch on a GPU
    assert health["runtimes"]["text"] == resolve_runtime(built_shop.runtime, resolve_device(built_shop.device))
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'shopsight_search_seconds_count{kind="text"' in metrics
    assert "shopsight_index_products" in metrics and "shopsight_catalogue_changes_behind{" in metrics


def test_the_page_runs_only_its_own_script_and_nothing_is_sniffed(client):
    """Catalogue values (a feed's titles, links) reach the page as text; its policy would refuse markup that
    ran or loaded anything else all the same (the browser test runs the page under it)."""
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy and "unsafe" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api = client.post("/api/search", json={"text": "mug"})
    assert api.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in api.headers


def test_text_responses_are_gzipped_for_clients_that_accept_it(client):
    """A search's JSON and the page's script go gzipped to a client that says it accepts gzip (a phone waits for
    bytes); a photo, a small body and a client that does not accept it get the bytes as they are; a static file
    still answers its (now weak) ETag with a 304."""
    import gzip

    plain = client.post("/api/search", json={"text": "red hoodie", "k": 24})
    packed = client.post("/api/search", json={"text": "red hoodie", "k": 24}, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    ours = json.loads(gzip.decompress(packed.get_data()))
    assert [r["product"]["id"] for r in ours["results"]] == [r["product"]["id"] for r in plain.get_json()["results"]]
    assert "Accept-Encoding" in packed.headers["Vary"]
    script = client.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["Content-Encoding"] == "gzip" and b"function" in gzip.decompress(script.get_data())
    again = client.get("/static/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304
    photo = client.get("/api/products/S0001/photos/0", headers={"Accept-Encoding": "gzip"})
    small = client.get("/api/categories", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in photo.headers and "Content-Encoding" not in small.headers
    for res in (script, again, photo):  # (file responses: the server closes them after sending)
        res.close()


def test_duplicate_groups_over_http(client):
    """The sample shop re-lists 8 products with their photo: 8 groups, in the OpenAPI shape."""
    res = client.get("/api/duplicates", headers={"X-API-Key": KEY})
    assert res.status_code == 200
    body = res.get_json()
    jsonschema.validate(body, SPEC["paths"]["/api/duplicates"]["get"]["responses"]["200"]["content"]
                        ["application/json"]["schema"])
    assert body["same_photo_distance"] == 0.045 and body["threshold"] == 0.995 and body["price_gap"] == 0.1
    assert {"S0033", "S0328"} in [set(g) for g in body["groups"]] and len(body["groups"]) == 8
    off = client.get("/api/duplicates?threshold=1.0&same_photo_distance=0", headers={"X-API-Key": KEY}).get_json()
    assert off["same_photo_distance"] == 0.0 and all(len(g) >= 2 for g in off["groups"])
    bad = client.get("/api/duplicates?price_gap=1.5", headers={"X-API-Key": KEY})
    assert bad.status_code == 400 and "price_gap" in bad.get_json()["error"]


def test_duplicate_groups_are_compared_without_the_index_lock(client, monkeypatch):
    """The whole-catalogue comparison is quadratic: while it runs, other threads of the worker can take
    the index's lock (search, write); only the copy of the vectors holds it."""
    import threading

    from engine import duplicates
    from server.api import get_engine

    real, taken = duplicates.group_duplicates, []

    def grouping(*args, **kwargs):
        lock = get_engine().index.lock

        def other_request():
            if lock.acquire(timeout=2):
                taken.append(True)
                lock.release()

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join()
        return real(*args, **kwargs)

    monkeypatch.setattr(duplicates, "group_duplicates", grouping)
    res = client.get("/api/duplicates", headers={"X-API-Key": KEY})
    assert res.status_code == 200 and len(res.get_json()["groups"]) == 8 and taken == [True]


BIG = b"x" * (11 * 1024 * 1024)
BOMB = io.BytesIO()
Image.new("1", (8000, 8000)).save(BOMB, "PNG")
HTML = b"<!doctype html><html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

BAD_SEARCHES = [
    ("empty json object", {"json": {}}),
    ("blank text", {"json": {"text": "   "}}),
    ("text not a string", {"json": {"text": 42}}),
    ("text too long", {"json": {"text": "a" * 1001}}),
    ("k zero", {"json": {"text": "a", "k": 0}}),
    ("k negative", {"json": {"text": "a", "k": -3}}),
    ("k absurd", {"json": {"text": "a", "k": 10 ** 9}}),
    ("k fractional", {"json": {"text": "a", "k": 2.5}}),
    ("k not a number", {"json": {"text": "a", "k": "many"}}),
    ("k boolean", {"json": {"text": "a", "k": True}}),
    ("nan price", {"json": {"text": "a", "filters": {"min_price": "NaN"}}}),
    ("infinite price", {"json": {"text": "a", "filters": {"max_price": "inf"}}}),
    ("negative price", {"json": {"text": "a", "filters": {"min_price": -1}}}),
    ("price not a number", {"json": {"text": "a", "filters": {"max_price": "cheap"}}}),
    ("min above max", {"json": {"text": "a", "filters": {"min_price": 50, "max_price": 10}}}),
    ("unknown category", {"json": {"text": "a", "filters": {"category": "Garden/Tools"}}}),
    ("category not a string", {"json": {"text": "a", "filters": {"category": ["Apparel"]}}}),
    ("filters not an object", {"json": {"text": "a", "filters": [1, 2]}}),
    ("attributes not strings", {"json": {"text": "a", "filters": {"attributes": {"colour": 3}}}}),
    ("malformed base64", {"json": {"image": "!!!not-base64!!!"}}),
    ("base64 of html", {"json": {"image": _b64(HTML)}}),
    ("base64 of svg", {"json": {"image": _b64(SVG)}}),
    ("base64 of truncated png", {"json": {"image": _b64(_png()[:30])}}),
    ("image not a string", {"json": {"image": 123}}),
    ("bad box", {"json": {"image": _b64(_png()), "box": [0.9, 0.1, 0.2, 0.5]}}),
    ("box wrong length", {"json": {"image": _b64(_png()), "box": [0, 0, 1]}}),
    ("negative weight", {"json": {"text": "a", "image_weight": -1}}),
    ("offset negative", {"json": {"text": "a", "offset": -1}}),
    ("offset fractional", {"json": {"text": "a", "offset": 1.5}}),
    ("page past the deepest ranking", {"json": {"text": "a", "k": 10, "offset": 995}}),
    ("price page past the sorted window", {"json": {"text": "a", "k": 10, "offset": 195, "sort": "price_asc"}}),
    ("unknown sort", {"json": {"text": "a", "sort": "cheapest"}}),
    ("nan weight", {"json": {"text": "a", "text_weight": "nan"}}),
    ("zero weights", {"json": {"text": "a", "text_weight": 0}}),
    ("exclude not a list", {"json": {"text": "a", "exclude": {"a": 1}}}),
    ("preferences not an object", {"json": {"text": "a", "preferences": "cheap"}}),
    ("preferred category not a string", {"json": {"text": "a", "preferences": {"category": 3}}}),
    ("misspelt filter", {"json": {"text": "a", "filters": {"price_max": 30}}}),
    ("unknown field", {"json": {"text": "a", "limit": 5}}),
    ("misspelt preference", {"json": {"text": "a", "preferences": {"brand": "Acme"}}}),
    ("multipart unknown field", {"data": {"text": "a", "q": "b"}, "content_type": "multipart/form-data"}),
    ("malformed json body", {"data": b"{text: ", "content_type": "application/json"}),
    ("json array body", {"data": b"[1,2]", "content_type": "application/json"}),
    ("upload renamed html", {"data": {"image": (io.BytesIO(HTML), "photo.jpg")}, "content_type": "multipart/form-data"}),
    ("upload svg", {"data": {"image": (io.BytesIO(SVG), "photo.svg")}, "content_type": "multipart/form-data"}),
    ("upload empty file", {"data": {"image": (io.BytesIO(b""), "e.png")}, "content_type": "multipart/form-data"}),
    ("upload too large", {"data": BIG, "content_type": "multipart/form-data; boundary=zzz"}),
    ("json body too large", {"data": b'{"text": "' + BIG + b'"}', "content_type": "application/json"}),
    ("decompression bomb", {"data": {"image": (io.BytesIO(BOMB.getvalue()), "bomb.png")}, "content_type": "multipart/form-data"}),
    ("multipart filters malformed", {"data": {"text": "a", "filters": "{oops"}, "content_type": "multipart/form-data"}),
    ("json nested too deeply", {"data": b'{"filters": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                "content_type": "application/json"}),
    ("json sent as a url-encoded form", {"data": b'{"text": "a"}', "content_type": "application/x-www-form-urlencoded"}),
    ("body of another type", {"data": b'{"text": "a"}', "content_type": "text/plain"}),
]


@pytest.mark.parametrize("name,kwargs", BAD_SEARCHES, ids=[b[0] for b in BAD_SEARCHES])
def test_bad_search_requests_get_a_4xx_json_error(client, name, kwargs):
    res = client.post("/api/search", **kwargs)
    assert 400 <= res.status_code < 500, (name, res.status_code, res.get_data()[:200])
    body = res.get_json()
    _validate(body, "Error")
    assert body["error"]
    assert client.post("/api/search", json={"text": "red"}).status_code == 200


def test_a_misspelt_field_is_named_not_ignored(client):
    """A filter under a wrong name would otherwise be dropped and the shopper shown unfiltered results; a
    product's photos under "images" would be stored without them. Both are refused naming the field, and the
    refused product is not stored."""
    res = client.post("/api/search", json={"text": "hoodie", "filters": {"price_max": 30}})
    body = res.get_json()
    assert res.status_code == 400 and body["field"] == "filters.price_max" and "max_price" in body["error"]
    res = client.post("/api/products", json={"id": "NEW1", "title": "Blue mug", "images": [_b64(_png("blue"))]},
                      headers={"X-API-Key": KEY})
    body = res.get_json()
    assert res.status_code == 400 and body["field"] == "products[0].images" and "'photos'" in body["error"]
    assert client.get("/api/products/NEW1").status_code == 404


def test_a_body_of_the_wrong_type_is_named_not_read_as_empty(client):
    """``curl -d '{"text": ...}'`` sends JSON as a url-encoded form and some clients send no Content-Type: both
    were read as a request with no fields ("give a photo, a text, or both"); a 415 now says what to send."""
    res = client.post("/api/search", data=b'{"text": "hoodie"}', content_type="application/x-www-form-urlencoded")
    assert res.status_code == 415 and "curl -d" in res.get_json()["error"]
    res = client.post("/api/search", data=b'{"text": "hoodie"}')
    assert res.status_code == 415 and "application/json" in res.get_json()["error"]
    res = client.post("/api/search", data={"text": "hoodie", "k": "3"}, content_type="application/x-www-form-urlencoded")
    assert res.status_code == 200 and len(res.get_json()["results"]) == 3


def test_the_accepted_fields_are_the_openapi_schemas():
    """The parser's field lists and the published schemas cannot drift apart (both refuse any other field)."""
    from server import parsing
    schemas = SPEC["components"]["schemas"]
    search = schemas["SearchRequest"]
    assert set(search["properties"]) == set(parsing.SEARCH_FIELDS) and not search["additionalProperties"]
    assert set(search["properties"]["filters"]["properties"]) == set(parsing.FILTER_FIELDS)
    assert set(search["properties"]["preferences"]["properties"]) == set(parsing.PREFERENCE_FIELDS)
    assert set(schemas["ProductIn"]["properties"]) == set(parsing.PRODUCT_FIELDS)


BAD_OTHER = [
    ("get", "/api/products/NOPE", {}),
    ("get", "/api/products/S0001/photos/7", {}),
    ("get", "/api/nowhere", {}),
    ("put", "/api/search", {"json": {"text": "a"}}),
    ("post", "/api/products", {"json": {"title": "no id"}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"id": "a/b", "title": "slash"}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"id": "p", "title": "t", "price": -5}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"id": "p", "title": "t", "photos": ["%%%"]}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"id": "p", "title": "t", "photos": [_b64(HTML)]}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"products": []}, "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"products": [{"id": "p", "title": "a"}, {"id": "p", "title": "b"}]},
                               "headers": {"X-API-Key": KEY}}),
    ("post", "/api/products", {"json": {"products": [{"id": "p", "title": "t"}], "replace": True},
                               "headers": {"X-API-Key": KEY}}),
    ("delete", "/api/products/S0001", {"headers": {"X-API-Key": "nope"}}),
    ("get", "/api/duplicates", {}),
    ("get", "/api/duplicates?threshold=high", {"headers": {"X-API-Key": KEY}}),
    ("get", "/api/duplicates?same_photo_distance=nan", {"headers": {"X-API-Key": KEY}}),
    ("get", "/api/duplicates?threshold=2", {"headers": {"X-API-Key": KEY}}),
    ("put", "/api/synonyms", {"data": b"[" * 100_000, "content_type": "application/json", "headers": {"X-API-Key": KEY}}),
]


@pytest.mark.parametrize("method,url,kwargs", BAD_OTHER, ids=[f"{m} {u}" for m, u, _ in BAD_OTHER])
def test_bad_other_requests_get_a_4xx_json_error(client, method, url, kwargs):
    res = getattr(client, method)(url, **kwargs)
    assert 400 <= res.status_code < 500, res.get_data()[:200]
    assert res.get_json()["error"]
    assert client.get("/api/products/S0001").status_code == 200


def test_concurrent_searches_while_a_writer_adds_and_deletes(client):
    errors, torn = [], []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            res = client.post("/api/search", json={"text": "red hoodie", "k": 10})
            if res.status_code != 200:
                errors.append(res.get_data())
                continue
            ids = [r["product"]["id"] for r in res.get_json()["results"]]
            if len(ids) != 10 or len(set(ids)) != 10:
                torn.append(ids)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(15):
            pid = f"W{i}"
            res = client.post("/api/products", json={"id": pid, "title": f"Writer item {i}", "price": 1.0 + i,
                                                     "attributes": {"batch": "w"}, "photos": [_b64(_png("orange"))]},
                              headers={"X-API-Key": KEY})
            assert res.status_code == 201
            seen = client.post("/api/search", json={"text": "x", "k": 100, "filters": {"attributes": {"batch": "w"}}})
            assert pid in [r["product"]["id"] for r in seen.get_json()["results"]]
            if i % 2:
                assert client.delete(f"/api/products/{pid}", headers={"X-API-Key": KEY}).status_code == 200
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors and not torn


def test_serving_never_starts_a_local_cluster(built_shop):
    from dataclasses import replace

    from server import create_app

    app = create_app(replace(built_shop, cluster="local:4"), api_key="k")
    assert app.config["ENGINE_CONFIG"].cluster == ""
    app = create_app(replace(built_shop, cluster="tcp://scheduler:8786"), api_key="k")
    assert app.config["ENGINE_CONFIG"].cluster == "tcp://scheduler:8786"
