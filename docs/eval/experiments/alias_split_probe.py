"""Probe (twenty-fifth session): the shop's own category aliases on real catalogues where half the listings
have their titles and half are photos only; queries = the second half's names -> their own product.

    .venv/bin/python docs/eval/experiments/alias_split_probe.py   (from the project root; reads out/cold25)

The index holds every product; half A (seeded by product) keeps title + description, half B is "(hidden)".
Aliases learnt from A's texts (engine default, category names read) against none (Catalog.category_texts
returning nothing). luma with the packaged MiniLM bundle, newbee_zh with the packaged e5 bundle.
"""
import random
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.catalog import Catalog
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle, default_bundle_path
from eval import datasets, runner
from eval.__main__ import eval_config

cfg = eval_config(Path("out/probes/alias_split"), "out/cold25/features.db")
luma = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
newbee = datasets.newbee_tasks()[0]
real_texts = Catalog.category_texts
for task, name, spec in ((luma, "default", TextTowerSpec()), (newbee, "default-e5", TextTowerSpec(kind="e5", name="original"))):
    ids = sorted(p.id for p in task.products)
    random.Random(0).shuffle(ids)
    hidden = set(ids[: len(ids) // 2])
    products = [p.with_(title="(hidden)", description="") if p.id in hidden else p for p in task.products]
    queries = [q for q in task.queries if set(q.relevant) <= hidden]
    split = replace(task, products=products, queries=queries, hide_titles=False)
    c = replace(cfg, text_tower=spec)
    for label, texts in (("aliases", real_texts), ("no aliases", lambda self, limit=20_000: [])):
        Catalog.category_texts = texts
        eng, _ = runner.build_engine(split, ModelBundle.load(default_bundle_path(name)), c, Path(f"out/probes/alias_split/{name}"))
        eng._category_words = None
        ranked, _ = runner.variant_rankings(eng, split, {"ours": c})["ours"]
        hits = [float(bool(set(r[:10]) & set(q.relevant))) for r, q in zip(ranked, queries)]
        words = eng.category_words()
        print(f"{task.name[:30]:30s} {label:10s} {len(queries)} queries R@10 {np.mean(hits):.3f}  aliases {len(words.aliases)}"
              f" e.g. {sorted(words.aliases)[:12]}", flush=True)
Catalog.category_texts = real_texts
