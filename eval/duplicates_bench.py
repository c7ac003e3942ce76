"""Near-duplicate listings on real photos: which pairs does the engine group, by which rule?

    python -m eval.duplicates_bench [--cache out/figures/features.db] [--copies 100] [--out docs/eval/duplicates] [--ingest] [--scale N ...]

Real engines (packaged default bundle, real towers) are built on three catalogues, and
``engine.duplicates.find_duplicates`` is run with the look-vector rule alone (cosine >= 0.995), the
same-photo signatures alone (``engine/signatures.py``, cell distance <= 0.045) and both (the default):
- luma: one main photo per (product, colour), 408 listings, plus copies of ``--copies`` of them saved
  again as other sellers would (JPEG q90 full size, q75 at 80 %, q60 at 70 %, q40 at 50 %; up to 800 px
  originals). Relevant: a copy grouped with its original. Wrong: two colour variants of one product
  grouped (other files; luma reuses one photo file for some variants, those count as the same photo).
- newbee_zh: 562 cover photos as listed. Byte-identical files at one price (within
  ``rerank.fold_price_gap``) must be grouped; those priced further apart are variants sharing a photo
  (storage tiers, a model and its Pro) and must not be; pairs of distinct files that are grouped are
  re-uploads or different products: counted, with the share whose names are identical, and examples
  printed (no hand labels). The last rule compares no prices (the rule before the twenty-fourth session).
- fashion: ``--copies`` of the 60 x 80 px photos copied at q60 70 %: the small-photo limit.
``--ingest`` also times index builds of the luma listings with and without signatures; ``--scale N ...``
times ``find_duplicates`` over N random products (the whole-catalogue pass behind ``shopsight duplicates``
and ``GET /api/duplicates``).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.attributes import prices_apart
from engine.config import EngineConfig
from engine.duplicates import find_duplicates
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.engine import SearchEngine
from engine.types import Product

from . import datasets

COPIES = (("q90 100%", 90, 1.0), ("q75 80%", 75, 0.8), ("q60 70%", 60, 0.7), ("q40 50%", 40, 0.5))
GAP = EngineConfig().rerank.fold_price_gap
RULES = {"looks only (cosine >= 0.995)": dict(threshold=0.995, same_photo_distance=0.0, price_gap=GAP),
         "signatures only (<= 0.045)": dict(threshold=1.01, same_photo_distance=0.045, price_gap=GAP),
         "both (default)": dict(threshold=0.995, same_photo_distance=0.045, price_gap=GAP),
         "both, prices not compared": dict(threshold=0.995, same_photo_distance=0.045, price_gap=1.0)}
DEFAULT = "both (default)"


def save_copy(src: str, dest: Path, quality: int, scale: float) -> str:
    img = Image.open(src).convert("RGB")
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    img.save(dest, "JPEG", quality=quality)
    return str(dest)


def build(products: list[Product], folder: Path, cfg: EngineConfig, bundle: ModelBundle) -> SearchEngine:
    catalog = Catalog(folder / "catalog.db")
    catalog.upsert(products)
    catalog.close()
    return SearchEngine.build(replace(cfg, data_dir=str(folder)), bundle)


def groups_of(engine_: SearchEngine, rule: dict) -> list[set[str]]:
    ids = engine_.index.table.ids
    return [{ids[r] for r in g} for g in find_duplicates(engine_.index, **rule)]


def pairs_in(groups: list[set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in groups for a in g for b in g if a < b}


def luma(cfg: EngineConfig, bundle: ModelBundle, work: Path, n_copies: int) -> list[str]:
    variants = next(t for t in datasets.luma_tasks() if t.kind == "photo+text").products
    rng = np.random.default_rng(0)
    chosen = [variants[i] for i in rng.choice(len(variants), n_copies, replace=False)]
    (work / "luma-copies").mkdir(parents=True)
    copies = []
    for p in chosen:
        for label, quality, scale in COPIES:
            dest = work / "luma-copies" / f"{p.id.replace(':', '_')}-q{quality}.jpg"
            copies.append(Product(id=f"copy|{label}|{p.id}", title="(hidden)",
                                  images=(save_copy(p.images[0], dest, quality, scale),)))
    eng = build([p.with_(title="(hidden)") for p in variants] + copies, work / "luma", cfg, bundle)
    digest = {p.id: hashlib.md5(Path(p.images[0]).read_bytes()).hexdigest() for p in variants}
    owner = {p.id: p.id.rsplit(":", 1)[0] for p in variants}
    variant_pairs = {(a, b) for a in owner for b in owner if a < b and owner[a] == owner[b] and digest[a] != digest[b]}
    grouped_variants: list[tuple[str, str]] = []
    lines = [f"luma: {len(variants)} listings (one main photo per product and colour), {len(copies)} copies of "
             f"{n_copies} of them; {len(variant_pairs)} colour-variant pairs with different photo files", "",
             "| rule | " + " | ".join(f"copies {label} grouped with the original" for label, _, _ in COPIES)
             + " | colour-variant pairs grouped |", "|---" * (len(COPIES) + 2) + "|"]
    for name, rule in RULES.items():
        found = pairs_in(groups_of(eng, rule))
        shares = []
        for label, _, _ in COPIES:
            mine = [c for c in copies if c.id.split("|")[1] == label]
            shares.append(np.mean([tuple(sorted((c.id, c.id.split("|")[2]))) in found for c in mine]))
        wrong = sorted(variant_pairs & found)
        lines.append(f"| {name} | " + " | ".join(f"{s:.2f}" for s in shares) + f" | {len(wrong)} of {len(variant_pairs)} |")
        if name == DEFAULT:
            grouped_variants = wrong
    lines += ["", "Colour-variant pairs grouped by the default rule: "
              + (", ".join(f"{a} + {b.rsplit(':', 1)[1]}" for a, b in grouped_variants) or "none")]
    return lines


def newbee(cfg: EngineConfig, bundle: ModelBundle, work: Path) -> list[str]:
    task = datasets.newbee_tasks()[0]
    products = [p.with_(title="(hidden)", description="") for p in task.products]
    names = {p.id: p.title for p in task.products}
    eng = build(products, work / "newbee", cfg, bundle)
    digest = {p.id: hashlib.md5(Path(p.images[0]).read_bytes()).hexdigest() for p in products}
    ids = sorted(digest)
    identical = {(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if digest[a] == digest[b]}
    price = {p.id: np.nan if p.price is None else p.price for p in products}
    apart = {(a, b) for a, b in identical if prices_apart(price[a], price[b], GAP)}
    lines = [f"newbee_zh: {len(products)} listings, {len(set(digest.values()))} distinct photo files, "
             f"{len(identical)} pairs of byte-identical photos, {len(apart)} of them priced more than "
             f"{GAP:.0%} apart (storage tiers, models sharing a photo)", "",
             "| rule | identical-photo pairs at one price grouped | identical-photo pairs priced apart grouped "
             "| distinct-file pairs grouped | of those, same name |", "|---|---|---|---|---|"]
    examples = []
    for name, rule in RULES.items():
        found = pairs_in(groups_of(eng, rule))
        other = sorted(found - identical)
        same_name = sum(names[a] == names[b] for a, b in other)
        lines.append(f"| {name} | {len((identical - apart) & found)} of {len(identical - apart)} | "
                     f"{len(apart & found)} of {len(apart)} | {len(other)} | {same_name} |")
        if name == DEFAULT:
            examples = other
    lines += ["", "Distinct-file pairs grouped by the default rule (first 12 by id; names as listed):"]
    lines += [f"- {a} {names[a][:40]} | {b} {names[b][:40]}" for a, b in examples[:12]]
    lines += ["", "Identical-photo pairs priced apart (kept apart by the default rule; first 12 by id):"]
    lines += [f"- {a} {names[a][:30]} {price[a]:g} | {b} {names[b][:30]} {price[b]:g}" for a, b in sorted(apart)[:12]]
    return lines


def fashion(cfg: EngineConfig, bundle: ModelBundle, work: Path, n_copies: int) -> list[str]:
    gallery, _ = datasets.fashion_split(n_copies, 0)
    originals = [datasets.fashion_product(r).with_(title="(hidden)") for r in gallery]
    (work / "fashion-copies").mkdir(parents=True)
    copies = [Product(id=f"copy|{p.id}", title="(hidden)",
                      images=(save_copy(p.images[0], work / "fashion-copies" / f"{p.id}.jpg", 60, 0.7),))
              for p in originals]
    eng = build(originals + copies, work / "fashion", cfg, bundle)
    lines = [f"fashion: {len(originals)} photos of 60 x 80 px and a q60 70 % copy of each (42 x 56 px)", "",
             "| rule | copies grouped with the original |", "|---|---|"]
    for name, rule in RULES.items():
        found = pairs_in(groups_of(eng, rule))
        share = np.mean([tuple(sorted((c.id, c.id.split("|")[1]))) in found for c in copies])
        lines.append(f"| {name} | {share:.2f} |")
    return lines


def ingest_cost(bundle: ModelBundle, work: Path, rounds: int = 4) -> list[str]:
    """Index build time of the luma listings from an empty feature cache, with signatures and with the
    signature function replaced by zeros (same code path otherwise), alternated; first round is warm-up."""
    from engine import signatures

    products = next(t for t in datasets.luma_tasks() if t.kind == "photo+text").products
    real, times = signatures.photo_signature, {"with signatures": [], "without": []}
    zeros = lambda img: np.zeros(signatures.DIM, np.float32)  # noqa: E731
    try:
        for r in range(rounds):
            order = ("with signatures", "without") if r % 2 else ("without", "with signatures")
            for name in order:
                signatures.photo_signature = real if name == "with signatures" else zeros
                folder = work / f"ingest-{r}-{name.split()[0]}"
                t = time.perf_counter()
                build(products, folder, EngineConfig(), bundle)
                times[name].append(time.perf_counter() - t)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        signatures.photo_signature = real
    rate = {k: len(products) / float(np.median(v[1:])) for k, v in times.items()}
    return [f"ingestion of {len(products)} luma photos (up to 800 px) from an empty feature cache, median of "
            f"{rounds - 1} rounds after a warm-up: {rate['without']:.1f} photos/s without signatures, "
            f"{rate['with signatures']:.1f} with (ratio {rate['with signatures'] / rate['without']:.2f})"]


def scale_cost(sizes: list[int]) -> list[str]:
    """Seconds ``find_duplicates`` takes over n products (random unit looks and random signatures in a
    real ProductIndex): every product is compared with every other, block-wise."""
    from engine import signatures
    from engine.config import IndexConfig
    from engine.index.product_index import ProductIndex

    rng = np.random.default_rng(0)
    lines = []
    for n in sizes:
        index = ProductIndex(8, IndexConfig(kind="flat"), "scale", {"look": 1352, "signature": signatures.DIM})
        looks = rng.standard_normal((n, 1352), dtype=np.float32)
        looks /= np.linalg.norm(looks, axis=1, keepdims=True)
        sigs = rng.random((n, signatures.DIM), dtype=np.float32)
        shared = rng.standard_normal((n, 8), dtype=np.float32)
        for i in range(n):
            index.upsert(Product(id=f"p{i}", title="t"), {"shared": shared[i:i + 1], "look": looks[i:i + 1],
                                                         "signature": sigs[i:i + 1]}, shared[i])
        cells = []
        for name, rule in RULES.items():
            if rule["price_gap"] != GAP:  # these products state no prices: it would repeat the default rule
                continue
            t = time.perf_counter()
            find_duplicates(index, **rule)
            cells.append(f"{name} {time.perf_counter() - t:.1f} s")
        lines.append(f"find_duplicates over {n:,} products (random vectors): " + ", ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="out/figures/features.db", help="tower feature cache (SQLite)")
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--out", help="folder for report.md")
    ap.add_argument("--ingest", action="store_true", help="also time index builds with and without signatures")
    ap.add_argument("--scale", type=int, nargs="*", default=[], metavar="N",
                    help="also time find_duplicates over N random products (e.g. --scale 10000 44000)")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        print("../shared/data is missing", file=sys.stderr)
        return 1
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    cfg = EngineConfig(feature_cache=args.cache)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="shopsight-dups-"))
    try:
        lines = ["# Near-duplicate listings (`python -m eval.duplicates_bench`)", ""]
        for part in (lambda: luma(cfg, bundle, work, args.copies), lambda: newbee(cfg, bundle, work),
                     lambda: fashion(cfg, bundle, work, args.copies)):
            lines += part() + [""]
        if args.ingest:
            lines += ingest_cost(bundle, work) + [""]
        if args.scale:
            lines += scale_cost(args.scale) + [""]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines.append(f"{time.perf_counter() - started:.0f} s on this machine, packaged default bundle.")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "report.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
