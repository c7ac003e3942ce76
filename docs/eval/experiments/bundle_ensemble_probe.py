"""Probe: the two packaged bundles (MiniLM, e5) on luma names, photos only, and their rankings fused (RRF)."""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle, default_bundle_path
from eval import datasets, runner
from eval.__main__ import eval_config
from eval.tune_fusion import split_queries
cfg = eval_config(Path("out/probes/s25ens"), "out/cold25/features.db")
task = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
rank = {}
for name, spec in (("default", TextTowerSpec()), ("default-e5", TextTowerSpec(kind="e5", name="original"))):
    c = replace(cfg, text_tower=spec, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, ModelBundle.load(default_bundle_path(name)), c, Path(f"out/probes/s25ens/{name}"))
    rank[name] = runner.variant_rankings(eng, task, {"ours": c}, k=50)["ours"][0]
def hit(r, q): return float(bool(set(r[:10]) & set(q.relevant)))
def rrf(a, b, k=60, wb=1.0):
    s = {}
    for i, x in enumerate(a): s[x] = s.get(x, 0) + 1 / (k + i)
    for i, x in enumerate(b): s[x] = s.get(x, 0) + wb / (k + i)
    return sorted(s, key=lambda x: -s[x])
qs = task.queries
for name in rank:
    print(name, round(np.mean([hit(r, q) for r, q in zip(rank[name], qs)]), 3))
for k in (10, 60):
    for wb in (0.5, 1.0):
        fused = [rrf(a, b, k, wb) for a, b in zip(rank["default"], rank["default-e5"])]
        print(f"rrf k={k} w_e5={wb}", round(np.mean([hit(r, q) for r, q in zip(fused, qs)]), 3))
