"""HTTP load benchmark: gunicorn on loopback, bounded in time, text / photo / photo+text / similar queries.

    python -m eval.load_bench [--data-dir shopsight-data] [--seconds 10] [--clients 4] [--workers 2]

Starts ``gunicorn server.wsgi:app`` on 127.0.0.1 (a free port) over an existing data directory
(default: the one `shopsight demo` builds), sends JSON searches from ``--clients`` keep-alive
client threads for ``--seconds`` per query type (and ``GET /api/products/<id>/similar`` for the product whose
photo the photo queries send: the same search without the photo in the request), and prints requests/s, HTTP p50/p99 and the
engine's own p50 (``timings_ms.total`` in the responses) so the HTTP layer's cost is visible.
Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not become healthy")


def _photo_b64(data_dir: Path) -> tuple[str, str]:
    """(the first product with a photo's id, that photo base64-encoded)."""
    from engine.catalog import Catalog

    product = next(p for p in Catalog(data_dir / "catalog.db") if p.images)
    return product.id, base64.b64encode(Path(product.images[0]).read_bytes()).decode()


def _client(port: int, request: tuple, stop: float, http_ms: list, engine_ms: list, errors: list) -> None:
    """``request`` = (method, path, body bytes or None)."""
    method, path, body = request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < stop:
        t = time.perf_counter()
        conn.request(method, path, body, {"Content-Type": "application/json"} if body is not None else {})
        res = conn.getresponse()
        payload = res.read()
        http_ms.append((time.perf_counter() - t) * 1000)
        if res.status != 200:
            errors.append(res.status)
            continue
        engine_ms.append(json.loads(payload)["timings_ms"]["total"])


def run_kind(port: int, body: dict | str, seconds: float, clients: int) -> dict:
    """``body``: a search request, or a path to GET."""
    raw = ("GET", body, None) if isinstance(body, str) else ("POST", "/api/search", json.dumps(body).encode())
    http_ms, engine_ms, errors = [], [], []
    _client(port, raw, time.perf_counter() + 1.0, [], [], [])  # warm-up
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=_client, args=(port, raw, stop, http_ms, engine_ms, errors))
               for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    single_http, single_engine = [], []
    _client(port, raw, time.perf_counter() + seconds / 2, single_http, single_engine, errors)
    return {"requests_per_s": len(http_ms) / elapsed, "http_p50_ms": float(np.percentile(http_ms, 50)),
            "http_p99_ms": float(np.percentile(http_ms, 99)), "errors": len(errors),
            "one_client_http_p50_ms": float(np.percentile(single_http, 50)),
            "one_client_engine_p50_ms": float(np.percentile(single_engine, 50)),
            "one_client_http_overhead_p50_ms": float(np.percentile(single_http, 50) - np.percentile(single_engine, 50)),
            "one_client_http_to_engine_ratio": float(np.percentile(single_http, 50) / np.percentile(single_engine, 50))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="shopsight-data")
    parser.add_argument("--config", help="JSON engine config (as for shopsight --config)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if not (data_dir / "index" / "CURRENT").exists():
        print(f"no index in {data_dir}; run `shopsight demo --no-serve` first", file=sys.stderr)
        return 1
    port = _free_port()
    env = {**os.environ, "SHOPSIGHT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    if args.config:
        env["SHOPSIGHT_CONFIG"] = str(Path(args.config).resolve())
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread",
                               "--threads", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "server.wsgi:app"], env=env)
    try:
        _wait(port)
        pid, photo = _photo_b64(data_dir)
        kinds = {"text": {"text": "red striped hoodie", "k": 10},
                 "photo": {"image": photo, "k": 10},
                 "photo+text": {"image": photo, "text": "blue", "k": 10},
                 "similar": f"/api/products/{pid}/similar?k=10"}
        results = {}
        for kind, body in kinds.items():
            results[kind] = run_kind(port, body, args.seconds, args.clients)
            print(json.dumps({kind: {k: round(v, 3) for k, v in results[kind].items()}}), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
