"""What a price order lists: the demo shop's "⟨pattern⟩ ⟨noun⟩" and "red ⟨pattern⟩ ⟨noun⟩" queries, cheapest first.

    python -m eval.price_order_bench [--data-dir shopsight-data]

The data folder must hold the sample shop (``shopsight --data-dir D demo --no-serve``; the truth is its
``sample-shop/products.csv``). For each of 3 patterns x 8 kinds of product, with and without a colour word, the
query is searched with ``sort=price_asc`` and ``k=200``; the listed products (the relevant matches,
``engine/paging.py``) are compared with those of that pattern, kind (and colour): precision (of the listed, the
share the words describe), recall (of those, the share listed) and how many were listed, summed over queries.
Then Chinese "⟨colour⟩⟨noun⟩" ("红色连衣裙", 3 colours x 8 kinds): every pattern of it is described. Then photo queries, the first photo of the first 3 products of each category, by price: precision and recall of
the photographed product's category.
"""

from __future__ import annotations

import argparse
import csv
import sys

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import sample_shop
from engine.cli import build_parser
from engine.cli_args import config_of
from engine.engine import SearchEngine
from engine.images import open_image
from engine.types import Query

NOUNS = {"mug": "Mugs", "bag": "Bags", "hoodie": "Hoodies", "dress": "Dresses", "t-shirt": "T-Shirts", "hat": "Hats",
         "shoes": "Shoes", "trousers": "Trousers"}
PATTERNS = ("striped", "dotted", "checked")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="shopsight-data")
    args = ap.parse_args(argv)
    eng = SearchEngine.open(config_of(build_parser().parse_args(["--data-dir", args.data_dir, "status"])))
    with open(eng.config.path / "sample-shop" / "products.csv", encoding="utf-8") as fp:
        truth = {row["id"]: row for row in csv.DictReader(fp)}
    for colour in ("", "red"):
        hit = listed = wanted = 0
        for pattern in PATTERNS:
            for noun, category in NOUNS.items():
                query = " ".join(w for w in (colour, pattern, noun) if w)
                found = {r.product.id for r in eng.search(Query(text=query, k=200, sort="price_asc")).results}
                want = {pid for pid, row in truth.items() if row["pattern"] == pattern
                        and row["category"].endswith(category) and (not colour or row["colour"] == colour)}
                hit, listed, wanted = hit + len(found & want), listed + len(found), wanted + len(want)
        kind = f"'{colour} ⟨pattern⟩ ⟨noun⟩'" if colour else "'⟨pattern⟩ ⟨noun⟩'"
        print(f"{kind:28s} 24 queries: precision {hit / max(listed, 1):.3f}, recall {hit / max(wanted, 1):.3f}, "
              f"{listed} listed for {wanted} described")
    hit = listed = wanted = 0  # Chinese "⟨colour⟩⟨noun⟩" ("红色连衣裙"): every pattern of that colour and noun
    for category, noun_zh, _ in sample_shop.CATEGORIES.values():
        for colour in ("red", "blue", "green"):
            query = f"{sample_shop.COLOURS[colour][1]}{noun_zh}"
            found = {r.product.id for r in eng.search(Query(text=query, k=200, sort="price_asc")).results}
            want = {pid for pid, row in truth.items() if row["category"] == category and row["colour"] == colour}
            hit, listed, wanted = hit + len(found & want), listed + len(found), wanted + len(want)
    print(f"{'Chinese ⟨colour⟩⟨noun⟩':28s} 24 queries: precision {hit / max(listed, 1):.3f}, recall "
          f"{hit / max(wanted, 1):.3f}, {listed} listed for {wanted} described")
    by_category: dict[str, list[str]] = {}
    for pid, row in truth.items():
        by_category.setdefault(row["category"], []).append(pid)
    hit = listed = wanted = n = 0
    for category, pids in sorted(by_category.items()):
        for pid in sorted(pids)[:3]:
            photo = open_image(eng.config.path / "sample-shop" / truth[pid]["images"].split("|")[0])
            found = {r.product.id for r in eng.search(Query(image=photo, k=200, sort="price_asc")).results}
            hit, listed, wanted, n = hit + len(found & set(pids)), listed + len(found), wanted + len(pids), n + 1
    print(f"{'a catalogue photo':28s} {n} queries: precision {hit / max(listed, 1):.3f} (its category), "
          f"recall {hit / max(wanted, 1):.3f}, {listed} listed for {wanted} in those categories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
