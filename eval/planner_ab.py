"""Before/after timings of two planner changes, same process, same index, alternating runs.

    python -m eval.planner_ab [--n 1000000] [--queries 200]

On the real-vector catalogue of ``eval.scale_bench`` (fashion photos in the default bundle's space,
grown to n): (1) a query without filters as a full mask of live rows (before) against ``None``
(after: no pass over all rows); (2) photo vectors fetched per wanted product fixed at 3 (before)
against the catalogue's mean photos per product (after), unfiltered and at 10 % selectivity;
(3) IVF probes scanning float lists (before) against the 4-bit PQ shortlist rescored exactly (after),
at 100 %, 10 % and 1 % selectivity (1 %: both gather the allowed rows, a control).
Prints p50/p99 of ``select`` + ``retrieve`` + top-10 and recall@10 against the exact filtered top-10.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import planner
from engine.config import IndexConfig
from engine.engine import limit_blas_threads
from engine.index import vectors
from engine.index.vectors import exact_topk
from engine.types import Filters
from eval.scale_bench import Ours, category_codes, filter_for, grow, real_base


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--changes", nargs="+", choices=["mask", "oversample", "pq"], default=["mask", "oversample", "pq"])
    args = ap.parse_args(argv)
    limit_blas_threads()
    base = real_base()
    if base is None:
        print("../shared/data/fashion is absent", file=sys.stderr)
        return 1
    photos, queries = base
    rng = np.random.default_rng(args.n)
    x = grow(photos, args.n, 0.7, rng)
    codes = category_codes(args.n, rng)
    ours = Ours(x, codes, IndexConfig(kind="auto", device="cpu"))
    table = ours.index.table
    oversample = planner.photo_oversample

    def run(label: str, sel: float, select) -> None:
        times, recalls = [], []
        for i in range(args.queries):
            f = filter_for(sel, int(codes[i]))
            t = time.perf_counter()
            got = planner.retrieve(ours.index, planner.QueryVectors(shared=queries[i]), select(f), 100, ours.cfg)
            top = got.candidates.top(10).rows
            times.append(time.perf_counter() - t)
            _, want = exact_topk(x, queries[i], 10, table.mask(f))
            want = want[0][want[0] >= 0]
            recalls.append(len(set(top.tolist()) & set(want.tolist())) / len(want))
        print(f"n={args.n:,} selectivity {sel:<4g} {label:44s} p50 {np.percentile(times, 50) * 1e3:.3f} ms  "
              f"p99 {np.percentile(times, 99) * 1e3:.3f} ms  recall@10 {np.mean(recalls):.4f}", flush=True)

    lists = ours.index.photos._ann
    fast, float_lists, dense_filter = lists.fast, ours.index.photos.vectors[lists.order], vectors.DENSE_FILTER
    for _ in range(2):
        if "mask" in args.changes:
            run("(1) before: full mask of live rows", 1.0, lambda f: table.mask(Filters()))
            run("(1) after: no mask", 1.0, table.select)
        for sel in (1.0, 0.1) if "oversample" in args.changes else ():
            planner.photo_oversample = lambda index: 3
            run("(2) before: 3 photo vectors per product", sel, table.select)
            planner.photo_oversample = oversample
            run("(2) after: mean photos per product", sel, table.select)
        for sel in (1.0, 0.1, 0.01) if "pq" in args.changes else ():
            lists.fast, lists.codes, vectors.DENSE_FILTER = None, float_lists, 0.3  # whole lists from 30 % before
            run("(3) before: float lists", sel, table.select)
            lists.fast, lists.codes, vectors.DENSE_FILTER = fast, None, dense_filter
            run("(3) after: PQ shortlist, rescored", sel, table.select)
    return 0


if __name__ == "__main__":
    sys.exit(main())
