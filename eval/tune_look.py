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
halves, jointly with ``fusion.w_look`` (how much the look counts beside the shared space: the better the
look, the more it may count); the pair with the best mean of the two metrics is reported on the
held-out halves next to the old one-block look (None) and the classic baseline. Writes <out>/tune_look.json.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import FusionConfig, IndexConfig
from engine.encoders.embedder import Embedder

from . import datasets, runner
from .__main__ import tuning_setup
from .tune_fusion import PHOTO_TASKS, fusion_for, split_queries

COLOUR_WEIGHTS = (None, 0.0, 0.25, 0.5, 0.75, 1.0)  # None: the one-block look from before
W_LOOK = (1.0, 2.0, float("inf"))  # fusion.w_look beside w_visual = 1 (inf: look only), as in eval.tune_fusion


def main(argv: list[str] | None = None) -> int:
    setup = tuning_setup(argv, __doc__)
    if setup is None:
        return 1
    args, out, cfg, bundle = setup
    cfg = replace(cfg, read_categories=False)  # photos only
    gallery, _ = datasets.fashion_split(args.gallery, args.train)
    tasks = [t for t in datasets.fashion_tasks(gallery) + datasets.luma_tasks() if t.name in PHOTO_TASKS]
    embedder = Embedder.for_config(bundle, cfg)
    grid = [(c, w) for c in COLOUR_WEIGHTS for w in W_LOOK]
    result = {"grid": [f"{c}/{w}" for c, w in grid], "tasks": {}}
    halves = {t.name: split_queries(t) for t in tasks}

    def run(task, points: list[tuple[float | None, float]], half: datasets.Task) -> dict[str, float]:
        """The task's main metric on ``half`` at each (colour weight, w_look) point; one build per colour weight."""
        folder = out / "work" / f"look-{task.name[:12].replace(' ', '_')}"
        scores = {}
        for colour in dict.fromkeys(c for c, _ in points):
            engine_, _ = runner.build_engine(task, bundle, replace(cfg, index=replace(cfg.index, look_colour_weight=colour)),
                                             folder)
            variants = {f"{c}/{w}": replace(cfg, fusion=fusion_for("w_look", w, cfg.fusion)) for c, w in points
                        if c == colour}  # each query photo decoded once for all of them
            for point, (rankings, _) in runner.variant_rankings(engine_, half, variants).items():
                metrics, _ = runner.evaluate(rankings, half)
                scores[point] = round(metrics[PHOTO_TASKS[task.name]], 4)
        return scores

    for task in tasks:
        tune, test = halves[task.name]
        metric = PHOTO_TASKS[task.name]
        row = {"metric": metric, "tune_queries": len(tune.queries), "test_queries": len(test.queries)}
        row["tune"] = run(task, grid, tune)
        for point, value in row["tune"].items():
            print(f"tune  {task.name:40s} colour/w_look={point:<10} {metric} {value:.4f}", flush=True)
        classic, _ = runner.evaluate(runner.feature_rankings(embedder, test), test)
        row["test_classic"] = round(classic[metric], 4)
        result["tasks"][task.name] = row
    mean = {f"{c}/{w}": float(np.mean([r["tune"][f"{c}/{w}"] for r in result["tasks"].values()])) for c, w in grid}
    best = max(grid, key=lambda g: mean[f"{g[0]}/{g[1]}"])
    before = (None, FusionConfig().w_look)
    default = (IndexConfig().look_colour_weight, FusionConfig().w_look)
    result["tune_mean"], result["chosen"], result["default"] = mean, f"{best[0]}/{best[1]}", f"{default[0]}/{default[1]}"
    for task in tasks:
        row, (_, test) = result["tasks"][task.name], halves[task.name]
        row["test"] = run(task, list(dict.fromkeys([before, default, best])), test)
        print(f"test  {task.name:40s} {row['metric']}: classic {row['test_classic']}  " + "  ".join(
            f"{label} {c}/{w} {row['test'][f'{c}/{w}']}" for label, (c, w) in
            (("before", before), ("default", default), ("chosen", best))), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune_look.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
