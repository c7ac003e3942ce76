"""Opening a large catalogue: the time and memory a serving worker spends on the rows beside the vectors.

    python -m eval.open_bench [--products 200000] [--folder out/open_bench] [--rebuild]

Writes a catalogue of ``products`` products shaped like a Google Merchant feed (brand, colour (every fifth
two colours), size, gender, material, pattern, availability and a product link as attributes; a 200-character
description) and an index snapshot of them with small vectors (16-d, no photo channels: the vectors' own
loading is numpy reading, measured by ``eval.memory_bench``), then, in a fresh interpreter, opens them the way
``SearchEngine.open`` does (the catalogue read, ``ProductIndex.load``) and prints the seconds, the process's
resident memory after opening and at its peak, and the attribute table's own bytes a product (tracemalloc, a
second load). Then the per-query table work at that size, median of 200: an attribute filter on a value most
products hold ("availability=in stock") and on one a few hold ("brand=brand7"), ``refine.counts`` over 200
ranked rows, and two boost rules' ``holding`` over 200 candidates.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import IndexConfig
from engine.index.product_index import ProductIndex
from engine.types import Product

from .proc_status import status_kb

DIM = 16
COLOURS = ["black", "white", "red", "blue", "navy", "green", "grey", "beige", "brown", "pink"]
FINGERPRINT = "open-bench"


def product(i: int, rng: random.Random) -> Product:
    colour = rng.choice(COLOURS) + (f"|{rng.choice(COLOURS)}" if i % 5 == 0 else "")
    return Product(
        id=f"SKU-{i:08d}", title=f"Item {i} {rng.choice(COLOURS)} shirt", price=float(10 + i % 300),
        description=" ".join(rng.choice(["soft", "cotton", "classic", "slim", "fit", "summer", "daily", "wear"])
                             for _ in range(30))[:200],
        category=f"Apparel/Cat{i % 40}/Sub{i % 7}",
        attributes={"brand": f"Brand{rng.randrange(500)}", "color": colour,
                    "size": rng.choice(["XS", "S", "M", "L", "XL", "XXL"]),
                    "gender": rng.choice(["male", "female", "unisex"]), "material": f"mat{rng.randrange(30)}",
                    "pattern": f"pat{rng.randrange(10)}", "availability": rng.choice(["in stock", "out of stock"]),
                    "link": f"https://shop.example.com/products/item-{i}"})


def build(folder: Path, n: int, chunk: int = 5_000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng, vrng = random.Random(0), np.random.default_rng(0)
    catalog = Catalog(folder / "catalog.db")
    index = ProductIndex(DIM, IndexConfig(kind="flat", device="cpu"), FINGERPRINT, {})
    for start in range(0, n, chunk):
        batch = [product(i, rng) for i in range(start, min(n, start + chunk))]
        catalog.upsert(batch)
        vecs = vrng.standard_normal((len(batch), DIM)).astype(np.float32)
        index.upsert_many(batch, {"shared": np.zeros((0, DIM), np.float32)}, vecs)
    index.seq = catalog.seq
    index.build()
    index.save(folder / "index")
    catalog.close()


def _rss_kb() -> tuple[int, int]:
    return status_kb("VmRSS"), status_kb("VmHWM")


def _open(folder: Path) -> ProductIndex:
    catalog = Catalog(folder / "catalog.db")  # as SearchEngine.open does
    return ProductIndex.load(folder / "index", IndexConfig(kind="flat", device="cpu"), FINGERPRINT,
                             lambda: {p.id: p for p in catalog})


def measure(folder: Path) -> dict:
    """Run in a fresh interpreter: open, then time the per-query table work."""
    import gc
    import tracemalloc

    from engine import fusion, refine
    from engine.types import Candidates, Filters

    rss0, _ = _rss_kb()
    t0 = time.perf_counter()
    index = _open(folder)
    seconds = time.perf_counter() - t0
    gc.collect()
    rss1, peak = _rss_kb()
    table, n = index.table, len(index.table)
    out = {"products": n, "open_s": round(seconds, 2), "rss_added_mb": round((rss1 - rss0) / 1024),
           "peak_rss_mb": round(peak / 1024)}
    rng = np.random.default_rng(1)

    def median_us(fn) -> float:
        times = []
        for _ in range(200):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return round(float(np.median(times)) * 1e6, 1)

    out["filter_common_us"] = median_us(lambda: table.mask(Filters(attributes={"availability": "in stock"})))
    out["filter_rare_us"] = median_us(lambda: table.mask(Filters(attributes={"brand": "brand7"})))
    rows = np.sort(rng.choice(n, 200, replace=False)).astype(np.int64)
    ranked = Candidates(rows, np.linspace(1.0, 0.9, len(rows)).astype(np.float32), {})
    out["refine_us"] = median_us(lambda: refine.counts(table, ranked, 0.0))
    wanted = [("availability", "out of stock"), ("brand", "Brand7")]
    out["holding_us"] = median_us(lambda: table.holding(rows, wanted))
    out["check"] = {"in_stock": int(table.mask(Filters(attributes={"availability": "in stock"})).sum()),
                    "brand7": int(table.mask(Filters(attributes={"brand": "brand7"})).sum()),
                    "refine_colours": sum(refine.counts(table, ranked, 0.0)["colours"].values()),
                    "held": int(table.holding(rows, wanted).sum())}
    assert fusion  # imported for the boosts' path (holding) the engine takes
    del index, table
    gc.collect()
    tracemalloc.start()
    index = _open(folder)
    del index.photos, index.texts
    gc.collect()
    out["table_bytes_per_product"] = round(tracemalloc.get_traced_memory()[0] / n)
    tracemalloc.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=200_000)
    ap.add_argument("--folder", type=Path, default=Path("out/open_bench"))
    ap.add_argument("--rebuild", action="store_true", help="write the catalogue and snapshot again")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    folder = args.folder / str(args.products)
    if args.measure:
        print(json.dumps(measure(folder)))
        return 0
    if args.rebuild or not (folder / "index" / "CURRENT").exists():
        t = time.perf_counter()
        build(folder, args.products)
        print(f"wrote {args.products:,} products to {folder} in {time.perf_counter() - t:.0f} s", flush=True)
    res = subprocess.run([sys.executable, "-m", "eval.open_bench", "--measure", "--products", str(args.products),
                          "--folder", str(args.folder)], capture_output=True, text=True, check=True)
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"{figures['products']:,} products: opened in {figures['open_s']} s (catalogue read + ProductIndex.load), "
          f"RSS +{figures['rss_added_mb']} MB after, peak {figures['peak_rss_mb']} MB; "
          f"table {figures['table_bytes_per_product']} B a product (tracemalloc, with the ids)")
    print(f"per query (median of 200): filter on a common value {figures['filter_common_us']} us, on a rare value "
          f"{figures['filter_rare_us']} us; refine.counts over 200 rows {figures['refine_us']} us; "
          f"two boost rules over 200 candidates {figures['holding_us']} us")
    print(f"checks: {figures['check']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
