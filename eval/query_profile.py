"""Time (and profile) photo + colour-word queries on the luma colour-variant catalogue.

    python -m eval.query_profile --bundle reports/tune/bundle [--queries 60] [--profile]

Builds the luma variant catalogue with the given bundle (features from the cache), warms up, then
prints ms per ``SearchEngine.search`` and the last response's timings; ``--profile`` adds a cProfile
listing. Used to find that ONNX Runtime's spinning threads slowed the torch heads (docs/figures.md "Towers").
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.images import open_image
from engine.types import Query

from . import datasets, runner
from .__main__ import eval_config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="default")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--out", default="out/query-profile")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 1
    cfg = eval_config(Path(args.out), args.cache)
    task = next(t for t in datasets.luma_tasks() if t.kind == "photo+text")
    engine_, _ = runner.build_engine(task, ModelBundle.load(resolve_bundle_path(args.bundle)), cfg,
                                     Path(args.out) / "work")
    queries = [Query(image=open_image(q.image), text=q.text, k=20) for q in task.queries[: args.queries]]
    for q in queries[:5]:
        engine_.search(q)
    t = time.perf_counter()
    for q in queries:
        last = engine_.search(q)
    print(f"{(time.perf_counter() - t) / len(queries) * 1e3:.1f} ms a photo + text query; last timings "
          f"{ {k: round(v, 2) for k, v in last.timings_ms.items()} }")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(lambda: [engine_.search(q) for q in queries])
        pstats.Stats(prof).sort_stats("cumtime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
