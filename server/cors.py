"""Cross-origin reads for a shop's storefront: ``cors_origins`` lists the sites whose pages may call the read
API from the browser (search, suggestions, products, photos, similar products, categories, health, the
OpenAPI description); "*" lets any. Write routes (products, synonyms, unheard words, duplicate groups: the
API key's) never answer a cross-origin request: an API key belongs on a server, not in a shopper's browser.
Preflights (``OPTIONS``, which a JSON ``POST /api/search`` needs) answer with the methods and the one header
allowed (Content-Type), cached for ten minutes.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

READS = frozenset({"api.search", "api.suggest", "api.get_product", "api.photo", "api.similar_products",
                   "api.categories", "api.health", "api.openapi_spec"})


def init_app(app: Flask, origins: tuple[str, ...]) -> None:
    allowed = frozenset(origins)
    if not allowed:
        return

    @app.after_request
    def _cors(response):
        origin = request.headers.get("Origin")
        if not origin or _endpoint(app) not in READS or not ("*" in allowed or origin in allowed):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.vary.add("Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        return response


def _endpoint(app: Flask) -> str | None:
    """The endpoint the request reaches; for a preflight, the one the method it asks about would reach
    (``/api/products/<id>`` is a read for GET, a write for DELETE)."""
    asked = request.headers.get("Access-Control-Request-Method") if request.method == "OPTIONS" else None
    if not asked:
        return request.endpoint
    try:
        return app.url_map.bind_to_environ(request.environ).match(method=asked.upper())[0]
    except HTTPException:
        return None
