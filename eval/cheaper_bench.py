""""This, but cheaper": what a photo plus "but cheaper" lists, against the product the photo shows.

    python -m eval.cheaper_bench --data-dir D [--luma-dir L] [--luma-data ../shared/data/luma]

``D``: the demo shop (``shopsight --data-dir D demo --no-serve``); for the first photo of the first 3 products of
each category, searched with "this but cheaper": of the products listed (k=12, the product itself left out), the
share cheaper than it and the share in its category. ``L`` (made on first use from ``--luma-data``, skipped when
that is absent): luma with each product's main photos only, queried with one of its other views (a back or side,
as a shopper's own photo is), k=10; also how often the product the engine took the photo to show is the one
photographed. Then the demo shop's search p50 with the photo alone, with "this but cheaper" (one photo-only
search more, for the product it shows) and by price. ``engine/comparative.py`` is what these measure.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.cli import main as cli
from engine.config import load_config
from engine.engine import SearchEngine
from engine.images import open_image
from engine.types import Query

WORDS = "this but cheaper"


def measure(eng: SearchEngine, cases: list[tuple[str, str]], k: int) -> str:
    """``cases``: (photo path, the product it shows); the line of figures."""
    listed = cheaper = same = right = 0
    for photo, pid in cases:
        product = eng.catalog.get(pid)
        found = eng.search(Query(image=open_image(photo), text=WORDS, k=k))
        said = (found.understood or {}).get("cheaper_than")
        right += bool(said) and said["id"] == pid
        got = [r.product for r in found.results if r.product.id != pid]
        listed += len(got)
        cheaper += sum(g.price is not None and g.price < product.price for g in got)
        same += sum(g.category == product.category for g in got)
    n = max(listed, 1)
    return (f"{len(cases)} photos + {WORDS!r}: listed {listed}, cheaper than the photographed product "
            f"{cheaper / n:.3f}, in its category {same / n:.3f}; compared with the photographed product "
            f"{right}/{len(cases)}")


def latency(eng: SearchEngine, cases: list[tuple[str, str]]) -> str:
    """p50 of a search with the photo alone, with "this but cheaper", and with the photo by price ("cheapest")."""
    photos = [open_image(photo) for photo, _ in cases]
    out = []
    for text in (None, WORDS, "cheapest"):
        eng.search(Query(image=photos[0], text=text, k=12))  # (warm)
        ms = []
        for img in photos:
            t = time.perf_counter()
            eng.search(Query(image=img, text=text, k=12))
            ms.append(1000 * (time.perf_counter() - t))
        out.append(f"{text or 'photo alone'!r} {statistics.median(ms):.1f} ms")
    return "p50: " + ", ".join(out)


def demo_cases(eng: SearchEngine) -> list[tuple[str, str]]:
    by_category: dict[str, list] = {}
    for product in eng.catalog.get_many(eng.catalog.ids()).values():
        by_category.setdefault(product.category, []).append(product)
    return [(str(eng.config.path / p.images[0]), p.id) for _, ps in sorted(by_category.items())
            for p in ps[:3] if p.images and p.price is not None]


def luma_shop(folder: Path, data: Path) -> list[tuple[str, str]]:
    """Luma indexed with its main photos (made once in ``folder``); the cases: each product's first other view."""
    data = data.resolve()  # the photo paths written below are read from the CSV's folder
    rows = list(csv.DictReader(open(data / "products.csv", encoding="utf-8")))
    if not (folder / "index").exists():
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "main_photos.csv", "w", newline="", encoding="utf-8") as fp:
            writer = csv.DictWriter(fp, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "images": "|".join(str(data / x) for x in row["images"].split("|") if "_main" in x)})
        cli(["--data-dir", str(folder), "-q", "import", str(folder / "main_photos.csv"), "--mapping", "luma"])
        cli(["--data-dir", str(folder), "-q", "index"])
    return [(str(data / views[0]), row["sku"]) for row in rows if row["price"]
            if (views := [x for x in row["images"].split("|") if "_back" in x or "_alt" in x])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--luma-dir", type=Path)
    ap.add_argument("--luma-data", type=Path, default=Path("../shared/data/luma"))
    args = ap.parse_args(argv)
    demo = SearchEngine.open(replace(load_config(None), data_dir=str(args.data_dir)))
    print("demo shop, catalogue photos:", measure(demo, demo_cases(demo), 12), flush=True)
    print("demo shop, latency:", latency(demo, demo_cases(demo)), flush=True)
    if args.luma_dir and (args.luma_data / "products.csv").exists():
        cases = luma_shop(args.luma_dir, args.luma_data)
        luma = SearchEngine.open(replace(load_config(None), data_dir=str(args.luma_dir)))
        print("luma, other views:", measure(luma, cases, 10))
    elif args.luma_dir:
        print(f"luma skipped: no {args.luma_data / 'products.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
