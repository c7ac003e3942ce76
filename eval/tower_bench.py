"""Tower speed and quality: torch fp32 against the fast runtime (ONNX Runtime), one run, same machine.

    python -m eval.tower_bench [--photos 256] [--out out/towers]

Prints and writes <out>/tower_bench.json:
- image tower raw photos/s (prepared 224 px batches of 32, forward only) per runtime;
- ingestion photos/s end to end (decode + resize + tower, ``Embedder.image_features`` with no cache)
  with the fast runtime, and its ratio to that runtime's raw photos/s;
- text query encoding p50/p99 ms (one query at a time) per runtime;
- quality with the shipped default bundle, features from each runtime: luma photo -> product recall@1
  (other views against each product's main photo, look vectors) and fashion title -> photo recall@10
  over 2,000 products (shared space). Needs ../shared/data for the quality and ingestion parts.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder
from engine.engine import limit_blas_threads
from engine.images import open_image
from eval.datasets import DATA, fashion_split

RUNTIMES = ("torch", "onnx")


def raw_photos_per_s(tower, batch: np.ndarray, seconds: float = 8.0) -> float:
    tower.features(batch)  # warm-up
    done, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        tower.features(batch)
        done += len(batch)
    return done / (time.perf_counter() - t)


def text_latency(tower, queries: list[str]) -> dict:
    tower.encode(queries[:2], "query")
    ms = []
    for q in queries:
        t = time.perf_counter()
        tower.encode([q], "query")
        ms.append((time.perf_counter() - t) * 1e3)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def luma_recall_at_1(emb: Embedder) -> float:
    rows = list(csv.DictReader(open(DATA / "luma" / "products.csv", encoding="utf-8")))
    gallery, queries, owners = [], [], []
    for r in rows:
        imgs = [str(DATA / "luma" / p) for p in r["images"].split("|") if p]
        if imgs:
            gallery.append(imgs[0])
            queries += imgs[1:]
            owners += [len(gallery) - 1] * (len(imgs) - 1)
    looks = emb.looks(emb.image_features(gallery + queries, progress=True))
    g, q = looks[: len(gallery)], looks[len(gallery):]
    return float((np.argmax(q @ g.T, axis=1) == np.asarray(owners)).mean())


def fashion_recall_at_10(emb: Embedder, n: int = 2000) -> float:
    gallery, _ = fashion_split(n, 0)
    photos = emb.embed_image_files([str(DATA / "fashion" / r["image"]) for r in gallery], progress=True)["shared"]
    texts = emb.embed_texts([r["title"] for r in gallery], "query")
    top = np.argsort(-(texts @ photos.T), axis=1)[:, :10]
    return float((top == np.arange(n)[:, None]).any(axis=1).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=256, help="photos decoded for the ingestion figure")
    ap.add_argument("--out", default="out/towers")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args(argv)
    limit_blas_threads()
    bundle = ModelBundle.load(default_bundle_path())
    have_data = (DATA / "fashion").exists()
    paths = []
    if have_data:
        rows = list(csv.DictReader(open(DATA / "fashion" / "products.csv", encoding="utf-8")))[: args.photos]
        paths = [str(DATA / "fashion" / r["image"]) for r in rows]
    queries = [r["title"] for r in rows[:200]] if have_data else [f"blue shirt {i}" for i in range(200)]
    res: dict = {}
    for runtime in RUNTIMES:
        emb = Embedder(bundle, None, "cpu", 32, runtime=runtime)
        tower = emb.image_tower
        if have_data:
            batch = tower.prepare([open_image(p) for p in paths[:32]])
        else:
            batch = np.random.default_rng(0).integers(0, 256, (32, 224, 224, 3)).astype(np.uint8)
        r = {"image_runtime": tower.use_runtime(runtime), "text_runtime": emb.text_tower.use_runtime(runtime),
             "raw_photos_per_s": round(raw_photos_per_s(tower, batch), 1),
             "text_query": text_latency(emb.text_tower, queries)}
        if paths:
            t = time.perf_counter()
            emb.image_features(paths)
            r["ingest_photos_per_s"] = round(len(paths) / (time.perf_counter() - t), 1)
            r["ingest_ratio_to_raw"] = round(r["ingest_photos_per_s"] / r["raw_photos_per_s"], 3)
        if have_data and not args.skip_quality:
            r["luma_photo_to_product_r@1"] = round(luma_recall_at_1(emb), 4)
            r["fashion_title_to_photo_r@10"] = round(fashion_recall_at_10(emb), 4)
        res[runtime] = r
        print(runtime, json.dumps(r), flush=True)
    res["speedup_photos"] = round(res["onnx"]["raw_photos_per_s"] / res["torch"]["raw_photos_per_s"], 2)
    res["speedup_text_p50"] = round(res["torch"]["text_query"]["p50_ms"] / res["onnx"]["text_query"]["p50_ms"], 2)
    print(f"onnx vs torch: photos/s x{res['speedup_photos']}, text query p50 x{res['speedup_text_p50']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tower_bench.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
