"""The per-worker engine: opened lazily on first use, once per process."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from engine.engine import SearchEngine

_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["shopsight"] = {"engine": None}


def get_engine() -> SearchEngine:
    slot = current_app.extensions["shopsight"]
    if slot["engine"] is None:
        with _lock:
            if slot["engine"] is None:
                engine = SearchEngine.open(current_app.config["ENGINE_CONFIG"])
                engine.warm()
                slot["engine"] = engine
    return slot["engine"]
