"""What a filtered query's passes over the row mask cost at scale (no shared data needed).

    python -m eval.mask_passes [--n 1000000]

Builds an attribute table of n products in 10,000 seeded category paths (as ``eval.scale_bench``) and
times, per category filter passing about 10 % / 0.1 % of rows, each O(n) step a filtered query can take:
building the mask, counting it with ``sum()`` (what the engine did) and with ``count_nonzero`` (what it
does now), the per-vector ``& alive``, ``flatnonzero`` (exact plan) and ``packbits`` (PQ selector).
Prints p50 ms over 200 filters.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.attributes import AttributeTable
from engine.types import Product
from eval.scale_bench import category_codes, filter_for, path_of


def _p50_ms(step, items) -> float:
    times = []
    for item in items:
        t = time.perf_counter()
        step(item)
        times.append(time.perf_counter() - t)
    return float(np.percentile(times, 50)) * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    codes = category_codes(args.n, np.random.default_rng(args.n))
    table, paths = AttributeTable(), {}
    for i, c in enumerate(codes.tolist()):
        table.add(Product(id=str(i), title="", category=paths.setdefault(c, path_of(c))))
    alive = table.alive.copy()
    for sel in (0.1, 0.001):
        filters = [filter_for(sel, int(c)) for c in codes[:200]]
        masks = [table.mask(f) for f in filters]
        steps = {"mask": lambda i: table.mask(filters[i]), "sum()": lambda i: int(masks[i].sum()),
                 "count_nonzero": lambda i: np.count_nonzero(masks[i]), "& alive": lambda i: masks[i] & alive,
                 "flatnonzero": lambda i: np.flatnonzero(masks[i]),
                 "packbits": lambda i: np.packbits(masks[i], bitorder="little")}
        cells = "  ".join(f"{name} {_p50_ms(step, range(200)):.3f}" for name, step in steps.items())
        print(f"n={args.n:,} selectivity {sel:g}: p50 ms  {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
