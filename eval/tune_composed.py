"""Weights of the photo + text ("this, but in <colour>") parts, tuned on one half of the queries and
reported on the other.

    python -m eval.tune_composed [--out reports/tune] [--bundle reports/tune/bundle]

Tasks: the two luma photo + colour word tasks (index = one photo per product and colour; query = the
photo of one variant, the indexed one or another view of it, plus another colour's name; relevant =
that colour's variant), with the anchor (engine/anchor.py) as configured. A photo + text query is scored with
``w_visual·visual + w_shape·shape + w_text_photo·text_photo + ...`` (``engine/fusion.py``): ``visual``
compares the combined query vector with the photos, ``shape`` the query photo's look without its colour
block, ``text_photo`` the words alone. Queries are split in two halves by the *products* they belong to
(``tune_fusion.split_queries``); every grid point of ``w_shape`` x ``w_text_photo`` runs through
``SearchEngine.search`` on the tuning halves; the best by the mean over both tasks of (hit@3 + MRR) / 2
is reported on the held-out halves next to the old formula (w_shape = w_text_photo = 0) and the current
defaults. ``w_visual`` stays as configured: it also weighs photo-only queries (``eval.tune_fusion``).
Why not hit@3 alone: most products have two or three colours, so ranking the product's own variants first (the query's own variant included) nearly
saturates hit@3 whatever the colour order (w_shape alone: 0.89 on the tuning half); MRR measures
whether the *named* colour comes first. Writes <out>/tune_composed.json.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import replace

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import FusionConfig

from . import datasets, runner
from .__main__ import tuning_setup
from .tune_fusion import split_queries

GRID = {"w_shape": (0.0, 0.25, 0.5, 1.0), "w_text_photo": (0.0, 0.5, 1.0, 2.0, 4.0)}


def main(argv: list[str] | None = None) -> int:
    setup = tuning_setup(argv, __doc__)
    if setup is None:
        return 1
    _, out, cfg, bundle = setup
    halves = {}
    for task in (t for t in datasets.luma_tasks() if t.kind == "photo+text"):
        engine_, _ = runner.build_engine(task, bundle, cfg, out / "work" / task.name[:12].replace(" ", "_"))
        halves[task.name] = (engine_, *split_queries(task))

    def score(fusions: dict[str, FusionConfig], which: int) -> dict[str, dict[str, dict[str, float]]]:
        """label -> task -> metrics on half ``which``: each query photo decoded once and searched with
        every fusion in turn (``runner.variant_rankings``)."""
        out_ = {label: {} for label in fusions}
        variants = {label: replace(cfg, fusion=fusion) for label, fusion in fusions.items()}
        for name, (engine_, *parts) in halves.items():
            for label, (rankings, _) in runner.variant_rankings(engine_, parts[which], variants).items():
                metrics, _ = runner.evaluate(rankings, parts[which])
                out_[label][name] = {k: round(metrics[k], 4) for k in ("R@1", "hit@3", "MRR", "R@10")}
        return out_

    def objective(scores: dict[str, dict[str, float]]) -> float:
        return sum((m["hit@3"] + m["MRR"]) / 2 for m in scores.values()) / len(scores)

    points = list(itertools.product(*GRID.values()))
    tuned = score({str(values): replace(cfg.fusion, **dict(zip(GRID, values))) for values in points}, 0)
    grid = []
    for values in points:
        grid.append({**dict(zip(GRID, values)), "objective": round(objective(tuned[str(values)]), 4),
                     "tasks": tuned[str(values)]})
        print("tune", {k: grid[-1][k] for k in (*GRID, "objective")}, flush=True)
    best = max(grid, key=lambda g: g["objective"])
    chosen = replace(cfg.fusion, **{k: best[k] for k in GRID})
    result = {"tasks": {name: {"tune_queries": len(t.queries), "test_queries": len(h.queries)}
                        for name, (_, t, h) in halves.items()},
              "grid": grid, "chosen": {k: best[k] for k in GRID}, "test": {}}
    result["test"] = score({"before (w_shape = w_text_photo = 0)": replace(cfg.fusion, w_shape=0.0, w_text_photo=0.0),
                            "defaults": FusionConfig(), "chosen on the tuning half": chosen}, 1)
    for label, scores in result["test"].items():
        print(f"test  {label:38s} {scores}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune_composed.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
