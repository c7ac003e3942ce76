"""Probe: where fashion "⟨colour⟩ ⟨type⟩" → photo misses: the type, the colour, or both?

For each query's top 10 (ours, photos only, the eval's bundle), the share of results with the asked
article type, with the asked base colour, and with both (= P@10). Also the share of colour misses whose
colour is one the catalogue itself treats as near (the confusion among results of the right type).

    .venv/bin/python docs/eval/experiments/type_colour_breakdown.py out/colour_probe/bundle_c
"""
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

out = Path("out/type_colour_probe")
cfg = eval_config(out, sys.argv[2] if len(sys.argv) > 2 else "out/figures/features.db")
bundle = ModelBundle.load(Path(sys.argv[1]))
gallery, _ = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
type_ok, colour_ok, both, confusions = [], [], [], Counter()
available = []
for q in task.queries:
    colour, kind = next((row[p]["base_colour"], row[p]["article_type"]) for p in q.relevant)
    res = eng.search(Query(text=q.text, k=10)).results
    got = [row[r.product.id] for r in res]
    type_ok.append(np.mean([g["article_type"] == kind for g in got]))
    colour_ok.append(np.mean([g["base_colour"] == colour for g in got]))
    both.append(np.mean([g["article_type"] == kind and g["base_colour"] == colour for g in got]))
    available.append(min(10, len(q.relevant)) / 10)
    for g in got:
        if g["article_type"] == kind and g["base_colour"] != colour:
            confusions[(colour, g["base_colour"])] += 1
print(f"{len(task.queries)} queries: type right {np.mean(type_ok):.3f}, colour right {np.mean(colour_ok):.3f}, "
      f"both (P@10) {np.mean(both):.3f}; best possible P@10 (relevant items available) {np.mean(available):.3f}")
print("most frequent colour confusions among results of the right type (asked -> got):")
for (a, b), n in confusions.most_common(15):
    print(f"  {a} -> {b}: {n}")
