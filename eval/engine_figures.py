"""Issue 2 figures on real data with the real offline towers (EfficientNet-Lite0 + MiniLM).

    python -m eval.engine_figures [--out out/figures] [--fashion-train 6000] [--gallery 2000]

Prints and writes (JSON) :
- luma photo -> product recall@1: each product's other photos against an index of one main photo per
  product; frozen Lite0 cosine (the classic baseline) vs Lite0 + colour descriptor;
- fashion text -> photo recall@10 on 2,000 held-out products, heads trained on the others;
- ingestion photos/s end to end vs the image tower's raw forward photos/s (same machine, same run);
- query latency p50/p99 for text, photo and photo+text queries on the fashion catalogue.
Needs ../shared/data; exits with a message when it is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.embedder import Embedder
from engine.features import FeatureCache
from engine.images import open_image
from engine.train import PairData, heldout_recall, train_space
from eval.datasets import DATA, fashion_split

log = logging.getLogger("eval.engine_figures")


def luma_photo_to_product(embedder: Embedder) -> dict:
    rows = list(csv.DictReader(open(DATA / "luma" / "products.csv", encoding="utf-8")))
    gallery, queries, owners = [], [], []
    for i, r in enumerate(rows):
        imgs = [str(DATA / "luma" / p) for p in r["images"].split("|") if p]
        if not imgs:
            continue
        gallery.append(imgs[0])
        for q in imgs[1:]:
            queries.append(q)
            owners.append(len(gallery) - 1)
    feats = embedder.image_features(gallery + queries, progress=True)
    g, q = feats[: len(gallery)], feats[len(gallery):]
    owners = np.asarray(owners)
    cnn = 1280

    def r_at_1(gv, qv):
        gv = gv / np.linalg.norm(gv, axis=1, keepdims=True)
        qv = qv / np.linalg.norm(qv, axis=1, keepdims=True)
        return float((np.argmax(qv @ gv.T, axis=1) == owners).mean())

    mean, std = feats.mean(0), feats.std(0) + 1e-3
    out = {"queries": len(queries), "products": len(gallery),
           "frozen_lite0_cosine": r_at_1(g[:, :cnn], q[:, :cnn]),
           "lite0_standardised": r_at_1(((g - mean) / std)[:, :cnn], ((q - mean) / std)[:, :cnn])}
    for w in (0.5, 1.0, 2.0):
        cg = np.concatenate([(g[:, :cnn] - mean[:cnn]) / std[:cnn] / np.sqrt(cnn), w * g[:, cnn:]], 1)
        cq = np.concatenate([(q[:, :cnn] - mean[:cnn]) / std[:cnn] / np.sqrt(cnn), w * q[:, cnn:]], 1)
        out[f"lite0_plus_colour_w{w}"] = r_at_1(cg, cq)
    return out


def fashion_text_to_photo(embedder: Embedder, n_train: int, n_gallery: int) -> dict:
    gallery, train = fashion_split(n_gallery, n_train)
    rows = gallery + train
    paths = [str(DATA / "fashion" / r["image"]) for r in rows]
    img = embedder.image_features(paths, progress=True)
    titles = embedder.text_features([r["title"] for r in rows], "passage")
    n = len(rows)
    data = PairData(img, np.arange(n), titles, np.arange(n), np.arange(n), n)
    results = {"gallery": n_gallery, "train_pairs": n_train}
    for head in ("linear", "mlp"):
        bundle = ModelBundle.new(embedder.bundle.image_tower, embedder.bundle.text_tower,
                                 SpaceConfig(dim=256, head=head), img.shape[1], titles.shape[1])
        cfg = TrainConfig(epochs=30, holdout=0.0)
        train_only = PairData(img[n_gallery:], np.arange(n - n_gallery), titles[n_gallery:],
                              np.arange(n - n_gallery), np.arange(n - n_gallery), n - n_gallery)
        trained = train_space(bundle, train_only, cfg, progress=False)
        results[f"{head}_heads"] = heldout_recall(trained, data, np.arange(n_gallery))
    return results


def throughput(embedder: Embedder, n: int = 256) -> dict:
    """End-to-end photos/s (decode + resize + tower, no cache) vs the tower's raw forward photos/s."""
    rows = list(csv.DictReader(open(DATA / "fashion" / "products.csv", encoding="utf-8")))[:n]
    paths = [str(DATA / "fashion" / r["image"]) for r in rows]
    tower = embedder.image_tower
    batch = tower.prepare([open_image(p) for p in paths[: embedder.batch_size]])
    tower.features(batch)  # warm-up
    t = time.perf_counter()
    reps = max(1, n // len(batch))
    for _ in range(reps):
        tower.features(batch)
    raw = reps * len(batch) / (time.perf_counter() - t)
    uncached = Embedder(embedder.bundle, None, embedder.device, embedder.batch_size)
    uncached._image_tower = tower
    t = time.perf_counter()
    uncached.image_features(paths)
    e2e = len(paths) / (time.perf_counter() - t)
    return {"raw_tower_photos_per_s": raw, "end_to_end_photos_per_s": e2e, "ratio": e2e / raw}


def query_latency(out: Path, embedder: Embedder, n_products: int, n_queries: int = 100) -> dict:
    """Index ``n_products`` fashion products with the engine and time searches of each kind."""
    from engine.engine import SearchEngine
    from engine.ingest import PRESETS, import_file
    from engine.catalog import Catalog
    from engine.types import Query

    _, train = fashion_split(0, n_products)
    folder = out / "fashion-engine"
    folder.mkdir(parents=True, exist_ok=True)
    subset = folder / "products.csv"
    with open(subset, "w", newline="", encoding="utf-8") as fp:
        w = csv.DictWriter(fp, fieldnames=list(train[0]))
        w.writeheader()
        w.writerows(train)
    cfg = EngineConfig(data_dir=str(folder), space=SpaceConfig(dim=256, head="mlp"),
                       train=TrainConfig(epochs=20), feature_cache=str(out / "features.db"))
    import_file(Catalog(cfg.path / "catalog.db"), subset, replace(PRESETS["fashion"], image_root=str(DATA / "fashion")))
    from engine import workflow

    bundle = workflow.train(cfg, progress=False)
    engine = SearchEngine.build(cfg, bundle)
    rng = np.random.default_rng(1)
    picks = [train[i] for i in rng.choice(len(train), n_queries, replace=False)]
    photos = [open_image(DATA / "fashion" / r["image"]) for r in picks]
    kinds = {"text": [Query(text=r["title"], k=10) for r in picks],
             "photo": [Query(image=p, k=10) for p in photos],
             "photo+text": [Query(image=p, text=f"{r['base_colour']} {r['article_type']}", k=10)
                            for p, r in zip(photos, picks)]}
    res = {"products": len(engine.index)}
    for kind, queries in kinds.items():
        engine.search(queries[0])
        ms = [engine.search(q).timings_ms["total"] for q in queries]
        res[kind] = {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/figures")
    parser.add_argument("--fashion-train", type=int, default=6000)
    parser.add_argument("--gallery", type=int, default=2000)
    parser.add_argument("--latency-products", type=int, default=8000)
    parser.add_argument("--skip", nargs="*", default=[], help="luma fashion throughput latency")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not DATA.exists():
        print(f"no shared data at {DATA}; nothing to measure", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = EngineConfig(data_dir=str(out))
    from engine.workflow import new_bundle

    bundle, embedder = new_bundle(cfg)
    embedder.cache = FeatureCache(out / "features.db")
    figures = {}
    if "luma" not in args.skip:
        figures["luma_photo_to_product"] = luma_photo_to_product(embedder)
        print(json.dumps(figures["luma_photo_to_product"], indent=1), flush=True)
    if "fashion" not in args.skip:
        figures["fashion_text_to_photo"] = fashion_text_to_photo(embedder, args.fashion_train, args.gallery)
        print(json.dumps(figures["fashion_text_to_photo"], indent=1), flush=True)
    if "throughput" not in args.skip:
        figures["ingestion"] = throughput(embedder)
        print(json.dumps(figures["ingestion"], indent=1), flush=True)
    if "latency" not in args.skip:
        figures["latency"] = query_latency(out, embedder, args.latency_products)
        print(json.dumps(figures["latency"], indent=1), flush=True)
    (out / "engine_figures.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
