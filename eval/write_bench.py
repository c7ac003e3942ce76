"""Writes while serving: what rows added after the IVF build cost queries, and what folding them costs.

    python -m eval.write_bench [--n 1000000] [--adds 20000] [--batch 100] [--queries 200] [--data real|synthetic]

On the catalogue of ``eval.scale_bench`` (real fashion vectors grown to n; synthetic without
../shared/data): builds our index on n products with tail folding off, then (1) adds ``adds`` products
in batches of ``batch`` (each batch one ``ProductIndex`` write, as a serving engine applies catalogue
changes) and times unfiltered queries with that tail, (2) folds the tail into the lists
(``ListIndex.fold_tail``) and times the fold and the queries again, (3) turns automatic folding on
(``IndexConfig.fold_tail_at`` / ``fold_tail_share`` defaults) and adds ``adds`` more, timing every batch
(the folds land inside some of them) and the queries at the end. Prints p50/p99 query ms and recall@10
against exact, and write ms per batch.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig
from engine.engine import limit_blas_threads
from engine.index.vectors import exact_topk
from engine.types import Filters, Product
from eval.scale_bench import Ours, category_codes, grow, real_base, synthetic


def query_times(ours: Ours, queries: np.ndarray, n_vectors: int, x: np.ndarray) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, recall@10 against the exact top-10 over the first ``n_vectors`` rows)."""
    times, recalls = [], []
    for q in queries:
        t = time.perf_counter()
        got = ours.search(q, Filters())
        times.append((time.perf_counter() - t) * 1e3)
        _, want = exact_topk(x[:n_vectors], q, 10)
        recalls.append(len(set(got.tolist()) & set(want[0].tolist())) / 10)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), float(np.mean(recalls))


def add_batches(ours: Ours, x: np.ndarray, start: int, end: int, batch: int) -> list[float]:
    times = []
    for s in range(start, end, batch):
        e = min(end, s + batch)
        t = time.perf_counter()
        for i in range(s, e):
            ours.index.table.add(Product(id=str(i), title="", category="0/00/000/0000", price=1.0))
        ours.index.photos.add(x[s:e], np.arange(s, e))
        times.append((time.perf_counter() - t) * 1e3)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--adds", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data", choices=["real", "synthetic"], default="real")
    args = ap.parse_args(argv)
    limit_blas_threads()
    rng = np.random.default_rng(args.n)
    total = args.n + 2 * args.adds
    base = real_base() if args.data == "real" else None
    if base is None:
        x, queries = synthetic(total, rng)
    else:
        x, queries = grow(base[0], total, 0.7, rng), base[1]
    queries = queries[rng.permutation(len(queries))[: args.queries]]
    cfg = IndexConfig(kind="auto", device="cpu", fold_tail_at=0)
    t = time.perf_counter()
    ours = Ours(x[: args.n], category_codes(args.n, rng), cfg)
    print(f"built n={args.n:,} in {time.perf_counter() - t:.1f} s ({ours.index.photos.kind})", flush=True)
    ours.search(queries[0], Filters())
    rows = []

    def report(label: str, n_vectors: int, writes: list[float] | None = None) -> None:
        p50, p99, rec = query_times(ours, queries, n_vectors, x)
        tail = n_vectors - ours.index.photos._ann.n_indexed
        w = f"  writes p50 {np.percentile(writes, 50):.2f} / max {max(writes):.1f} ms per {args.batch}" if writes else ""
        rows.append((label, tail, p50, p99, rec))
        print(f"{label:38s} tail {tail:>7,d}  query p50 {p50:.3f} ms  p99 {p99:.3f} ms  recall@10 {rec:.3f}{w}",
              flush=True)

    report("after build", args.n)
    writes = add_batches(ours, x, args.n, args.n + args.adds, args.batch)
    report(f"+{args.adds:,} products, folding off", args.n + args.adds, writes)
    t = time.perf_counter()
    folded = ours.index.photos._ann.fold_tail(ours.index.photos.vectors)
    print(f"fold_tail: {folded:,} rows in {(time.perf_counter() - t) * 1e3:.0f} ms", flush=True)
    report("after one fold", args.n + args.adds)
    on = dataclasses.replace(cfg, fold_tail_at=IndexConfig().fold_tail_at, fold_tail_share=IndexConfig().fold_tail_share)
    ours.index.photos.cfg = on
    writes = add_batches(ours, x, args.n + args.adds, total, args.batch)
    report(f"+{args.adds:,} more, automatic folding", total, writes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
