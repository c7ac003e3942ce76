"""`shopsight index --compact` beside a running server: search latency and errors before, during and after, and how
soon every worker serves the compacted index.

    python -m eval.serve_compact_bench [--data-dir out/engine_scale/100000] [--workers 2] [--clients 2] [--port 8765]

Starts ``shopsight serve`` (gunicorn) on the data folder, keeps ``--clients`` threads searching (five short texts in
turn), runs ``shopsight index --compact`` as another process, then asks ``/api/health`` ten times in a row until
every answer names the compacted snapshot (each worker opens it in the background, ``server/state.py``). Prints the
latency per phase and the failed requests. Writes to the folder (its index); churn it first to have rows to remove
(``eval.compact_bench`` leaves the folder compacted, so delete or retitle products through ``shopsight import``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .latency import summary

WORDS = ["red mug", "blue dress", "striped hoodie", "green bag", "black watch"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/100000"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"

    def call(path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read())

    cli = [sys.executable, "-m", "engine.cli", "--data-dir", str(args.data_dir)]
    server = subprocess.Popen([*cli, "serve", "--workers", str(args.workers), "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                call("/api/health")
                break
            except OSError:
                time.sleep(1)
        health = [call("/api/health") for _ in range(10)]
        print(f"serving {args.data_dir} ({args.workers} workers): builds {sorted({h['build'] for h in health})}, "
              f"rows held {health[0]['rows_held']:,} for {health[0]['products']:,} products", flush=True)
        stop, errors, latency = threading.Event(), [], []

        def client(first: int) -> None:
            i = first
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    call("/api/search", {"text": WORDS[i % len(WORDS)], "k": 10})
                except OSError as e:
                    errors.append(repr(e))
                latency.append((time.time(), 1000 * (time.perf_counter() - t)))
                i += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(5)
        t0 = time.time()
        done = subprocess.run([*cli, "-q", "index", "--compact"], capture_output=True, text=True, check=True)
        t1 = time.time()
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"index --compact: {result} in {t1 - t0:.1f} s", flush=True)
        while time.time() - t1 < 300:
            health = [call("/api/health") for _ in range(10)]
            if all(h["snapshot"] == result["snapshot"] for h in health):
                break
            time.sleep(0.5)
        t2 = time.time()
        print(f"every answer named the compacted snapshot {t2 - t1:.1f} s after it was published; rows held "
              f"{sorted({h['rows_held'] for h in health})}")
        time.sleep(5)
        stop.set()
        for t in threads:
            t.join()
        for name, (a, b) in {"before": (0, t0), "during the compaction": (t0, t1), "while the workers reopened": (t1, t2),
                             "after": (t2, float("inf"))}.items():
            ms = [m for at, m in latency if a <= at < b]
            if ms:
                print(f"searches {name}: {summary(ms)}")
        print(f"failed requests: {len(errors)} {errors[:3]}")
        return 1 if errors else 0
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
