"""Luma name -> photo (photos only, as in the report) by product type, without and with the head word
(``engine/head_word.py``): where the type is found and where it is not.

    .venv/bin/python docs/eval/experiments/head_word_types.py [bundle] [feature cache]

type P@10: the share of the top 10 whose category leaf is the query product's; type@1 the same for the
first result.
"""
import collections, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.head_word import head_word
from eval import datasets, runner
from eval.__main__ import eval_config

bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
cfg = eval_config(Path("out/probes/head_word"), sys.argv[2] if len(sys.argv) > 2 else "out/figures/features.db")
cfg = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))  # photos only, as the report
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma text (name)"))
eng, _ = runner.build_engine(task, bundle, cfg, Path("out/probes/head_word/work"))
print(f"fit {eng.index.shared_fit:.3f}; head word weight {cfg.fusion.w_head * (1 - eng.index.shared_fit):.3f}")
leaf = {p.id: p.category.split("/")[-1] for p in task.products}
variants = {"w_head 0": replace(cfg, fusion=replace(cfg.fusion, w_head=0.0)), "w_head 0.5": cfg}
ranked = runner.variant_rankings(eng, task, variants)
rows = collections.defaultdict(dict)
for name, (rankings, _) in ranked.items():
    per = collections.defaultdict(list)
    for q, r in zip(task.queries, rankings):
        own = next(iter(q.relevant))
        per[leaf[own]].append((own in r[:10], np.mean([leaf[x] == leaf[own] for x in r[:10]]), leaf[r[0]] == leaf[own]))
        per["(all)"].append(per[leaf[own]][-1])
    for t, v in per.items():
        rows[t][name] = (len(v), *np.mean(v, axis=0))
print(f"{'type':28s} {'n':>3s}  " + "  ".join(f"{n + ': R@10 typeP@10 type@1':32s}" for n in variants))
for t, by in sorted(rows.items(), key=lambda kv: -kv[1]["w_head 0"][0]):
    print(f"{t:28s} {by['w_head 0'][0]:3d}  " + "  ".join(f"{by[n][1]:10.3f} {by[n][2]:9.3f} {by[n][3]:6.3f}      "
                                                           for n in variants))
heads = collections.Counter(head_word(q.text) for q in task.queries)
print("head words read:", ", ".join(f"{h} {c}" for h, c in heads.most_common(25)))
