"""A large price feed written beside a running server: search latency and errors before, while it is written, until
every worker has it in its index, and after.

    python -m eval.feed_serve_bench [--data-dir out/engine_scale/1000000] [--products 100000] [--workers 2]
                                    [--clients 2] [--port 8766] [--seed 0]

Starts ``shopsight serve`` (gunicorn) on the data folder with ``--clients`` threads searching (``eval/served.py``);
another process gives ``--products`` random products a new price and "stock" value through the catalogue, as
``shopsight import`` writes them; then asks ``/api/health`` ten times in a row until every answer's index sequence
has reached the feed's (each worker reads, fingerprints and restates it in the background, ``engine/backlog.py``).
Writes to the folder's catalogue (and, through the workers' checkpoints, its index).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from engine.catalog import Catalog

from .served import Searching, Served

FEED = """
import random, sys
from engine.catalog import Catalog
catalog, n, seed = Catalog(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
price = round(rng.uniform(1, 2), 2)
catalog.upsert([p.with_(price=price, attributes={**p.attributes, "stock": f"f{seed}"})
                for p in catalog.get_many(rng.sample(catalog.ids(), n)).values()])
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/1000000"))
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with Served(args.data_dir, args.workers, args.port) as served:
        print(f"serving {args.data_dir} ({args.workers} workers, {args.clients} clients)", flush=True)
        with Searching(served, args.clients) as searching:
            time.sleep(5)
            t0 = time.time()
            subprocess.run([sys.executable, "-c", FEED, str(args.data_dir / "catalog.db"), str(args.products),
                            str(args.seed)], check=True)
            t1 = time.time()
            fed = Catalog(args.data_dir / "catalog.db").seq
            print(f"{args.products:,} products given a new price and stock value in {t1 - t0:.1f} s", flush=True)
            while time.time() - t1 < 600:
                if all(h["seq"] >= fed for h in served.health()):
                    break
                time.sleep(0.2)
            t2 = time.time()
            print(f"every answer's index had the feed {t2 - t1:.1f} s after its commit", flush=True)
            time.sleep(5)
        searching.report({"before": (0, t0), "while the feed was written": (t0, t1),
                          "from its commit until every worker had it": (t1, t2), "after": (t2, float("inf"))})
        return 1 if searching.errors or t2 - t1 >= 600 else 0


if __name__ == "__main__":
    sys.exit(main())
