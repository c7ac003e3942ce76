"""Prometheus text-format metrics: request counts, latency histograms by query type, index size.

Counters are per worker process (each gunicorn worker reports its own; scrape with the worker's pid
label or aggregate in Prometheus).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict

from flask import Blueprint, Flask, Response, g, request

from .worker import DROPPED

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
bp = Blueprint("metrics", __name__)
_lock = threading.Lock()
_requests: dict[tuple, int] = defaultdict(int)
_latency: dict[str, list] = {}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_record)
    app.register_blueprint(bp)


def _start() -> None:
    g.t_start = time.perf_counter()


def _record(response):
    elapsed = time.perf_counter() - g.get("t_start", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    with _lock:
        _requests[(request.method, endpoint, response.status_code)] += 1
        kind = g.get("query_kind")
        if kind and response.status_code == 200:
            counts = _latency.setdefault(kind, [0] * (len(BUCKETS) + 1) + [0.0])
            for i, b in enumerate(BUCKETS):
                if elapsed <= b:
                    counts[i] += 1
            counts[len(BUCKETS)] += 1
            counts[-1] += elapsed
    return response


@bp.get("/metrics")
def metrics():
    from .state import get_engine

    pid = os.getpid()
    lines = ["# HELP shopsight_requests_total HTTP requests by method, route and status.",
             "# TYPE shopsight_requests_total counter"]
    with _lock:
        for (method, route, status), n in sorted(_requests.items()):
            lines.append(f'shopsight_requests_total{{method="{method}",route="{route}",status="{status}",pid="{pid}"}} {n}')
        lines += ["# HELP shopsight_search_seconds Search latency by query type.",
                  "# TYPE shopsight_search_seconds histogram"]
        for kind, counts in sorted(_latency.items()):
            for i, b in enumerate(BUCKETS):
                lines.append(f'shopsight_search_seconds_bucket{{kind="{kind}",le="{b}",pid="{pid}"}} {counts[i]}')
            lines.append(f'shopsight_search_seconds_bucket{{kind="{kind}",le="+Inf",pid="{pid}"}} {counts[len(BUCKETS)]}')
            lines.append(f'shopsight_search_seconds_sum{{kind="{kind}",pid="{pid}"}} {counts[-1]:.6f}')
            lines.append(f'shopsight_search_seconds_count{{kind="{kind}",pid="{pid}"}} {counts[len(BUCKETS)]}')
    engine = get_engine()
    lines += ["# HELP shopsight_index_products Live products in the index.", "# TYPE shopsight_index_products gauge",
              f'shopsight_index_products{{pid="{pid}"}} {len(engine.index)}',
              "# HELP shopsight_index_photos Live photo vectors in the index.", "# TYPE shopsight_index_photos gauge",
              f'shopsight_index_photos{{pid="{pid}"}} {engine.index.photos.n_alive}',
              "# HELP shopsight_catalogue_changes_behind Catalogue sequence numbers not yet in the index.",
              "# TYPE shopsight_catalogue_changes_behind gauge",
              f'shopsight_catalogue_changes_behind{{pid="{pid}"}} {engine.catalog.seq - engine.index.seq}',
              "# HELP shopsight_slow_clients_dropped_total Connections dropped for sending a request too slowly.",
              "# TYPE shopsight_slow_clients_dropped_total counter",
              f'shopsight_slow_clients_dropped_total{{pid="{pid}"}} {DROPPED[0]}']
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
