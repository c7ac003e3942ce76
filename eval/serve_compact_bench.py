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
import time
from pathlib import Path

from .served import Searching, Served


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/100000"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args(argv)
    with Served(args.data_dir, args.workers, args.port) as served:
        health = served.health()
        print(f"serving {args.data_dir} ({args.workers} workers): builds {sorted({h['build'] for h in health})}, "
              f"rows held {health[0]['rows_held']:,} for {health[0]['products']:,} products", flush=True)
        with Searching(served, args.clients) as searching:
            time.sleep(5)
            t0 = time.time()
            done = subprocess.run([*served.cli, "-q", "index", "--compact"], capture_output=True, text=True, check=True)
            t1 = time.time()
            result = json.loads(done.stdout.strip().splitlines()[-1])
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


if __name__ == "__main__":
    sys.exit(main())
