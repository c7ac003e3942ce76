"""Request parsing: JSON or multipart into engine types, with a named field for every bad value."""

from __future__ import annotations

import base64
import binascii
import json
import math

from flask import Request
from werkzeug.exceptions import UnsupportedMediaType

from engine.errors import BadInputError
from engine.images import crop_box, open_image
from engine.types import Filters, Preferences, Product, Query

MAX_K = 200
MAX_TEXT = 1000
MAX_IMAGE_PIXELS = 40_000_000
FILTER_FIELDS = ("min_price", "max_price", "category", "attributes")
SEARCH_FIELDS = ("text", "image", "box", "k", "offset", "sort", "filters", "preferences", "exclude", "image_weight",
                 "text_weight", "read_words", "min_price", "max_price", "category")
PREFERENCE_FIELDS = ("price_target", "category", "attributes")
PRODUCT_FIELDS = ("id", "title", "description", "category", "category_predicted", "price", "currency", "attributes",
                  "photos")


def check_fields(data: dict, known, field: str) -> None:
    """A misspelt or unsupported field is an error, not a silently ignored part of the request (a filter
    the shopper believes applied): ``BadInputError`` naming it and the fields ``known``."""
    unknown = sorted(str(k) for k in data if k not in known)
    if not unknown:
        return
    hint = ("; photos go in 'photos' (base64 strings or multipart files), 'images' is the stored photos' addresses"
            if "images" in unknown and "photos" in known else "")
    name = f"{field}.{unknown[0]}" if field else unknown[0]
    raise BadInputError(name, f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
                        f"expected any of {', '.join(known)}{hint}")


def json_body(req: Request):
    """The JSON body, or None when it does not parse (a body nested thousands deep included: the decoder's
    RecursionError was a 500)."""
    try:
        return req.get_json(silent=True)
    except RecursionError:
        raise BadInputError("body", "JSON nested too deeply") from None


def request_data(req: Request) -> dict:
    """The request's fields: the JSON body, or the multipart/url-encoded form (JSON-valued fields decoded).
    A body of another type is refused naming it (415), not read as an empty request."""
    if req.is_json:
        data = json_body(req)
        if not isinstance(data, dict):
            raise BadInputError("body", "malformed JSON: expected an object")
        return data
    _check_media_type(req)
    data = {}
    for key, value in req.form.items():
        data[key] = _maybe_json(key, value) if key in ("filters", "preferences", "product", "box") else value
    return data


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _check_media_type(req: Request) -> None:
    """A body that is neither JSON nor a form would be read as no fields at all ("give a photo, a text..."):
    say what was sent instead. ``curl -d '{...}'`` sends JSON as a url-encoded form; that is named too."""
    if req.mimetype in FORM_TYPES:
        if req.mimetype == FORM_TYPES[1] and len(req.form) == 1 and next(iter(req.form)).lstrip().startswith("{"):
            raise UnsupportedMediaType("the body is JSON sent as application/x-www-form-urlencoded (curl -d does "
                                       "this): send it with Content-Type: application/json")
        return
    if req.content_length or req.get_data(cache=True):
        sent = f"Content-Type {req.mimetype!r}" if req.mimetype else "a body without a Content-Type"
        raise UnsupportedMediaType(f"{sent} is not read: send JSON with "
                                   "Content-Type: application/json, or a multipart/form-data form")


def _maybe_json(key: str, value: str):
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise BadInputError(key, "malformed JSON") from None


