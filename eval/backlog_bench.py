"""Searches while another process imports many products: before and after the background backlog.

    python -m eval.backlog_bench [--data-dir /tmp/demo27] [--n 600] [--seconds 60]

Copies a built data folder (default: the demo shop's) twice. In each copy a serving engine (real towers) is
opened and warmed, then ``n`` fashion products (real photos this folder's feature cache has never seen) are
written straight into the catalogue, as ``shopsight import`` in another process would, and one thread searches
("red dress", "blue jeans", ... in turn) for ``--seconds``. Mode "inline" is the engine before the
twenty-eighth session (``backlog.inline`` unbounded: the first search applies the whole batch itself); mode
"background" is the default. Prints, per mode: the first search's latency, p50 / p99 / max over the window,
searches served, and the seconds until the new products were searchable.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import load_config
from engine.engine import SearchEngine
from engine.types import Product, Query

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion"
TEXTS = ("red dress", "blue jeans", "black shoes", "white shirt", "green kurta", "brown bag")


def fashion_products(n: int) -> list[Product]:
    rows = list(csv.DictReader((FASHION / "products.csv").open()))[:n]
    return [Product(id=f"F{r['id']}", title=r["title"], category=f"{r['master_category']}/{r['article_type']}",
                    price=float(10 + i % 90), currency="EUR", attributes={"colour": r["base_colour"]},
                    images=(str((FASHION / r["image"]).resolve()),)) for i, r in enumerate(rows)]


def run(folder: Path, products: list[Product], seconds: float, inline: int | None) -> dict:
    engine = SearchEngine.open(replace(load_config(), data_dir=str(folder)))
    engine.warm()
    if inline is not None:  # (and the window read by the search, as before the thirty-second session)
        engine.backlog.inline = engine.backlog.read_inline = inline
    engine.search(Query(text="warm", k=10))
    writer = Catalog(folder / "catalog.db")
    writer.upsert(products)
    writer.close()
    t0 = time.perf_counter()
    times, visible, i = [], None, 0
    while time.perf_counter() - t0 < seconds:
        t = time.perf_counter()
        engine.search(Query(text=TEXTS[i % len(TEXTS)], k=10))
        times.append((time.perf_counter() - t) * 1e3)
        i += 1
        if visible is None and engine.index.seq == engine.catalog.seq:
            visible = time.perf_counter() - t0
    return {"first_ms": times[0], "p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)),
            "max_ms": max(times), "searches": len(times), "visible_after_s": visible}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="/tmp/demo27")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args(argv)
    if not (FASHION / "products.csv").exists():
        print(f"no fashion data at {FASHION}", file=sys.stderr)
        return 1
    products = fashion_products(args.n)
    tmp = Path(tempfile.mkdtemp(prefix="backlog-bench-"))
    try:
        print("| mode | first search ms | p50 ms | p99 ms | max ms | searches | new products searchable after s |")
        print("|---|---|---|---|---|---|---|")
        for mode, inline in (("inline (before)", 10 ** 9), ("background", None)):
            folder = tmp / mode.split()[0]
            shutil.copytree(args.data_dir, folder, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
            got = run(folder, products, args.seconds, inline)
            seen = f"{got['visible_after_s']:.1f}" if got["visible_after_s"] is not None else f"> {args.seconds:g}"
            print(f"| {mode} | {got['first_ms']:.0f} | {got['p50_ms']:.1f} | {got['p99_ms']:.1f} | {got['max_ms']:.0f} | "
                  f"{got['searches']} | {seen} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
