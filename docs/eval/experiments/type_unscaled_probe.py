"""Probe (twenty-fourth session): the type reader's part on luma unscaled by the shared space's fit (type_by_fit
off) at w_type_class 0.1 / 0.3 / 1.0, luma text tasks, photos only, the report's bundle.

    .venv/bin/python docs/eval/experiments/type_unscaled_probe.py   (from the project root; reads out/cold24, reports/full_cold24)
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("out/probes/typefit"), "out/cold24/features.db")
bundle = ModelBundle.load(Path("reports/full_cold24/bundle"))
tasks = [t for t in datasets.luma_tasks() if t.kind == "text"]
for task in tasks:
    base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/typefit") / task.name[:8].replace(" ", "_"))
    f = base.fusion
    if task.name == "luma text (name) → photo":
        kinds = [tuple((eng.search(Query(text=q.text, k=1)).understood or {}).get("kinds", ())) for q in task.queries]
        print("queries naming known kinds", sum(bool(k) for k in kinds), "of", len(kinds), sorted({x for k in kinds for x in k}))
    vs = {"ours": base}
    for w in (0.1, 0.3, 1.0):
        vs[f"flat w {w}"] = replace(base, fusion=replace(f, type_by_fit=False, w_type_class=w))
    for name, (r, _) in runner.variant_rankings(eng, task, vs).items():
        s, _ = runner.evaluate(r, task)
        print(task.name[:40], name, {k: round(v, 3) for k, v in s.items() if k in ("R@1", "R@10", "P@10")}, flush=True)
