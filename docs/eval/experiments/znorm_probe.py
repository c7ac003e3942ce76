"""Probe (twenty-fourth session): every part (z) or the three text-to-photo parts (visual, bridge, proto)
standardised per query over the whole catalogue before the fusion weights them, against the raw parts fused the
same way (= the engine where no filter applies); luma text tasks and newbee_zh zero-shot, the report's bundles.

    .venv/bin/python docs/eval/experiments/znorm_probe.py   (from the project root)
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine import fusion
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle
from engine.rerank import Candidates, rescore
from engine.trust import trust
from engine.types import Preferences, Query
from eval import datasets, runner
from eval.__main__ import eval_config

def run(task, bundle, cfg, folder):
    base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, base, folder)
    idx = eng.index
    rows = np.flatnonzero(idx.table.alive)
    ids = idx.table.ids
    out = {"engine": [], "raw": [], "z": [], "z text parts": []}
    for q in task.queries:
        r = eng.search(Query(text=q.text, k=10))
        out["engine"].append([x.product.id for x in r.results])
        qv = eng.query_vectors(Query(text=q.text, k=10))
        c = rescore(idx, rows, qv)
        t = trust(idx.shared_fit, base.fusion, qv, None)
        for name in ("raw", "z", "z text parts"):
            parts = dict(c.parts)
            if name != "raw":
                for p in parts:
                    if name == "z" or p in ("visual", "bridge", "proto"):
                        v = parts[p]; parts[p] = ((v - v.mean()) / (v.std() + 1e-6)).astype(np.float32)
            f = fusion.fuse(Candidates(c.rows, c.scores, parts), idx.table, Preferences(), base.fusion, None, None, t)
            top = f.rows[np.argsort(-f.scores, kind="stable")[:10]]
            out[name].append([ids[i] for i in top])
    for name, r in out.items():
        s, _ = runner.evaluate(r, task)
        print(task.name[:36], name, {k: round(v, 3) for k, v in s.items() if k in ("R@1", "R@10", "P@10")}, flush=True)

cfg = eval_config(Path("out/probes/znorm"), "out/cold24/features.db")
b = ModelBundle.load(Path("reports/full_cold24/bundle"))
for t in [t for t in datasets.luma_tasks() if t.kind == "text"]:
    run(t, b, cfg, Path("out/probes/znorm") / t.name[:8].replace(" ", "_"))
cfg5 = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
run(datasets.newbee_tasks()[0], ModelBundle.load(Path("reports/full_cold24/bundle-e5")), cfg5, Path("out/probes/znorm/nb"))
