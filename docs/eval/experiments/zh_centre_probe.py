"""Probe (upper bound, transductive): Chinese query vectors moved to the English mean before every part.

    .venv/bin/python docs/eval/experiments/zh_centre_probe.py   (from the project root; reads out/cold24, reports/full_cold24)
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle
from engine.encoders.unit import unit
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = replace(eval_config(Path("out/probes/newbee"), "out/cold24/features.db"), text_tower=TextTowerSpec(kind="e5", name="original"))
bundle = ModelBundle.load(Path("reports/full_cold24/bundle-e5"))
task = datasets.newbee_tasks()[0]
base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/newbee/idx"))
tower = eng.embedder.text_tower
qraw = tower.encode([q.text for q in task.queries], role="query")
mu_zh = qraw.mean(0)
import csv
rows = list(csv.DictReader(open("/work/shared/data/fashion/products.csv")))[:3000]
mu_en = tower.encode([r["title"] for r in rows], role="query").mean(0)
real = tower.encode
for alpha in (0.0, 0.5, 1.0):
    def encode(texts, role="passage", _a=alpha):
        v = real(texts, role=role)
        if role == "query":
            v = unit(v - _a * (mu_zh - mu_en)).astype(np.float32)
        return v
    tower.encode = encode
    eng.embedder._head_vectors = None if hasattr(eng.embedder, "_head_vectors") else None
    s, _ = runner.evaluate(runner.engine_rankings(eng, task)[0], task)
    print("alpha", alpha, {k: round(v, 3) for k, v in s.items() if k in ("R@1", "R@10", "MRR")}, flush=True)
tower.encode = real
