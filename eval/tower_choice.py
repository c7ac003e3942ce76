"""Which CNN tower finds the same product from another view? EfficientNet-Lite0 against Lite2.

    python -m eval.tower_choice

luma photo → product (index = each product's main photo; queries = its other photos), classic cosine
k-NN on each tower's pooled ImageNet features (no colour block, no training), raw and standardised
with the gallery's own statistics. Prints R@1 / R@10 and the seconds each tower took for all photos.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import ImageTowerSpec
from engine.encoders import build_image_tower
from engine.images import open_image

from . import datasets

TOWERS = (("efficientnet-lite0", 224), ("efficientnet-lite2", 260))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _recalls(task: datasets.Task, gallery: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    ids = [p.id for p in task.products]
    top = np.argsort(-(queries @ gallery.T), axis=1)[:, :10]
    hits = [[ids[j] in q.relevant for j in row] for q, row in zip(task.queries, top)]
    return float(np.mean([h[0] for h in hits])), float(np.mean([any(h) for h in hits]))


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    if datasets.data_missing():
        return 1
    task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
    for name, size in TOWERS:
        tower = build_image_tower(ImageTowerSpec(name=name, image_size=size, colour_bins=0), "cpu")

        def features(paths: list[str]) -> np.ndarray:
            return np.concatenate([tower.features(tower.prepare([open_image(p) for p in paths[i:i + 16]]))
                                   for i in range(0, len(paths), 16)])

        t = time.perf_counter()
        gallery = features([p.images[0] for p in task.products])
        queries = features([q.image for q in task.queries])
        seconds = time.perf_counter() - t
        raw = _recalls(task, _unit(gallery), _unit(queries))
        mean, std = gallery.mean(0), gallery.std(0) + 1e-3
        std_ = _recalls(task, _unit((gallery - mean) / std), _unit((queries - mean) / std))
        print(f"{name} ({size}px): {len(gallery) + len(queries)} photos in {seconds:.0f} s; R@1 / R@10 raw "
              f"{raw[0]:.3f} / {raw[1]:.3f}, standardised {std_[0]:.3f} / {std_[1]:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
