"""The JSON API blueprint: search, products (read, write with an API key), photos, near-duplicate
groups (API key), health, OpenAPI."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, request, send_file

from engine import similar, synonyms, unheard
from engine.errors import BadInputError
from engine.images import open_image

from . import openapi
from .parsing import (MAX_IMAGE_PIXELS, check_fields, decode_base64_image, json_body, parse_filters, parse_product,
                      parse_query, request_data)
from .state import get_engine

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_BATCH = 500
MAX_PHOTOS = 10
MAX_SUGGEST_CHARS = 200


@bp.post("/search")
def search():
    query = parse_query(request)
    g.query_kind = query.kind
    engine = get_engine()
    t0 = time.perf_counter()
    body = _response(engine, engine.search(query), t0)
    body["offset"], body["sort"] = query.offset, (body["understood"] or {}).get("sort", query.sort)  # "cheapest": words
    return jsonify(body)


@bp.get("/products/<pid>/similar")
def similar_products(pid: str):
    """Products like ``pid`` (its first photo searched, the product and its near-duplicates left out)."""
    g.query_kind = "similar"
    engine = get_engine()
    t0 = time.perf_counter()
    args = request.args.to_dict()
    price = args.pop("price", None)
    found = similar.similar(engine, pid, _int_arg("k", 8, 1, similar.MAX_K), parse_filters(args), price or None)
    return jsonify(_response(engine, found, t0))


def _response(engine, response, t0: float) -> dict:
    body = response.as_dict()
    for item in body["results"]:
        item["product"]["images"] = _photo_urls(item["product"])
    body["timings_ms"]["server"] = round((time.perf_counter() - t0) * 1000, 3)
    body["facets"] = engine.index.table.facet_counts()
    return body


@bp.get("/products/<pid>")
def get_product(pid: str):
    product = get_engine().catalog.get(pid).as_dict()
    product["images"] = _photo_urls(product)
    return jsonify(product)


@bp.get("/products/<pid>/photos/<int:n>")
def photo(pid: str, n: int):
    product = get_engine().catalog.get(pid)
    if not 0 <= n < len(product.images):
        abort(404, f"product {pid!r} has {len(product.images)} photos; no photo {n}")
    path = Path(product.images[n])
    if not path.exists():
        abort(404, f"photo {n} of {pid!r} is missing on disk")
    return send_file(path, max_age=3600)


@bp.get("/categories")
def categories():
    return jsonify(get_engine().index.table.facet_counts())


@bp.route("/products", methods=["POST", "PUT"])
def upsert_products():
    _require_key()
    data = request_data(request)
    if "products" in data or "product" in data:
        check_fields(data, ("products", "product"), "")
    raw = data.get("products", data.get("product", data))
    items = raw if isinstance(raw, list) else [raw]
    if not 1 <= len(items) <= MAX_BATCH:
        raise BadInputError("products", f"send 1 to {MAX_BATCH} products, got {len(items)}")
    products = [parse_product(item, f"products[{i}]") for i, item in enumerate(items)]
    first: dict[str, int] = {}
    for i, p in enumerate(products):  # which of two would be meant is anyone's guess: refused before any is stored
        if first.setdefault(p.id, i) != i:
            raise BadInputError(f"products[{i}].id", f"{p.id!r} is also products[{first[p.id]}]: send each product once")
    products = [_with_photos(p, item, i) for i, (p, item) in enumerate(zip(products, items))]
    # a product sent again without a photos field (and no files) keeps its stored photos; "photos": [] removes them
    keep = [p.id for p, item in zip(products, items) if not request.files and "photos" not in item]
    seq = get_engine().add_products(products, keep_photos_of=keep)
    return jsonify({"stored": [p.id for p in products], "seq": seq}), 201 if request.method == "POST" else 200


PATCHABLE = ("title", "description", "category", "price", "currency", "attributes", "photos")


@bp.patch("/products/<pid>")
def patch_product(pid: str):
    """Change some fields of a stored product; the others (photos included) stay as they are. Given
    ``attributes`` replace the whole map; ``price`` null clears it; ``photos`` (base64 list or
    multipart files) replace the photos."""
    _require_key()
    data = request_data(request)
    unknown = sorted(set(data) - set(PATCHABLE))
    if unknown or not (data or request.files):
        raise BadInputError("product", f"unknown fields {unknown}: change any of {', '.join(PATCHABLE)}"
                            if unknown else f"nothing to change: send any of {', '.join(PATCHABLE)}")
    engine = get_engine()
    current = engine.catalog.get(pid)
    stored = {k: v for k, v in current.as_dict().items() if k != "images"}  # photos are kept apart
    merged = {**stored, **{k: v for k, v in data.items() if k != "photos"}, "id": pid}
    product = parse_product(merged, "product")
    if "category" not in data:  # a predicted category stays marked as predicted
        product = product.with_(category=current.category, category_predicted=current.category_predicted)
    new_photos = "photos" in data or bool(request.files)
    if new_photos:
        product = _with_photos(product, data, 0, "photos")
    seq = engine.add_products([product], keep_photos_of=() if new_photos else [pid])
    return jsonify({"stored": [pid], "seq": seq})


@bp.delete("/products/<pid>")
def delete_product(pid: str):
    _require_key()
    seq = get_engine().delete_product(pid)
    return jsonify({"deleted": pid, "seq": seq})


@bp.get("/duplicates")
def duplicates():
    """Near-duplicate listing groups over the whole catalogue (a back-office call: it compares every
    product with every other, block-wise, so it needs the API key; the index's lock is held only
    while its vectors are copied)."""
    _require_key()
    from engine.duplicates import group_duplicates, snapshot

    engine = get_engine()
    rerank = engine.config.rerank
    threshold = _float_arg("threshold", rerank.duplicate_threshold, -1.0, 1.0)
    distance = _float_arg("same_photo_distance", rerank.same_photo_distance, 0.0, 2.0)
    gap = _float_arg("price_gap", rerank.fold_price_gap, 0.0, 1.0)
    with engine.index.lock:  # only the copy: searches and writes go on while the pairs are compared
        inputs = snapshot(engine.index, threshold, distance)
    groups = group_duplicates(inputs, threshold, same_photo_distance=distance, price_gap=gap)
    named = [[inputs.ids[r] for r in g] for g in groups]
    return jsonify({"groups": named, "threshold": threshold, "same_photo_distance": distance, "price_gap": gap})


def _float_arg(name: str, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadInputError(name, f"{raw!r} is not a number") from None
    if not low <= value <= high:  # also rejects NaN
        raise BadInputError(name, f"{raw} is outside {low}..{high}")
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument within ``low``..``high`` (``_float_arg``'s checks, then wholeness)."""
    value = _float_arg(name, default, low, high)
    if value != int(value):
        raise BadInputError(name, f"{request.args.get(name)} is not a whole number")
    return int(value)


