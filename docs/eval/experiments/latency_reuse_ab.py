"""Ours' latency with the ablations reusing its query encoding (eval.runner.QueryMemo) against every variant
encoding again: fashion photo -> same type + colour, 300 queries, two rounds in one process.

    .venv/bin/python docs/eval/experiments/latency_reuse_ab.py   (needs reports/full_cold21 and out/cold21)

2026-11-27 ~04:52, this machine: memo 17.98 / 17.09 ms p50, every variant encodes 18.08 / 18.33 ms.
"""
import sys, time
from pathlib import Path
import numpy as np
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("/tmp/lm"), "out/cold21/features.db")
gallery, _ = datasets.fashion_split(2000, 42072)
task = [t for t in datasets.fashion_tasks(gallery, 300) if t.kind == "photo"][0]
bundle = ModelBundle.load("reports/full_cold21/bundle")
eng, _ = runner.build_engine(task, bundle, cfg, Path("/tmp/lm/work"))
variants = runner._variants(task, bundle, eng.config, None)
class NoMemo:
    def get(self, key, compute): return compute()
real = runner.QueryMemo
runner.engine_rankings(eng, type(task)(task.name, task.kind, task.products, task.queries[:20]))
for rnd in range(2):
    for mode in ("memo", "every variant encodes"):
        runner.QueryMemo = real if mode == "memo" else NoMemo
        out = runner.variant_rankings(eng, task, variants)
        print(mode, "ours p50 %.2f" % np.percentile(out["ours"][1], 50), len(task.queries), flush=True)
