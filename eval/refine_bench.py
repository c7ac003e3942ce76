"""What counting a search's refine facets costs: categories, colours and price as before, and the repeating
attributes (brand, size, pattern) beside them.

    python -m eval.refine_bench [--data-dir shopsight-data] [--n 100000] [--relevant 100 200] [--reps 300]

Builds the attribute table of a catalogue (the data folder's, e.g. the demo shop after ``shopsight demo
--no-serve``, and a synthetic one of ``n`` products with a brand among 2,000, one to three sizes, a gender, a
colour and a per-product link), draws ``reps`` row sets of each ``--relevant`` size (what the relevant matches
of a search are: at most 200 rows), and times ``refine.counts`` with and without the attributes part
(``refine.attributes``), and the fusion's reading of two standing boost rules over the same rows
(``AttributeTable.holding``: "colour=red", "gender=women"). Prints µs p50 / p99 of each and the facets found.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import refine
from engine.attributes import AttributeTable
from engine.catalog import Catalog
from engine.types import Candidates, Product

SIZES = ["XS", "S", "M", "L", "XL"]


def synthetic(n: int, seed: int = 0) -> AttributeTable:
    rng = np.random.default_rng(seed)
    table = AttributeTable()
    for i in range(n):
        sizes = "|".join(sorted(set(rng.choice(SIZES, size=int(rng.integers(1, 4))).tolist())))
        table.add(Product(id=str(i), title="t", category=f"c{i % 50}/d{i % 7}", price=float(rng.uniform(5, 500)),
                          attributes={"brand": f"Brand {int(rng.zipf(1.3)) % 2000}", "size": sizes,
                                      "gender": ["Men", "Women", "Unisex"][i % 3],
                                      "colour": ["Red", "Blue", "Black"][i % 3], "link": f"https://shop.example/{i}"}))
    return table


def from_folder(folder: str) -> AttributeTable:
    catalog = Catalog(f"{folder}/catalog.db")
    table = AttributeTable()
    for product in catalog:
        table.add(product)
    catalog.close()
    return table


def timed(table: AttributeTable, size: int, reps: int, seed: int = 1) -> tuple[list[float], list[float], list[float], dict]:
    rng = np.random.default_rng(seed)
    whole, part, rules, facets = [], [], [], {}
    for _ in range(reps):
        rows = np.sort(rng.choice(len(table), size=min(size, len(table)), replace=False))
        ranked = Candidates(rows, np.ones(len(rows), np.float32), {})
        t = time.perf_counter()
        facets = refine.counts(table, ranked, 0.5)
        whole.append((time.perf_counter() - t) * 1e6)
        t = time.perf_counter()
        refine.attributes(table, rows.tolist())
        part.append((time.perf_counter() - t) * 1e6)
        t = time.perf_counter()
        table.holding(rows, [("colour", "red"), ("gender", "women")])
        rules.append((time.perf_counter() - t) * 1e6)
    return whole, part, rules, facets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--relevant", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--reps", type=int, default=300)
    args = ap.parse_args(argv)
    tables = ([(args.data_dir, from_folder(args.data_dir))] if args.data_dir else []) + [
        (f"synthetic {args.n:,}", synthetic(args.n))]
    print("| catalogue | relevant rows | refine µs p50 / p99 | of which attributes µs p50 / p99 | 2 boost rules µs p50 / p99 | facets |")
    print("|---|---|---|---|---|---|")
    for name, table in tables:
        for size in args.relevant:
            whole, part, rules, facets = timed(table, size, args.reps)
            names = ", ".join(f"{k} ({len(v)} values)" for k, v in facets["attributes"].items())
            print(f"| {name} | {size} | {np.percentile(whole, 50):.0f} / {np.percentile(whole, 99):.0f} | "
                  f"{np.percentile(part, 50):.0f} / {np.percentile(part, 99):.0f} | "
                  f"{np.percentile(rules, 50):.0f} / {np.percentile(rules, 99):.0f} | {names} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
