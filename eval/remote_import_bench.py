"""Importing a feed whose photos are web addresses: throughput by download concurrency, and the same catalogue.

    python -m eval.remote_import_bench [--latency-ms 0 50] [--workers 1 4 8 16] [--formats google shopify]

Writes ``../shared/data/luma`` as a Google Merchant Center feed (tab-separated: "52.00 USD" prices,
"Men > Tops > Hoodies & Sweatshirts" product types, the first photo in ``image_link``, the others in
``additional_image_link``) whose photos are addresses on an HTTP server on loopback serving luma's
image files, optionally answering each request after ``--latency-ms`` (a CDN's round trip; loopback has
none). Imports it into an empty data folder with each ``fetch.workers`` setting (``shopsight import
--mapping google``'s code path, ``workflow.import_catalogue``), then once more into the last folder (every
address reused), and the original CSV with local paths (``--mapping luma``) for reference. Also writes it as
a Shopify product export (``--mapping shopify``: a row per colour variant under the product's Handle with
that colour's main photo as its Variant Image, a row per further photo, categories as Product Category) and
imports that with the most workers. Prints seconds and photos/s per run, and checks that each feed's import
holds the local import's products (ids, titles, prices, categories, colours) with photos byte-identical to
luma's files (as a set for Shopify, whose rows order them by variant).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import EngineConfig, FetchConfig
from engine.ingest import PRESETS
from engine.workflow import import_catalogue

LUMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "luma"


class SlowFiles(SimpleHTTPRequestHandler):
    latency_s = 0.0

    def do_GET(self):  # noqa: N802
        time.sleep(self.latency_s)
        super().do_GET()

    def log_message(self, *args):
        pass


def serve(folder: Path, latency_s: float) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (SlowFiles,), {"latency_s": latency_s})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def google_feed(rows: list[dict], base: str, out: Path) -> int:
    """Write luma's rows as a Google Merchant feed with photo addresses under ``base``; returns photo refs."""
    refs = 0
    with out.open("w", newline="") as fp:
        writer = csv.writer(fp, delimiter="\t")
        writer.writerow(["id", "title", "description", "price", "product_type", "color", "image_link",
                         "additional_image_link"])
        for r in rows:
            photos = [f"{base}/{p}" for p in r["images"].split("|") if p]
            refs += len(photos)
            writer.writerow([r["sku"], r["name"], r["description"], f"{float(r['price']):.2f} USD" if r["price"] else "",
                             r["category"].replace("/", " > "), r["colors"], photos[0] if photos else "",
                             ",".join(photos[1:])])
    return refs


SHOPIFY = ["Handle", "Title", "Body (HTML)", "Product Category", "Option1 Name", "Option1 Value", "Variant Price",
           "Image Src", "Variant Image", "Status"]


