"""Probe: smoothing text-query scores over the catalogue's own look-neighbour graph.

On a catalogue the shared space does not fit (luma), a name query's score for each photo is noisy; photos
of one kind of product are neighbours in the look space (frozen CNN + colour, standardised by the shop's
own statistics). Each product's score becomes (1 - a) x its own + a x the mean of its k nearest look
neighbours' (scores standardised per query). a and k are chosen on one half of the queries (by
product) and reported on the other.

    .venv/bin/python docs/eval/experiments/score_smoothing_probe.py [bundle folder or "default"]
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
from eval.tune_fusion import split_queries

out = Path("out/smoothing_probe")
cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))

for task in datasets.luma_tasks():
    if task.kind != "text":
        continue
    eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
    ids = [p.id for p in task.products]
    row_of = eng.index.table.row_of
    looks = eng.index.looks
    first = {}
    for vrow, owner in enumerate(looks.owner):
        first.setdefault(int(owner), vrow)
    L = np.stack([looks.vectors[first[row_of[i]]] for i in ids])
    S = L @ L.T
    np.fill_diagonal(S, -np.inf)
    order = np.argsort(-S, axis=1)
    scores = np.zeros((len(task.queries), len(ids)), np.float32)
    for qi, q in enumerate(task.queries):
        res = eng.search(Query(text=q.text, k=len(ids)))
        got = {r.product.id: r.score for r in res.results}
        floor = min(got.values()) if got else 0.0
        scores[qi] = [got.get(i, floor) for i in ids]
    z = (scores - scores.mean(1, keepdims=True)) / np.maximum(scores.std(1, keepdims=True), 1e-9)
    tune, test = split_queries(task)
    index_of = {id(q): i for i, q in enumerate(task.queries)}
    single = all(len(q.relevant) == 1 for q in task.queries)
    metric = "R@10" if single else "P@10"

    def measure(a, k, part):
        rows = [index_of[id(q)] for q in part.queries]
        s = (1 - a) * z[rows] + a * z[rows][:, order[:, :k]].mean(2) if a > 0 else z[rows]
        rankings = [[ids[j] for j in np.argsort(-s[i])[:20]] for i in range(len(rows))]
        return runner.evaluate(rankings, part)[0][metric]

    grid = [(a, k) for a in (0.0, 0.25, 0.5, 0.75) for k in (3, 5, 10)]
    tuned = {g: measure(*g, tune) for g in grid}
    best = max(grid, key=lambda g: (tuned[g], -g[0]))
    print(f"{task.name}: {metric} tune half a=0 {tuned[(0.0, 3)]:.3f}, best a={best[0]} k={best[1]} {tuned[best]:.3f};"
          f" report half a=0 {measure(0.0, 3, test):.3f} -> {measure(*best, test):.3f};"
          f" grid " + " ".join(f"{a}/{k}:{v:.3f}" for (a, k), v in tuned.items()), flush=True)
