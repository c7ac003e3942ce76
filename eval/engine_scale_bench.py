"""The whole query path at catalogue scale: the engine's stages at ``--products`` products against the small shop.

    python -m eval.engine_scale_bench [--data-dir shopsight-data] [--products 100000] [--folder out/engine_scale]
                                      [--repeats 20] [--rebuild] [--no-exact] [--build [CHUNK ...]]
                                      [--distinct N]

Grows an indexed data folder (default: the one ``shopsight demo`` builds, 328 products) to ``products`` products
without running the towers: each new product copies a stored one (title, description, category, photos, every
photo channel) under a new id, with its price moved by up to 20 %, a brand among 300 and, on the vectors searched
for candidates (shared-space photo and text, look, bridge, prototype), noise of 0.3 of their norm (so the IVF
lists hold distinct rows); the catalogue (SQLite, FTS5
lexicon) and an index snapshot of them are written as the engine writes them, with the source's bundle. Then
it opens both folders with ``SearchEngine.open`` and runs the same queries on each, ``repeats`` times:
text, text with a price phrase, text with a category filter, text with an attribute filter, a photo, a photo
plus colour words, and a product's similar products; prints each kind's p50 / p99 ms and its p50 by
stage (the response's ``timings_ms``), small shop beside large, the large one also with the channels searched
for candidates (look, bridge, prototype) searched exactly as before the twenty-ninth session (its IVF structures
dropped in that process), and how many of the top 10 the two agree on for 60 products' titles and photos. Timings are one process, one thread, warm (each
query once before timing). ``--build``: instead, a full index build of the grown folder (``SearchEngine.build``,
its feature cache copied from the source, so no tower runs once a first build has filled in the passes the source
had not cached: a cold first build here took 274 s against 23 s warm at 30,000 products) in a fresh interpreter
per product chunk size, its seconds and peak memory (resident, and anonymous: see ``build_figures``). Copies share words and looks with their source, so each word is held by a larger
share of the large catalogue than in a real one: the lexical stage is timed at its hardest.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import similar
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.engine import SearchEngine
from engine.images import open_image
from engine.index.product_index import SEARCHED_CHANNELS, ProductIndex
from engine.types import Filters, Query

NOISY = ("shared", "look", "bridge", "proto")  # photo vectors given noise (texts too): those searched for candidates


def _rows_by_owner(owner: np.ndarray, alive: np.ndarray) -> dict[int, np.ndarray]:
    rows = np.flatnonzero(alive)
    order = np.argsort(owner[rows], kind="stable")
    rows = rows[order]
    keys, starts = np.unique(owner[rows], return_index=True)
    return {int(k): rows[s:e] for k, s, e in zip(keys, starts, list(starts[1:]) + [len(rows)])}


def grow(src: Path, dest: Path, n: int, chunk: int = 2_000, seed: int = 0, vectors: bool = True) -> None:
    """Write ``dest``: ``n`` products copied from ``src``'s (see the module docstring); ``vectors`` False: the
    catalogue only (a full build writes the index: ``--build``), so the disk never holds two indexes."""
    source = SearchEngine.open(EngineConfig(data_dir=str(src)))
    index = source.index
    products = [p for p in source.catalog if p.id in index.table.row_of]
    photo_rows = _rows_by_owner(index.photos.owner, index.photos.alive)
    text_rows = _rows_by_owner(index.texts.owner, index.texts.alive)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copytree(src / "bundle", dest / "bundle")
    for extra in ("synonyms.txt",):
        if (src / extra).exists():
            shutil.copy(src / extra, dest / extra)
    catalog = Catalog(dest / "catalog.db")
    out = ProductIndex(index.dim, index.cfg, index.fingerprint, index.photo_channels)
    out.look_stats, out.look_colour_weight, out.shared_fit = index.look_stats, index.look_colour_weight, index.shared_fit
    if vectors:
        out.spill(dest / "index")  # the copies' vectors in files, not memory (as a full build keeps them)
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    for start in range(0, n, chunk):
        batch, picks = [], []
        for i in range(start, min(n, start + chunk)):
            p = products[i % len(products)]
            price = None if p.price is None else round(p.price * rng.uniform(0.8, 1.2), 2)
            batch.append(p.with_(id=f"{p.id}-{i}", price=price,
                                 attributes={**p.attributes, "brand": f"Brand {rng.randrange(300)}"}))
            picks.append(index.table.row_of[p.id])
        rows = np.concatenate([photo_rows[r] for r in picks]) if picks else np.zeros(0, np.int64)
        counts = [len(photo_rows.get(r, ())) for r in picks]
        batch = [q.with_(images=q.images[:c]) for q, c in zip(batch, counts)]
        catalog.upsert(batch)
        if vectors:
            out.upsert_many(batch, *_copied_vectors(index, rows, np.concatenate([text_rows[r] for r in picks]), nrng))
    if vectors:
        out.seq = catalog.seq
        out.build()
        out.save(dest / "index")
    catalog.close()
    (dest / "grown.txt").write_text(f"{n}\n")


def _copied_vectors(index: ProductIndex, rows: np.ndarray, text_rows: np.ndarray, rng: np.random.Generator):
    """The stored photo vectors of ``rows`` in every channel and the text vectors of ``text_rows``, the ``NOISY``
    ones and the texts with noise."""
    vecs = {"shared": index.photos.vectors[rows], **{name: np.asarray(store.vectors[rows])
                                                    for name, store in index.channels.items()}}
    for name in NOISY:
        if name in vecs:
            vecs[name] = _noisy(vecs[name], rng)
    return vecs, _noisy(index.texts.vectors[text_rows], rng)


def _noisy(x: np.ndarray, rng: np.random.Generator, share: float = 0.3) -> np.ndarray:
    """``x`` with noise of ``share`` of each row's norm added, each row kept at its norm (a copy's cosine with
    its source about 0.96)."""
    x = np.asarray(x, np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    y = x + rng.standard_normal(x.shape).astype(np.float32) * (share * norms / np.sqrt(x.shape[1]))
    return y * (norms / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12))


def queries(eng: SearchEngine) -> dict[str, Query]:
    """One query of each kind, from the shop's own first product with a photo."""
    p = next(q for q in eng.catalog if q.images and q.category)
    words = p.title.lower()
    colour = next(iter(eng.index.table.colours_of(eng.index.table.row_of[p.id])), "blue")
    photo = open_image(p.images[0])
    return {
        "text": Query(text=words),
        "text + price words": Query(text=f"{words} under 40"),
        "text, category filter": Query(text=words, filters=Filters(category=p.category.split("/")[0])),
        "text, attribute filter": Query(text=words, filters=Filters(attributes={"colour": colour})),
        "photo": Query(image=photo),
        "photo + colour words": Query(image=photo, text="but in blue"),
        "similar": p.id,
    }