def _number(data: dict, key: str, default=None, lo=0.0, hi=1e12):
    value = data.get(key, default)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadInputError(key, f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError(key, f"{value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number) or not lo <= number <= hi:
        raise BadInputError(key, f"{value!r} must be a finite number from {lo:g} to {hi:g}")
    return number


def _flag(data: dict, key: str, default: bool) -> bool:
    """A boolean field: JSON true/false, or "true"/"false"/"1"/"0" from a form."""
    value = data.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise BadInputError(key, f"{value!r} is not true or false")


def decode_base64_image(value, field: str):
    if not isinstance(value, str) or not value:
        raise BadInputError(field, "expected a base64 string")
    if value.startswith("data:"):
        value = value.split(",", 1)[-1]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError(field, "malformed base64") from None
    return open_image(raw, MAX_IMAGE_PIXELS, field)


def _image(req: Request, data: dict):
    upload = req.files.get("image") if req.files else None
    if upload is not None:
        try:
            raw = upload.read()
        finally:
            upload.close()
        if not raw:
            raise BadInputError("image", "empty file")
        img = open_image(raw, MAX_IMAGE_PIXELS, "image")
    elif data.get("image") not in (None, ""):
        img = decode_base64_image(data["image"], "image")
    else:
        return None
    if data.get("box") not in (None, ""):
        box = data["box"]
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise BadInputError("box", "expected [x0, y0, x1, y1] fractions")
        img = crop_box(img, box)
    return img


def parse_filters(data: dict) -> Filters:
    """Hard filters from a request's fields: ``filters`` {min_price, max_price, category, attributes} and the
    same three at the top level (query-string arguments), the latter winning."""
    raw = data.get("filters", {}) or {}
    if not isinstance(raw, dict):
        raise BadInputError("filters", "expected an object")
    check_fields(raw, FILTER_FIELDS, "filters")
    merged = {**raw, **{k: data[k] for k in ("min_price", "max_price", "category") if data.get(k) not in (None, "")}}
    attrs = merged.get("attributes", {}) or {}
    if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
        raise BadInputError("attributes", "expected an object of strings")
    category = merged.get("category")
    if category is not None and not isinstance(category, str):
        raise BadInputError("category", "expected a string")
    return Filters(_number(merged, "min_price"), _number(merged, "max_price"), category or None, attrs)


def parse_query(req: Request) -> Query:
    data = request_data(req)
    check_fields(data, SEARCH_FIELDS, "")
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise BadInputError("text", "expected a string")
    if text and len(text) > MAX_TEXT:
        raise BadInputError("text", f"longer than {MAX_TEXT} characters")
    k = _number(data, "k", 12, 1, MAX_K)
    if k != int(k):
        raise BadInputError("k", f"{k!r} must be a whole number")
    prefs = data.get("preferences", {}) or {}
    if not isinstance(prefs, dict):
        raise BadInputError("preferences", "expected an object")
    check_fields(prefs, PREFERENCE_FIELDS, "preferences")
    if prefs.get("category") is not None and not isinstance(prefs["category"], str):
        raise BadInputError("preferences.category", "expected a string")
    liked = prefs.get("attributes", {}) or {}
    if not isinstance(liked, dict) or not all(isinstance(v, str) for v in liked.values()):
        raise BadInputError("preferences.attributes", "expected an object of strings")
    exclude = data.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [e for e in exclude.split(",") if e]
    if not isinstance(exclude, list):
        raise BadInputError("exclude", "expected a list of product ids")
    offset = _number(data, "offset", 0, 0, 1e9)  # the engine checks offset + k (a browse has no depth limit)
    if offset != int(offset):
        raise BadInputError("offset", f"{offset!r} must be a whole number")
    return Query(image=_image(req, data), text=(text or "").strip() or None, filters=parse_filters(data),
                 preferences=Preferences(_number(prefs, "price_target", None, 0.01), prefs.get("category"), liked),
                 image_weight=_number(data, "image_weight", 1.0, 0, 100),
                 text_weight=_number(data, "text_weight", 1.0, 0, 100), k=int(k),
                 exclude_ids=tuple(str(e) for e in exclude), read_words=_flag(data, "read_words", True),
                 offset=int(offset), sort=data.get("sort") or "relevance")  # the engine checks sort


def parse_product(raw, field: str = "product") -> Product:
    """A product object from the API (photos are handled by the caller)."""
    if not isinstance(raw, dict):
        raise BadInputError(field, "expected an object")
    check_fields(raw, PRODUCT_FIELDS, field)
    pid, title = raw.get("id"), raw.get("title")
    if not isinstance(pid, str) or not pid.strip() or len(pid) > 200 or "/" in pid:
        raise BadInputError(f"{field}.id", "a non-empty string of at most 200 characters without '/'")
    if not isinstance(title, str) or not title.strip():
        raise BadInputError(f"{field}.title", "a non-empty string")
    attrs = raw.get("attributes", {}) or {}
    if not isinstance(attrs, dict):
        raise BadInputError(f"{field}.attributes", "expected an object")
    price = _number(raw, "price", None) if "price" in raw else None
    for key in ("description", "category", "currency"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise BadInputError(f"{field}.{key}", "expected a string")
    return Product(id=pid.strip(), title=title.strip(), description=raw.get("description") or "",
                   category=(raw.get("category") or "").strip("/"), price=price,
                   currency=raw.get("currency") or "", attributes={str(k): str(v) for k, v in attrs.items()})
