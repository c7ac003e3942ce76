"""`shopsight index --compact` beside a running server: search latency and errors before, during and after, and how
soon every worker serves the compacted index.

    python -m eval.serve_compact_bench [--data-dir out/engine_scale/100000] [--workers 2] [--clients 2] [--port 8765]
                                       [--auto N]

Starts ``shopsight serve`` (gunicorn) on the data folder, keeps ``--clients`` threads searching (five short texts in
turn), runs ``shopsight index --compact`` as another process, then asks ``/api/health`` ten times in a row until
every answer names the compacted snapshot (each worker opens it in the background, ``server/state.py``). Prints the
latency per phase and the failed requests. Writes to the folder (its index); churn it first to have rows to remove
(``eval.compact_bench`` leaves the folder compacted, so delete or retitle products through ``shopsight import``).
``--auto N``: the server runs with ``auto_compact`` 0.1, and instead of running the compaction this bench deletes N
random products through the catalogue (another process) and waits for a worker to compact on its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .served import Searching, Served


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/100000"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--auto", type=int, default=0, help="delete this many products and let the workers compact")
    args = ap.parse_args(argv)
    settings = ("auto_compact=0.1",) if args.auto else ()
    with Served(args.data_dir, args.workers, args.port, settings) as served:
        health = served.health()
        print(f"serving {args.data_dir} ({args.workers} workers): builds {sorted({h['build'] for h in health})}, "
              f"rows held {health[0]['rows_held']:,} for {health[0]['products']:,} products", flush=True)
        with Searching(served, args.clients) as searching:
            time.sleep(5)
            t0 = time.time()
            if args.auto:
                t1, result = _deleted_then_compacted(served, health[0]["build"], args.auto)
            else:
                done = subprocess.run([*served.cli, "-q", "index", "--compact"], capture_output=True, text=True,
                                      check=True)
                t1, result = time.time(), json.loads(done.stdout.strip().splitlines()[-1])
                print(f"index --compact: {result} in {t1 - t0:.1f} s", flush=True)
            while time.time() - t1 < 300:
                health = served.health()
                if all(h["snapshot"] == result["snapshot"] for h in health):
                    break
                time.sleep(0.5)
            t2 = time.time()
            print(f"every answer named the compacted snapshot {t2 - t1:.1f} s after it was published; rows held "
                  f"{sorted({h['rows_held'] for h in health})}")
            time.sleep(5)
        searching.report({"before": (0, t0), "during the compaction": (t0, t1), "while the workers reopened": (t1, t2),
                          "after": (t2, float("inf"))})
        return 1 if searching.errors else 0


def _deleted_then_compacted(served: Served, build: str, n: int) -> tuple[float, dict]:
    """Delete ``n`` random products (another process), then wait for the snapshot a worker's compaction publishes:
    (the time it was first seen, {"snapshot": its name})."""
    code = ("import random, sys; from engine.catalog import Catalog; c = Catalog(sys.argv[1]); "
            "c.delete_many(random.Random(0).sample(c.ids(), int(sys.argv[2])))")
    t = time.time()
    subprocess.run([sys.executable, "-c", code, str(served.data_dir / "catalog.db"), str(n)], check=True)
    print(f"{n:,} products deleted in {time.time() - t:.1f} s; waiting for a worker's own compaction", flush=True)
    while time.time() - t < 1800:
        seen = [h for h in served.health() if h["build"] != build]
        if seen:
            print(f"a compacted build published {time.time() - t:.1f} s after the deletions", flush=True)
            return time.time(), {"snapshot": seen[0]["snapshot"]}
        time.sleep(0.5)
    raise RuntimeError("no worker compacted the index in 30 minutes")


if __name__ == "__main__":
    sys.exit(main())
