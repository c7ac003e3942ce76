"""An index after churn, compacted (``shopsight index --compact``) or built again: time, memory, disk and searches.

    python -m eval.compact_bench [--data-dir out/engine_scale/100000] [--delete 10000] [--retitle 10000]
                                 [--full-build] [--searches 40] [--seed 0]

Opens the data folder's index and, through a second ``Catalog`` (another process, as ``shopsight import`` writes),
deletes ``--delete`` products and gives ``--retitle`` others a new title (their vectors computed again: their old
rows die), applies that (``SearchEngine.sync``) and saves it: the snapshot a shop's index has after such churn.
Then times text searches (one thread, titles of live products), ``workflow.compact_index`` in this process (open,
catch-up, compaction, save; anonymous memory sampled), the searches again on the compacted index, and with
``--full-build`` ``workflow.build_index`` on the same folder for comparison. Sizes are the snapshot folder's files.
Writes to the folder (its catalogue and index).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import workflow
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.engine import SearchEngine
from engine.types import Query

from .proc_status import PeakAnon


def _snapshot_gb(data_dir: Path) -> float:
    folder = data_dir / "index" / (data_dir / "index" / "CURRENT").read_text().strip()
    return sum(f.stat().st_size for f in folder.iterdir()) / 1e9


def _rows(eng: SearchEngine) -> str:
    return (f"{len(eng.index.table):,} product rows ({eng.index.table.n_alive:,} live), "
            f"{len(eng.index.photos):,} photo rows ({eng.index.photos.n_alive:,} live)")


def _searches(eng: SearchEngine, titles: list[str]) -> str:
    ms = []
    for title in titles:
        t = time.perf_counter()
        eng.search(Query(text=title, k=10))
        ms.append(1000 * (time.perf_counter() - t))
    return f"text p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/100000"))
    ap.add_argument("--delete", type=int, default=10_000)
    ap.add_argument("--retitle", type=int, default=10_000)
    ap.add_argument("--full-build", action="store_true")
    ap.add_argument("--searches", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    config = EngineConfig(data_dir=str(args.data_dir))
    eng = SearchEngine.open(config)
    rng = random.Random(args.seed)
    chosen = rng.sample(sorted(eng.index.table.row_of), args.delete + args.retitle)
    feed = Catalog(args.data_dir / "catalog.db")
    feed.delete_many(chosen[: args.delete])
    retitled = list(feed.get_many(chosen[args.delete:]).values())
    feed.upsert([p.with_(title=f"{p.title} {rng.randrange(10**6)}") for p in retitled])
    t = time.perf_counter()
    eng.sync()
    eng.save()
    print(f"churn: {args.delete:,} deleted, {args.retitle:,} retitled, applied and saved in "
          f"{time.perf_counter() - t:.1f} s: {_rows(eng)}; snapshot {_snapshot_gb(args.data_dir):.2f} GB")
    titles = [p.title for p in feed.get_many(rng.sample(sorted(eng.index.table.row_of), args.searches)).values()]
    eng.search(Query(text="warm-up", k=10))
    print(f"searches before: {_searches(eng, titles)}")
    del eng
    with PeakAnon() as peak:
        t = time.perf_counter()
        compacted, removed = workflow.compact_index(config)
        seconds = time.perf_counter() - t
    print(f"compact_index: {removed:,} product rows removed in {seconds:.1f} s (open and catch-up included), "
          f"anonymous peak {peak.mb:,} MB: {_rows(compacted)}; snapshot {_snapshot_gb(args.data_dir):.2f} GB")
    compacted.search(Query(text="warm-up", k=10))
    print(f"searches after: {_searches(compacted, titles)}")
    if args.full_build:
        del compacted
        with PeakAnon() as peak:
            t = time.perf_counter()
            built = workflow.build_index(config, progress=False)
            seconds = time.perf_counter() - t
        print(f"build_index (for comparison): {seconds:.1f} s, anonymous peak {peak.mb:,} MB: {_rows(built)}; "
              f"snapshot {_snapshot_gb(args.data_dir):.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