@bp.get("/suggest")
def suggest():
    """Search-as-you-type (``Catalog.suggest``)."""
    text = request.args.get("q", "")
    if not text.strip():
        raise BadInputError("q", "give the words typed so far")
    if len(text) > MAX_SUGGEST_CHARS:
        raise BadInputError("q", f"at most {MAX_SUGGEST_CHARS} characters")
    k = _int_arg("k", 8, 1, 20)
    engine = get_engine()
    shop = synonyms.load(engine.config.synonyms_path)  # the shop's rules and equivalent words apply as in a search
    found = engine.catalog.suggest(shop.rewrite(text)[0], k, shop.groups)
    return jsonify({"q": text, "suggestions": [{"id": pid, "title": title} for pid, title in found]})


@bp.get("/synonyms")
def get_synonyms():
    """The shop's synonyms file (``engine/synonyms.py``) as text, and what it holds."""
    path = get_engine().config.synonyms_path
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return jsonify(_synonyms_body(text, synonyms.parse(text)))


@bp.put("/synonyms")
def put_synonyms():
    """Replace the shop's synonyms: the body is the file (text/plain) or {"synonyms": "<the file>"}; every
    worker reads it before its next search. A wrong line is a 400 naming it, and nothing is written."""
    _require_key()
    if request.mimetype == "application/json":
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("synonyms"), str):
            raise BadInputError("synonyms", 'send the file as text/plain, or JSON {"synonyms": "<the file>"}')
        text = body["synonyms"]
    else:
        text = request.get_data(as_text=True)
    found = synonyms.install(text, get_engine().config.synonyms_path)
    return jsonify(_synonyms_body(text, found))


