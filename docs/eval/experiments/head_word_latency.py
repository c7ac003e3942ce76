"""What the head word costs a text query: luma names (199), the engine's search timed end to end with
``w_head`` 0.5 (the text and its head word embedded in one tower pass of two) and 0, alternated over 4 rounds.

    .venv/bin/python docs/eval/experiments/head_word_latency.py [bundle] [feature cache]
"""
import sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
cfg = eval_config(Path("out/probes/head_latency"), sys.argv[2] if len(sys.argv) > 2 else "out/figures/features.db")
cfg = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma text (name)"))
eng, _ = runner.build_engine(task, bundle, cfg, Path("out/probes/head_latency/work"))
configs = {"w_head 0.5": cfg, "w_head 0": replace(cfg, fusion=replace(cfg.fusion, w_head=0.0))}
times = {name: [] for name in configs}
for rnd in range(4):
    for name in (list(configs) if rnd % 2 == 0 else list(configs)[::-1]):
        eng.config = configs[name]
        for q in task.queries:
            t = time.perf_counter()
            eng.search(Query(text=q.text, k=20))
            times[name].append((time.perf_counter() - t) * 1000)
for name, ms in times.items():
    print(f"{name}: p50 {np.percentile(ms, 50):.2f} ms, p90 {np.percentile(ms, 90):.2f} ms over {len(ms)} searches")
print(f"ratio p50 (0.5 / 0): {np.percentile(times['w_head 0.5'], 50) / np.percentile(times['w_head 0'], 50):.3f}")
