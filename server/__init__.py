"""Flask app factory: ``create_app(config=None)``; the engine is loaded once per worker.

HTTP status codes live only in this package. Engine errors map to JSON 4xx responses.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine.config import EngineConfig, config_from_dict, load_config
from engine.errors import (BadInputError, IncompatibleModelError, IndexMissingError,
                           ProductNotFoundError, ShopsightError)

from .worker import SlowClientError

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def create_app(config: EngineConfig | dict | None = None, api_key: str | None = None) -> Flask:
    """Build the app. ``config``: an EngineConfig, a dict of overrides, or None (env + defaults).

    Environment: SHOPSIGHT_CONFIG (JSON config file), SHOPSIGHT_DATA_DIR, SHOPSIGHT_API_KEY, and
    SHOPSIGHT_CONFIG_JSON (the whole config as JSON, which ``shopsight serve`` hands its workers: the
    config file and ``--set`` settings it was started with), which takes the place of SHOPSIGHT_CONFIG.
    """
    app = Flask(__name__)
    if not isinstance(config, EngineConfig):
        config = _config_from_env(config or {})
    if config.cluster.startswith("local:"):  # a web worker must not start a pool of tower processes
        log.warning("ignoring cluster %r while serving; a running scheduler (tcp://...) may be used", config.cluster)
        config = replace(config, cluster="")
    app.config["ENGINE_CONFIG"] = config
    app.config["API_KEY"] = api_key if api_key is not None else os.environ.get("SHOPSIGHT_API_KEY", "")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.json.ensure_ascii = False
    from . import api, compress, cors, metrics, pages
    from .state import init_app

    init_app(app)
    metrics.init_app(app)
    cors.init_app(app, config.cors_origins)
    pages.init_app(app)
    compress.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    _register_errors(app)
    return app


def _config_from_env(overrides: dict) -> EngineConfig:
    """SHOPSIGHT_CONFIG_JSON, else the SHOPSIGHT_CONFIG file, else the defaults; then ``overrides``
    (top-level keys) and SHOPSIGHT_DATA_DIR."""
    whole = os.environ.get("SHOPSIGHT_CONFIG_JSON")
    config = (config_from_dict(json.loads(whole), **overrides) if whole
              else load_config(os.environ.get("SHOPSIGHT_CONFIG"), **overrides))
    if os.environ.get("SHOPSIGHT_DATA_DIR"):
        config = replace(config, data_dir=os.environ["SHOPSIGHT_DATA_DIR"])
    return config


def _error(status: int, message: str, field: str | None = None):
    body = {"error": message, "status": status}
    if field:
        body["field"] = field
    return jsonify(body), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(BadInputError)
    def bad_input(exc: BadInputError):
        return _error(400, str(exc), exc.field)

    @app.errorhandler(ProductNotFoundError)
    def not_found(exc: ProductNotFoundError):
        return _error(404, str(exc), "id")

    @app.errorhandler(IndexMissingError)
    @app.errorhandler(IncompatibleModelError)
    def unavailable(exc: ShopsightError):
        return _error(503, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc.__context__, SlowClientError):  # werkzeug reads a dropped body as a disconnect (400)
            return _error(408, exc.__context__.strerror)
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return _error(500, f"internal error: {type(exc).__name__}")