def shopify_export(rows: list[dict], base: str, out: Path) -> int:
    """Write luma's rows as a Shopify product export with photo addresses under ``base``; returns photo refs."""
    refs = 0
    with out.open("w", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(SHOPIFY)
        for r in rows:
            photos = [p for p in r["images"].split("|") if p]
            refs += len(photos)
            colours = [c for c in r["colors"].split("|") if c] or [""]
            mains = {c: next((p for p in photos if f"-{c.lower()}_" in p), "") for c in colours}
            for i, colour in enumerate(colours):
                first = i == 0
                writer.writerow([r["sku"], r["name"] if first else "", f"<p>{r['description']}</p>" if first else "",
                                 r["category"].replace("/", " > ") if first else "", "Color" if first and colour else "",
                                 colour, r["price"], f"{base}/{photos[0]}" if first and photos else "",
                                 f"{base}/{mains[colour]}" if mains[colour] else "", "active" if first else ""])
            for photo in photos[1:]:
                writer.writerow([r["sku"], "", "", "", "", "", "", f"{base}/{photo}", "", ""])
    return refs


def timed_import(folder: Path, feed: Path, preset: str, workers: int) -> tuple[float, object]:
    cfg = replace(EngineConfig(data_dir=str(folder)), fetch=FetchConfig(workers=workers))
    cmap = PRESETS[preset] if preset != "shopify" else replace(PRESETS[preset], default_currency="USD")  # --currency USD
    t = time.perf_counter()
    report = import_catalogue(cfg, feed, cmap)
    return time.perf_counter() - t, report


def same_catalogue(local: Path, remote: Path, ordered: bool = True) -> str:
    """"ok", or the first difference between the two imports (photos as a set unless ``ordered``)."""
    a, b = Catalog(local / "catalog.db"), Catalog(remote / "catalog.db")
    try:
        pa, pb = {p.id: p for p in a}, {p.id: p for p in b}
        if set(pa) != set(pb):
            return f"ids differ: {sorted(set(pa) ^ set(pb))[:5]}"
        for pid, x in pa.items():
            y = pb[pid]
            key = lambda p: (p.title, p.price, p.currency if p.price is not None else "", p.category,  # noqa: E731
                             p.attributes.get("colour") or p.attributes.get("color"))
            if key(x) != key(y):  # (a feed's row without a price states no currency; luma's preset gives USD)
                return f"{pid}: {key(x)} != {key(y)}"
            photos = (list if ordered else sorted)
            if photos(Path(p).read_bytes() for p in x.images) != photos(Path(p).read_bytes() for p in y.images):
                return f"{pid}: photos differ"
        return "ok"
    finally:
        a.close()
        b.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 50.0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--formats", nargs="+", default=["google", "shopify"], choices=["google", "shopify"])
    args = ap.parse_args(argv)
    if not (LUMA / "products.csv").exists():
        print(f"no luma data at {LUMA}", file=sys.stderr)
        return 1
    rows = list(csv.DictReader((LUMA / "products.csv").open()))
    tmp = Path(tempfile.mkdtemp(prefix="remote-import-"))
    try:
        seconds, report = timed_import(tmp / "local", LUMA / "products.csv", "luma", 1)
        print(f"local paths (--mapping luma): {report.imported} products in {seconds:.2f} s")
        print("| latency ms | workers | seconds | photos downloaded | photos/s | refused | same as local |")
        print("|---|---|---|---|---|---|---|")
        for latency in args.latency_ms:
            server, base = serve(LUMA, latency / 1e3)
            try:
                feed = tmp / "feed.tsv"
                refs = google_feed(rows, base, feed)
                for workers in args.workers:
                    folder = tmp / f"remote-{latency:g}-{workers}"
                    seconds, report = timed_import(folder, feed, "google", workers)
                    print(f"| {latency:g} | {workers} | {seconds:.2f} | {report.downloaded} ({refs} refs) | "
                          f"{report.downloaded / seconds:.0f} | {len(report.errors)} | {same_catalogue(tmp / 'local', folder)} |")
                seconds, report = timed_import(folder, feed, "google", args.workers[-1])
                print(f"| {latency:g} | {args.workers[-1]}, run again | {seconds:.2f} | {report.downloaded} "
                      f"({report.reused} reused) | - | {len(report.errors)} | {same_catalogue(tmp / 'local', folder)} |")
                if "shopify" in args.formats:
                    export = tmp / "products_export.csv"
                    refs = shopify_export(rows, base, export)
                    folder = tmp / f"shopify-{latency:g}"
                    seconds, report = timed_import(folder, export, "shopify", args.workers[-1])
                    print(f"| {latency:g} | {args.workers[-1]}, Shopify export | {seconds:.2f} | {report.downloaded} "
                          f"({refs} refs) | {report.downloaded / seconds:.0f} | {len(report.errors)} | "
                          f"{same_catalogue(tmp / 'local', folder, ordered=False)} |")
            finally:
                server.shutdown()
                server.server_close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
