"""Per luma category: R@10 of ours (photos only) on luma names and the share of its top 10 of the same
kind (category leaf, gender ignored), by part.

    .venv/bin/python docs/eval/experiments/luma_names_breakdown.py reports/full_cold24/bundle
"""
import collections, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("out/probes/luma_bd"), "out/cold26/features.db")
bundle = ModelBundle.load(Path(sys.argv[1]))
task = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/luma_bd/idx"))
print("fit", runner.task_fit(eng, task))
f = base.fusion
variants = {"ours": base,
            "bridge only": replace(base, fusion=replace(f, w_visual=0, w_proto=0, w_head=0, w_type_class=0)),
            "proto only": replace(base, fusion=replace(f, w_visual=0, w_bridge=0, w_type_class=0)),
            "visual only": replace(base, fusion=replace(f, w_bridge=0, w_proto=0, w_type_class=0))}
ranked = runner.variant_rankings(eng, task, variants)
cat = {p.id: p.category for p in task.products}
kind = lambda c: c.split("/")[-1] if not c.startswith("Gear") else "/".join(c.split("/")[:2])
for name, (r, _) in ranked.items():
    rec, same = collections.defaultdict(list), collections.defaultdict(list)
    for q, ids in zip(task.queries, r):
        pid = next(iter(q.relevant)); c = cat[pid]
        g = c.split("/")[0] + "/" + kind(c)
        rec[g].append(pid in ids[:10]); same[g].append(sum(kind(cat[i]) == kind(c) for i in ids[:10]) / 10)
    tot = sum(sum(v) for v in rec.values()) / sum(len(v) for v in rec.values())
    print(f"== {name}: R@10 {tot:.3f}")
    for g in sorted(rec):
        print(f"  {g:40s} n={len(rec[g]):3d} R@10 {sum(rec[g])/len(rec[g]):.2f} same-kind@10 {sum(same[g])/len(same[g]):.2f}")
