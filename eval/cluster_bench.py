"""Photo tower throughput in one process against Dask clusters, on real photos.

    python -m eval.cluster_bench [--workers 1 2] [--photos 733] [--repeat 2]

The luma photos (up to 800 px, so decoding counts as it does in a real shop) are embedded with the
default image tower and no feature cache: once in this process, then on a LocalCluster of each
``--workers`` size (cluster start-up and tower loading excluded: a warm-up chunk runs first). Prints
photos/s per set-up and the largest difference from the in-process features. On one machine a
cluster can only add overhead (the in-process path already uses every core); the figure that matters
is that overhead, since more machines add workers.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.cluster import ClusterTowers
from engine.config import EngineConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder

from . import datasets


def _rate(embedder: Embedder, paths: list[str], repeat: int) -> tuple[float, np.ndarray]:
    embedder.image_features(paths[:64])  # warm-up: towers loaded (on every worker), runtime ready
    best, feats = 0.0, None
    for _ in range(repeat):
        t = time.perf_counter()
        feats = embedder.image_features(paths)
        best = max(best, len(paths) / (time.perf_counter() - t))
    return best, feats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--photos", type=int, default=733)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 1
    paths = [p for prod in datasets.luma_tasks()[0].products for p in prod.images]
    paths += [q.image for q in datasets.luma_tasks()[0].queries]
    paths = paths[: args.photos]
    cfg = EngineConfig()
    bundle = ModelBundle.load(default_bundle_path())
    local = Embedder(bundle, None, cfg.device, cfg.batch_size, runtime=cfg.runtime)
    rate, expected = _rate(local, paths, args.repeat)
    print(f"in-process ({local.runtimes.get('image')}): {rate:.1f} photos/s on {len(paths)} photos", flush=True)
    for n in args.workers:
        towers = ClusterTowers(f"local:{n}")
        spread = Embedder(bundle, None, cfg.device, cfg.batch_size, runtime=cfg.runtime)
        spread.cluster = towers
        try:
            rate_n, feats = _rate(spread, paths, args.repeat)
        finally:
            towers.close()
        diff = float(np.abs(feats - expected).max())
        print(f"local:{n} ({n} worker processes, 1 thread each): {rate_n:.1f} photos/s "
              f"({rate_n / rate:.2f}x in-process), max |difference| {diff:.2e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
