"""Indexing cost of a photo channel: index builds with and without it.

    python -m eval.ingest_bench [--rounds 4] [--channel bridge|cells|palette]

The luma listings (408 photos up to 800 px; one main photo per product and colour) are indexed with
the packaged default bundle from an empty feature cache, alternately with the channel on and off;
the first round is a warm-up. ``bridge`` (the default): ``IndexConfig.prototypes`` (every photo larger
than the vocabulary's 112 px takes a second tower pass); ``cells``: ``IndexConfig.cells`` (the last
block's cells from the same pass, int8, ``encoders/cells.py``); ``palette``: ``IndexConfig.palettes``
(each decoded photo's palette, ``encoders/palette.py``, computed in the loading threads). Prints photos/s (median) for each and
their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import EngineConfig, IndexConfig
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.engine import SearchEngine

from . import datasets


def build_seconds(products, cfg: EngineConfig, bundle: ModelBundle) -> float:
    folder = Path(tempfile.mkdtemp(prefix="shopsight-ingest-"))
    try:
        catalog = Catalog(folder / "catalog.db")
        catalog.upsert(products)
        catalog.close()
        t = time.perf_counter()
        SearchEngine.build(replace(cfg, data_dir=str(folder)), bundle)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--channel", choices=("bridge", "cells", "palette"), default="bridge")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        print("../shared/data is missing", file=sys.stderr)
        return 1
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    products = next(t for t in datasets.luma_tasks() if t.kind == "photo+text").products
    label = {"bridge": "the catalogue bridge", "cells": "cells", "palette": "palettes"}[args.channel]
    off = {"bridge": IndexConfig(prototypes=False), "cells": IndexConfig(cells=False),
           "palette": IndexConfig(palettes=False)}[args.channel]
    variants = {f"with {label}": EngineConfig(), "without": EngineConfig(index=off)}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(args.rounds):
        for name in (list(variants) if r % 2 else list(variants)[::-1]):
            times[name].append(build_seconds(products, variants[name], bundle))
    rate = {name: len(products) / float(np.median(t[1:])) for name, t in times.items()}
    print(f"index build of {len(products)} luma photos from an empty feature cache, median of {args.rounds - 1} "
          f"rounds after a warm-up: {rate['without']:.1f} photos/s without {label}, "
          f"{rate[f'with {label}']:.1f} with (ratio {rate[f'with {label}'] / rate['without']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