def run(eng: SearchEngine, repeats: int) -> dict[str, tuple[list[float], list[dict]]]:
    out = {}
    for name, q in queries(eng).items():
        ask = (lambda q=q: similar.similar(eng, q, k=10)) if isinstance(q, str) else (lambda q=q: eng.search(q))
        ask()  # warm
        walls, stages = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            response = ask()
            walls.append((time.perf_counter() - t) * 1e3)
            stages.append(dict(response.timings_ms))
        out[name] = (walls, stages)
    return out


def distinct(eng: SearchEngine, src: Path, n: int, seed: int = 0) -> dict[str, tuple[list[float], list[dict]]]:
    """Each of ``n`` titles and ``n`` first photos of the source shop's products searched once (never the same
    twice, so each reads rows no query before it read: what a large shop's page cache meets), after the engine's
    warm-up and its files' read into the page cache (``_settle``)."""
    rng = random.Random(seed)
    products = rng.sample([p for p in Catalog(src / "catalog.db") if p.images], n)
    asks = {"text (distinct)": [Query(text=p.title.lower()) for p in products],
            "photo (distinct)": [Query(image=open_image(p.images[0])) for p in products]}
    out = {}
    for name, qs in asks.items():
        walls, stages = [], []
        for q in qs:
            t = time.perf_counter()
            response = eng.search(q)
            walls.append((time.perf_counter() - t) * 1e3)
            stages.append(dict(response.timings_ms))
        out[name] = (walls, stages)
    return out


