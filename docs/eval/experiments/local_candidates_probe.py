"""Probe: how many fused candidates the cells re-score (rerank.local_candidates): P@10 / R@1 / MRR / mAP and
latency on the two photo tasks. BUNDLE: a bundle trained on the fashion training split, e.g. the one
`python -m eval.tune_fusion --weight w_local --out reports/tune_local` saves.

    .venv/bin/python docs/eval/experiments/local_candidates_probe.py [BUNDLE]   (needs ../shared/data; ~3 min)
"""
import sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config
out = Path("out/probes/local_candidates"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(sys.argv[1] if len(sys.argv) > 1 else "reports/tune_local/bundle")
gallery, _ = datasets.fashion_split(2000, 42072)
tasks = [t for t in datasets.fashion_tasks(gallery) + datasets.luma_tasks() if t.kind == "photo"]
for task in tasks:
    eng, _ = runner.build_engine(task, bundle, cfg, out / task.name[:12].replace(" ", "_"))
    metric = "R@1" if "luma" in task.name else "P@10"
    for n in (0, 5, 10, 20, 50):
        c = replace(cfg, rerank=replace(cfg.rerank, local_candidates=n)) if n else replace(cfg, fusion=replace(cfg.fusion, w_local=0.0))
        eng.config = c
        rankings, lat = runner.engine_rankings(eng, task)
        scores, _ = runner.evaluate(rankings, task)
        print(f"{task.name:40s} local_candidates {n:3d}  {metric} {scores[metric]:.4f}  R@1 {scores['R@1']:.4f} MRR {scores['MRR']:.4f} mAP {scores['mAP']:.4f}  p50 {np.percentile(lat, 50):.1f} ms", flush=True)
