"""Probe: for photo + colour word queries, should the colour part count only for candidates shaped like the photo?

With colour words, luma "this, but in <colour>" R@1 rose 0.374 -> 0.572 while hit@3 fell 0.893 -> 0.854:
a differently shaped product of a typical colour sometimes passes the right variant. Variants scored
from each candidate's parts (engine "why"): the current sum (w x trust x colour), and the colour part
gated by the shape similarity (colour x relu((shape - s0) / (1 - s0))). Gate and weight chosen on one
half of the queries (by product), reported on the other.

    .venv/bin/python docs/eval/experiments/colour_gate_probe.py [bundle folder or "default"]
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.images import open_image
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
from eval.tune_fusion import split_queries

out = Path("out/colour_gate_probe")
cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
task = next(t for t in datasets.luma_tasks() if t.kind == "photo+text")
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
trust = 1 - eng.index.shared_fit
w0 = photos_only.fusion.w_colour * trust
cands = {}
for q in task.queries:
    res = eng.search(Query(image=open_image(q.image), text=q.text, k=60))
    cands[id(q)] = [(r.product.id, r.score - w0 * r.why.get("colour", 0.0), r.why.get("colour", 0.0), r.why["shape"])
                    for r in res.results]


def measure(part, w, s0):
    r1, h3 = [], []
    for q in part.queries:
        def score(c):
            gate = 1.0 if s0 is None else max(0.0, (c[3] - s0) / (1 - s0))
            return c[1] + w * c[2] * gate
        ranked = [c[0] for c in sorted(cands[id(q)], key=lambda c: -score(c))]
        r1.append(ranked[0] in q.relevant)
        h3.append(any(p in q.relevant for p in ranked[:3]))
    return float(np.mean(r1)), float(np.mean(h3))


tune, test = split_queries(task)
print(f"trust {trust:.2f}; current w x trust = {w0:.2f}")
grid = [(w, s0) for w in (0.0, 0.4, 0.8, 1.2, 1.6, 2.4) for s0 in (None, 0.0, 0.3, 0.5, 0.7)]
rows = {g: measure(tune, *g) for g in grid}
for g, (r1, h3) in rows.items():
    print(f"tune w {g[0]} gate {g[1]}: R@1 {r1:.3f} hit@3 {h3:.3f} MRR-ish {(r1 + h3) / 2:.3f}")
best = max(grid, key=lambda g: sum(rows[g]))
print(f"chosen on the tune half by R@1 + hit@3: w {best[0]} gate {best[1]}")
for label, g in (("no colour", (0.0, None)), ("current", (w0, None)), ("chosen", best)):
    r1, h3 = measure(test, *g)
    print(f"report half, {label} (w {g[0]:.2f}, gate {g[1]}): R@1 {r1:.3f} hit@3 {h3:.3f}")