def _settle(eng: SearchEngine, limit_s: float = 1800) -> float:
    """Seconds until the engine's read into the page cache has finished (``ProductIndex.reading``, or for code from
    before it, every thread reading one file)."""
    import threading

    t = time.perf_counter()
    reading = getattr(eng.index, "reading", None)
    if reading is not None:
        reading.join(limit_s)
    else:  # one thread a file, named after its target (Python's default thread names)
        while any("_read_through" in th.name for th in threading.enumerate()) and time.perf_counter() - t < limit_s:
            time.sleep(0.5)
    return time.perf_counter() - t


def _row(name: str, columns) -> str:
    def cell(res):
        walls, stages = res
        keys = [k for k in stages[0] if k != "total"]
        by = ", ".join(f"{k} {np.median([s.get(k, 0.0) for s in stages]):.1f}" for k in keys)
        return f"{np.median(walls):.1f} / {np.percentile(walls, 99):.1f} ({by})"
    return f"| {name} | " + " | ".join(cell(c) for c in columns) + " |"


def exact_channels(eng: SearchEngine) -> None:
    """Search the channels searched for candidates exactly, as every release before the twenty-ninth session did
    (the A/B's "before"; the IVF structures are dropped from this process only)."""
    for name in SEARCHED_CHANNELS:
        vecs = eng.index.channels.get(name)
        if vecs is not None:
            vecs.kind, vecs._ann = "flat", None


def agreement(eng: SearchEngine, other: SearchEngine, n: int = 60, seed: int = 0) -> dict[str, float]:
    """Share of the top 10 that ``eng`` and ``other`` agree on, over ``n`` products' titles and first photos."""
    rng = random.Random(seed)
    ids = rng.sample([p for p in eng.index.table.ids if p in eng.index.table.row_of], n)
    products = eng.catalog.get_many(ids)
    out = {}
    for kind in ("text", "photo"):
        shares = []
        for pid in ids:
            p = products[pid]
            q = Query(text=p.title) if kind == "text" else Query(image=open_image(p.images[0]))
            a = {r.product.id for r in eng.search(q).results}
            b = {r.product.id for r in other.search(q).results}
            shares.append(len(a & b) / max(1, len(b)))
        out[kind] = float(np.mean(shares))
    return out


def build_figures(folder: Path, chunk: int) -> dict:
    """Run in a fresh interpreter: ``SearchEngine.build`` over ``folder`` (its feature cache holds every photo's
    tower passes: the copies share their source's files) with ``product_vectors.CHUNK`` = ``chunk``. Peak memory
    two ways: resident (VmHWM: counts the pages of files the build maps, which the kernel can write back and drop)
    and anonymous (RssAnon, sampled every 20 ms: memory only this process's own, what runs a machine out)."""
    from engine import product_vectors
    from engine.encoders.bundle import ModelBundle

    from .proc_status import PeakAnon, status_kb

    product_vectors.CHUNK = chunk
    cfg = EngineConfig(data_dir=str(folder))
    with PeakAnon() as peak:
        t = time.perf_counter()
        eng = SearchEngine.build(cfg, ModelBundle.load(folder / "bundle"))
        seconds = time.perf_counter() - t
    return {"products": len(eng.index), "build_s": round(seconds, 1), "peak_rss_mb": status_kb("VmHWM") // 1024,
            "peak_anon_mb": peak.mb}


