"""What browsing costs (filters alone: a category page, a price band; ``engine/browse.py``).

    python -m eval.browse_bench [--data-dir shopsight-data] [--reps 30] [--refine-rows 20000]

Opens the data folder's index and times, ``reps`` times each, the first page (24 products) of: its largest
category in the catalogue's order and cheapest first, the same 40 pages deep, everything under the median price
cheapest first, and one product's category (a small page). Prints ms p50 / max of each with the matches and
how much of a page's time the refine counts took (``REFINE_ROWS`` rows at most; ``--refine-rows`` sets it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import browse, refine
from engine.cli import build_parser
from engine.cli_args import config_of
from engine.engine import SearchEngine
from engine.types import Candidates, Filters, Query


def timed(eng: SearchEngine, query: Query, reps: int) -> tuple[list[float], int]:
    times, matching = [], 0
    for _ in range(reps):
        t = time.perf_counter()
        matching = eng.search(query).matching
        times.append((time.perf_counter() - t) * 1000)
    return times, matching


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="shopsight-data")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--refine-rows", type=int, default=browse.REFINE_ROWS)
    args = ap.parse_args(argv)
    browse.REFINE_ROWS = args.refine_rows
    t = time.perf_counter()
    eng = SearchEngine.open(config_of(build_parser().parse_args(["--data-dir", args.data_dir, "status"])))
    table = eng.index.table
    print(f"{table.n_alive} products; opened in {time.perf_counter() - t:.1f} s; refine over at most "
          f"{browse.REFINE_ROWS} rows")
    codes = np.bincount(table.category_code[table.alive], minlength=len(table.categories))
    largest = table.categories[int(codes.argmax())]
    held = np.flatnonzero(codes)
    smallest = table.categories[int(held[codes[held].argmin()])]
    median = float(np.nanmedian(table.price[table.alive]))
    cases = {f"category {largest!r}": Query(filters=Filters(category=largest), k=24),
             f"category {largest!r}, cheapest first": Query(filters=Filters(category=largest), k=24, sort="price_asc"),
             f"category {largest!r}, page 40": Query(filters=Filters(category=largest), k=24, offset=24 * 39),
             f"under {median:.2f}, cheapest first": Query(filters=Filters(max_price=median), k=24, sort="price_asc"),
             f"category {smallest!r}": Query(filters=Filters(category=smallest), k=24)}
    for name, query in cases.items():
        times, matching = timed(eng, query, args.reps)
        rows = np.flatnonzero(table.mask(query.filters))[: browse.REFINE_ROWS]
        t = time.perf_counter()
        refine.counts(table, Candidates(rows, np.zeros(len(rows), np.float32), {}), 0.0)
        refine_ms = (time.perf_counter() - t) * 1000
        print(f"{name:55s} {matching:8d} matches  p50 {np.median(times):7.1f} ms  max {max(times):7.1f} ms  "
              f"(refine {refine_ms:.1f} ms)")


if __name__ == "__main__":
    main()
