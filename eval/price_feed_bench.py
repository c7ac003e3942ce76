"""A price feed against an indexed catalogue: how long a serving engine takes to apply it, and its memory.

    python -m eval.price_feed_bench [--data-dir out/engine_scale/1000000] [--products 100000] [--seed 0]

Opens the data folder with ``SearchEngine.open``, then writes new prices (and a "stock" attribute) for
``--products`` of its products through a second ``Catalog`` (another process's feed, as `shopsight import` writes
it), and times ``SearchEngine.sync`` applying them in the engine, with the engine process's anonymous memory
(RssAnon, sampled every 20 ms) before and at its peak, and the rows each vector store and the attribute table hold
before and after.
Checks a filtered search sees the new prices. Writes to the folder's catalogue (prices only).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.engine import SearchEngine
from engine.types import Filters, Query

from .proc_status import PeakAnon, status_kb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/1000000"))
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    eng = SearchEngine.open(EngineConfig(data_dir=str(args.data_dir)))
    ids = random.Random(args.seed).sample(sorted(eng.index.table.row_of), args.products)  # live products
    price = round(random.Random(args.seed).uniform(1, 2), 2)
    rows = {prefix: len(store) for prefix, store in eng.index.stores().items()}
    table_rows = len(eng.index.table)
    feed = Catalog(args.data_dir / "catalog.db")
    t = time.perf_counter()
    products = list(feed.get_many(ids).values())
    feed.upsert([p.with_(price=price, attributes={**p.attributes, "stock": f"s{args.seed}"}) for p in products])
    written = time.perf_counter() - t
    before = status_kb("RssAnon") // 1024
    with PeakAnon() as peak:
        t = time.perf_counter()
        applied = eng.sync()
        seconds = time.perf_counter() - t
    grown = {prefix: len(store) - rows[prefix] for prefix, store in eng.index.stores().items()}
    hits = eng.search(Query(text=products[0].title, k=20, filters=Filters(min_price=price, max_price=price,
                                                                           attributes={"stock": f"s{args.seed}"})))
    print(f"{len(eng.index):,} products; a feed of {len(products):,} new prices written in {written:.1f} s; "
          f"sync applied {applied:,} in {seconds:.1f} s; anonymous memory {before:,} MB before, {peak.mb:,} MB at "
          f"its peak; vector rows added: {grown}; attribute table rows added: {len(eng.index.table) - table_rows:,}; a filtered search on the new price and stock finds "
          f"{len(hits.results)} (all at the new price: {all(r.product.price == price for r in hits.results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
