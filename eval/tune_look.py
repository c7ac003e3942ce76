"""How much the colour histogram counts in a look vector, tuned on one half of the queries and
reported on the other.

    python -m eval.tune_look [--out reports/tune] [--bundle PATH] [--train N]

A look vector is a photo's tower features (1,280 CNN dimensions + 72 colour-histogram ones)
standardised with the catalogue's statistics. Before, the whole vector was L2-normalised (the colour
block then weighs about 5 % on average, far more for a photo with a rare colour bin); with
``IndexConfig.look_colour_weight`` w the standardised CNN block and the square-rooted colour histogram
are each made unit length and the colour block weighted by w (``Embedder.looks``). Tasks: the two photo tasks of ``eval.tune_fusion`` (fashion photo →
same type + colour, P@10, 2,000 held-out products; luma photo → product from another view, R@1),
queries split in two halves by a seeded permutation of their products. For every weight the engine
is rebuilt (features come from the cache) and run through ``SearchEngine.search`` on the tuning
halves; the weight with the best mean of the two metrics is reported on the held-out halves next to
the old one-block look ("none") and the classic baseline. Writes <out>/tune_look.json.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig
from engine.encoders.embedder import Embedder

from . import datasets, runner
from .__main__ import tuning_setup
from .tune_fusion import PHOTO_TASKS, split_queries

GRID = (None, 0.0, 0.25, 0.5, 0.75, 1.0)  # None: the one-block look from before


def main(argv: list[str] | None = None) -> int:
    setup = tuning_setup(argv, __doc__)
    if setup is None:
        return 1
    args, out, cfg, bundle = setup
    cfg = replace(cfg, read_categories=False)  # photos only
    gallery, _ = datasets.fashion_split(args.gallery, args.train)
    tasks = [t for t in datasets.fashion_tasks(gallery) + datasets.luma_tasks() if t.name in PHOTO_TASKS]
    embedder = Embedder.for_config(bundle, cfg)
    result = {"grid": list(GRID), "tasks": {}}
    halves = {t.name: split_queries(t) for t in tasks}

    def run(task, weight: float | None, half: datasets.Task) -> float:
        folder = out / "work" / f"look-{task.name[:12].replace(' ', '_')}"
        engine_, _ = runner.build_engine(task, bundle, replace(cfg, index=replace(cfg.index, look_colour_weight=weight)),
                                         folder)
        scores, _ = runner.evaluate(runner.engine_rankings(engine_, half)[0], half)
        return round(scores[PHOTO_TASKS[task.name]], 4)

    for task in tasks:
        tune, test = halves[task.name]
        metric = PHOTO_TASKS[task.name]
        row = {"metric": metric, "tune_queries": len(tune.queries), "test_queries": len(test.queries), "tune": {}}
        for weight in GRID:
            row["tune"][str(weight)] = run(task, weight, tune)
            print(f"tune  {task.name:40s} weight={str(weight):<4} {metric} {row['tune'][str(weight)]:.4f}", flush=True)
        classic, _ = runner.evaluate(runner.feature_rankings(embedder, test, cnn_only=True), test)
        row["test_classic"] = round(classic[metric], 4)
        result["tasks"][task.name] = row
    mean = {str(s): float(np.mean([r["tune"][str(s)] for r in result["tasks"].values()])) for s in GRID}
    best = max(GRID, key=lambda s: mean[str(s)])
    result["tune_mean"], result["chosen"] = mean, best
    default = IndexConfig().look_colour_weight
    for task in tasks:
        row, (_, test) = result["tasks"][task.name], halves[task.name]
        row["test_one_block"], row["test_default"], row["test_chosen"] = (run(task, s, test) for s in (None, default, best))
        print(f"test  {task.name:40s} {row['metric']}: classic {row['test_classic']}  one block {row['test_one_block']}  "
              f"default {default} {row['test_default']}  chosen {best} {row['test_chosen']}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune_look.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