def _synonyms_body(text: str, found: synonyms.Synonyms) -> dict:
    return {"synonyms": text, **found.sizes()}


@bp.get("/unheard")
def unheard_words():
    """The words shoppers searched that no product holds, most searched first, each with the shop's category
    names nearest to it (``engine/unheard.py``)."""
    _require_key()
    k = _int_arg("k", 50, 1, 1000)
    engine = get_engine()
    rows = engine.unheard.top(k) if engine.unheard is not None else []
    near = unheard.nearest_in(engine, [r["word"] for r in rows])
    return jsonify({"words": [{**r, "near": near[r["word"]]} for r in rows], "logging": engine.unheard is not None})


@bp.delete("/unheard")
def forget_unheard():
    """Clear the counts (after acting on them: synonyms written, products added)."""
    _require_key()
    log = get_engine().unheard
    return jsonify({"forgotten": log.forget() if log is not None else 0})


@bp.get("/health")
def health():
    engine = get_engine()
    return jsonify({"status": "ok", "products": len(engine.index), "photos": engine.index.photos.n_alive,
                    "index": engine.index.photos.kind, "gpu": engine.index.photos.gpu_backend,
                    "seq": engine.index.seq, "catalogue_seq": engine.catalog.seq, "pending": engine.backlog.pending,
                    "shared_fit": engine.index.shared_fit, "build": engine.index.build_id,
                    "snapshot": engine.index.folder, "rows_held": len(engine.index.table),
                    "catalogue_bridge": engine.index.prototypes is not None,
                    "bundle": engine.embedder.bundle.fingerprint, "runtimes": engine.embedder.runtimes})


@bp.get("/openapi.json")
def openapi_spec():
    return jsonify(openapi.SPEC)


def _require_key() -> None:
    expected = current_app.config.get("API_KEY") or ""
    if not expected:
        abort(403, "writes are disabled: no API key is configured (set SHOPSIGHT_API_KEY)")
    given = request.headers.get("X-API-Key", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(401, "missing or wrong X-API-Key header")


def _with_photos(product, raw: dict, i: int, field: str = ""):
    """Validate and store the product's photos (multipart files or base64 strings); errors name ``field``
    (default: the batch position's)."""
    field = field or f"products[{i}].photos"
    blobs = [_read_and_close(f) for f in request.files.getlist("photos")] if request.files else []
    encoded = raw.get("photos", []) if isinstance(raw, dict) else []
    if not isinstance(encoded, list):
        raise BadInputError(field, "expected a list of base64 strings")
    if len(blobs) + len(encoded) > MAX_PHOTOS:
        raise BadInputError(field, f"at most {MAX_PHOTOS} photos per product")
    images = [open_image(b, MAX_IMAGE_PIXELS, field) for b in blobs]
    images += [decode_base64_image(e, field) for e in encoded]
    folder = Path(current_app.config["ENGINE_CONFIG"].data_dir) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for img in images:
        data = img.tobytes()
        path = folder / f"{hashlib.sha256(data + str(img.size).encode()).hexdigest()[:32]}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            img.save(tmp, "JPEG", quality=92)
            tmp.replace(path)
        paths.append(str(path.resolve()))
    return product.with_(images=tuple(paths))


def _read_and_close(upload) -> bytes:
    try:
        return upload.read()
    finally:
        upload.close()


def _photo_urls(product: dict) -> list[str]:
    return [f"/api/products/{product['id']}/photos/{n}" for n in range(len(product["images"]))]
