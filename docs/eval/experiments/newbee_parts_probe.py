"""Probe (twenty-fourth session): newbee_zh Chinese names -> photos (zero-shot, e5 space of the report) part by
part, and the share of each query's top 10 in its own category (phones by brand, lipsticks).

    .venv/bin/python docs/eval/experiments/newbee_parts_probe.py   (from the project root; reads out/cold24, reports/full_cold24)
"""
import sys, time
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("out/probes/newbee"), "out/cold24/features.db")
cfg = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
bundle = ModelBundle.load(Path("reports/full_cold24/bundle-e5"))
task = datasets.newbee_tasks()[0]
base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
t0 = time.time()
eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/newbee/idx"))
print("built", time.time() - t0, "fit", runner.task_fit(eng, task), flush=True)
f = base.fusion
variants = {
  "ours": base,
  "bridge only": replace(base, fusion=replace(f, w_visual=0, w_proto=0, w_colour=0, w_colour_class=0, w_type_class=0, w_head=0)),
  "proto only": replace(base, fusion=replace(f, w_visual=0, w_bridge=0, w_colour=0, w_colour_class=0, w_type_class=0, w_head=0)),
  "visual only": replace(base, fusion=replace(f, w_bridge=0, w_proto=0, w_colour=0, w_colour_class=0, w_type_class=0, w_head=0)),
  "no visual": replace(base, fusion=replace(f, w_visual=0)),
  "bridge x4": replace(base, fusion=replace(f, w_bridge=1.0)),
  "no fold": replace(base, rerank=replace(base.rerank, collapse_duplicates=False)),
}
ranked = runner.variant_rankings(eng, task, variants)
for name, (r, _) in ranked.items():
    s, _ = runner.evaluate(r, task)
    print(name, {k: round(v, 3) for k, v in s.items() if k in ("R@1", "R@10", "MRR")}, flush=True)
cat = {p.id: p.category for p in task.products}
import collections
for name, (r, _) in ranked.items():
    per = collections.defaultdict(list)
    for q, ids in zip(task.queries, r):
        qid = next(iter(q.relevant)); c = cat[qid]
        if not c: continue
        per[c].append(sum(cat[i] == c for i in ids[:10]) / 10)
    print(name, "same-category P@10", {c: round(sum(v)/len(v), 2) for c, v in per.items()})
