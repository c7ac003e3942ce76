"""What the photo channels lose when searched through IVF lists instead of exactly, on real photos.

    python -m eval.channel_recall [--queries 500] [--k 10 100]

The shared-space (256-d), look (CNN features + colour histogram, 1,352-d) and zero-shot bridge (384-d) vectors of
the fashion set's 44,072 photos in the packaged bundle (tower features from ``out/cold26/features.db`` when an evaluation run left
them there, else the towers run), ``queries`` products held out as queries: their photos' looks search the
other photos' looks (a photo query's look channel), their titles search the photos in the shared space (a text
query's main channel) and, as text-tower vectors, the bridges (a text query's bridge channel). Each channel is indexed twice with the engine's own ``VectorIndex``: exact, and with
the index configuration's kind ("auto": IVF lists with 4-bit PQ shortlists rescored exactly, past 20,000
vectors), and the IVF result is compared with the exact one: recall@k of the exact top k for each ``--k`` (100
is the candidates a query fetches per channel), and ms per query, one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig
from engine.index.vectors import VectorIndex

CACHE = Path("out/cold26/features.db")


def vectors(n_queries: int, seed: int = 0) -> dict:
    from engine.encoders.bundle import ModelBundle, default_bundle_path
    from engine.encoders.embedder import Embedder
    from engine.features import FeatureCache
    from eval.datasets import DATA, fashion_rows

    emb = Embedder(ModelBundle.load(default_bundle_path()), FeatureCache(CACHE if CACHE.exists() else
                                                                          Path("out/channel_recall/features.db")))
    rows = fashion_rows()
    vecs = emb.embed_image_files([str(DATA / "fashion" / r["image"]) for r in rows], progress=True)
    held = np.random.default_rng(seed).permutation(len(rows))[:n_queries]
    rest = np.setdiff1d(np.arange(len(rows)), held)
    shared, raw = zip(*(emb.embed_query_text(rows[i]["title"]) for i in held))
    return {"shared": (vecs["shared"][rest], np.stack(shared)), "look": (vecs["look"][rest], vecs["look"][held]),
            "bridge": (vecs["bridge"][rest], np.stack(raw))}


def compare(base: np.ndarray, queries: np.ndarray, ks: list[int]) -> dict:
    cfg = IndexConfig(device="cpu")
    out = {}
    indexes = {}
    for label, kind in (("exact", "flat"), ("ivf", cfg.kind)):
        vi = VectorIndex(base.shape[1], replace(cfg, kind=kind))
        vi.add(base.astype(np.float32), np.arange(len(base)))
        t = time.perf_counter()
        vi.build()
        indexes[label] = vi
        out[f"{label}_build_s"] = round(time.perf_counter() - t, 2)
        out[f"{label}_kind"] = vi.kind
    k_max = max(ks)
    found = {}
    for label, vi in indexes.items():
        times, rows = [], []
        for q in queries.astype(np.float32):
            t = time.perf_counter()
            _, r = vi.search_ann(q[None, :], k_max, None, 1.0, live=True)
            times.append(time.perf_counter() - t)
            rows.append(r[0])
        found[label] = rows
        out[f"{label}_ms_p50"] = round(float(np.median(times)) * 1e3, 2)
    for k in ks:
        out[f"recall@{k}"] = round(float(np.mean([len(set(a[:k]) & set(b[:k])) / k
                                                  for a, b in zip(found["ivf"], found["exact"])])), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--k", type=int, nargs="+", default=[10, 100])
    args = ap.parse_args(argv)
    from eval.datasets import DATA

    if not (DATA / "fashion").exists():
        print(f"no fashion data at {DATA}: nothing to measure")
        return 0
    for name, (base, queries) in vectors(args.queries).items():
        print(f"{name} ({base.shape[1]}-d, {len(base):,} photos, {len(queries)} queries): {compare(base, queries, args.k)}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