def build_bench(src: Path, dest: Path, chunks: list[int]) -> None:
    """Time and peak memory of a full build of ``dest`` (grown from ``src``) at each product chunk size."""
    import json
    import subprocess

    if (src / "features.db").exists() and not (dest / "features.db").exists():
        shutil.copy(src / "features.db", dest / "features.db")
        chunks = [chunks[0], *chunks]  # the first build fills in the tower passes the source's cache lacks: not timed
        print("(the first build below warms the copied feature cache)", flush=True)
    for chunk in chunks:
        code = (f"import json; from pathlib import Path; from eval.engine_scale_bench import build_figures; "
                f"print(json.dumps(build_figures(Path({str(dest)!r}), {chunk})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(f"full build, {chunk:,} products a chunk, failed:\n{out.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        print(f"full build, {chunk:,} products a chunk: {json.loads(out.stdout.strip().splitlines()[-1])}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("shopsight-data"))
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--folder", type=Path, default=Path("out/engine_scale"))
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--distinct", type=int, metavar="N",
                    help="instead: open the large folder, warm it, wait for its read into the page cache, then search "
                         "N distinct titles and N distinct photos once each (drop the page cache first for a cold start)")
    ap.add_argument("--no-exact", action="store_true",
                    help="skip the large folder with its channels searched exactly (and the agreement with it)")
    ap.add_argument("--build", type=int, nargs="*", metavar="CHUNK",
                    help="instead of queries: time a full index build of the grown folder (peak memory) with each "
                         "product chunk size (default: the engine's, then the whole catalogue in one chunk, as before)")
    args = ap.parse_args(argv)
    dest = args.folder / str(args.products)
    if args.rebuild or not ((dest / "index" / "CURRENT").exists() or (dest / "grown.txt").exists()):
        t = time.perf_counter()
        grow(args.data_dir, dest, args.products, vectors=args.build is None)
        print(f"grew {args.data_dir} to {args.products:,} products in {dest} ({time.perf_counter() - t:.0f} s)", flush=True)
    if args.build is not None:
        from engine import product_vectors

        build_bench(args.data_dir, dest, args.build or [product_vectors.CHUNK, args.products + 1])
        return 0
    if not (dest / "index" / "CURRENT").exists():  # grown for --build, never built: the index a full build writes
        from engine.encoders.bundle import ModelBundle

        t = time.perf_counter()
        SearchEngine.build(EngineConfig(data_dir=str(dest)), ModelBundle.load(dest / "bundle"))
        print(f"built the index of {dest} ({time.perf_counter() - t:.0f} s)", flush=True)
    if args.distinct:
        t = time.perf_counter()
        eng = SearchEngine.open(EngineConfig(data_dir=str(dest)))
        eng.warm()
        opened = time.perf_counter() - t
        settled = _settle(eng)
        res = distinct(eng, args.data_dir, args.distinct)
        print(f"{len(eng.index):,} products: opened and warmed in {opened:.1f} s, read into the page cache "
              f"{settled:.1f} s later", flush=True)
        print(f"\n| query ({args.distinct} distinct each, once, one thread) | ms p50 / p99 (p50 by stage) |\n|---|---|")
        for name, r in res.items():
            print(_row(name, [r]) + f" max {max(r[0]):.1f}")
        return 0
    results, engines = {}, {}
    runs = [("small", args.data_dir), ("large, channels exact", dest), ("large", dest)]
    for label, folder in [r for r in runs if not (args.no_exact and r[0] == "large, channels exact")]:
        t = time.perf_counter()
        eng = engines[label] = SearchEngine.open(EngineConfig(data_dir=str(folder)))
        opened = time.perf_counter() - t
        if label == "large, channels exact":
            exact_channels(eng)
        results[label] = run(eng, args.repeats)
        kinds = {n: eng.index.channels[n].kind for n in SEARCHED_CHANNELS if n in eng.index.channels}
        print(f"{label}: {len(eng.index):,} products, opened in {opened:.2f} s, searched channels {kinds}", flush=True)
    print(f"\n| query ({args.repeats} each, one thread, warm) | ms p50 / p99 (p50 by stage): " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in results["small"]:
        print(_row(name, [results[label][name] for label in results]))
    if "large, channels exact" in engines:
        same = agreement(engines["large"], engines["large, channels exact"])
        print(f"\ntop 10 shared with the exact channels' top 10 (60 products' titles / first photos): "
              f"text {same['text']:.3f}, photo {same['photo']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
