"""Probe (twenty-fourth session): words of the training titles that point at kinds ("tee" -> Tshirts, "tank" ->
Tops + Tshirts, "hooded" -> Sweatshirts) as extra names for the type reader, learnt from the fashion training
titles with no hand list: a word in at least ``MIN`` titles whose kinds with a share >= 0.25 cover >= ``COVER`` of
them (words naming kinds already, and linking words, left out). The type reader's part unscaled by the
shared space's fit (type_by_fit off) at w_type_class 0.1 / 0.3, against ours; luma text tasks (photos only),
luma names by halves, and fashion "<colour> <type>" (photos only), the report's bundle.

    .venv/bin/python docs/eval/experiments/kind_alias_probe.py   (from the project root)
"""
import collections
import re
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402
import engine  # noqa: F401,E402
from engine.encoders import type_reader as tr  # noqa: E402
from engine.encoders.bundle import ModelBundle  # noqa: E402
from eval import datasets, runner  # noqa: E402
from eval.__main__ import eval_config  # noqa: E402

MIN, COVER = 10, 0.8
cfg = eval_config(Path("out/probes/kind_alias"), "out/cold24/features.db")
bundle = ModelBundle.load(Path("reports/full_cold24/bundle"))
reader = bundle.types
gallery, train = datasets.fashion_split(2000, 42072)
named = {w for n in reader.names for w in tr._words(n)}
by_word = collections.defaultdict(collections.Counter)
for r in train:
    for w in set(tr._words(r["title"])):
        by_word[w][r["article_type"]] += 1
index_of = {n: i for i, n in enumerate(reader.names)}
aliases = {}
for w, kinds in by_word.items():
    total = sum(kinds.values())
    if total < MIN or w in named or w in tr.LINKS or not re.fullmatch(r"[a-z]+", w):
        continue
    main = [k for k, c in kinds.items() if c / total >= 0.25 and k in index_of]
    if main and sum(kinds[k] for k in main) / total >= COVER:
        aliases[w] = [index_of[k] for k in main]
print(len(aliases), "aliases;", {w: [reader.names[i] for i in aliases[w]] for w in ("tee", "tank", "hooded", "trainer", "gym", "endurance") if w in aliases})
real_said = tr.TypeReader._said


def said(self, words):
    found, used = real_said(self, words)
    for i, w in enumerate(words):
        if i not in used and w in aliases:
            found += [c for c in aliases[w] if c not in found]
            used = used | {i}
    return found, used


tasks = [t for t in datasets.luma_tasks() if t.kind == "text"] + \
    [next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")]
for task in tasks:
    base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/kind_alias") / task.name[:8].replace(" ", "_"))
    f = base.fusion
    variants = {"ours": base}
    for w in (0.1, 0.3):
        variants[f"aliases, unscaled w {w}"] = replace(base, fusion=replace(f, type_by_fit=False, w_type_class=w))
    variants["aliases, as shipped (fit-scaled)"] = base
    for name, c in variants.items():
        tr.TypeReader._said = said if name != "ours" else real_said
        eng.config = c
        rankings = runner.engine_rankings(eng, task)[0]
        s, per = runner.evaluate_per_query(rankings, task)
        metric = "R@10" if "name" in task.name else "P@10"
        vals = np.asarray(s[metric])
        halves = np.random.default_rng(1).permutation(len(vals))
        h1, h2 = vals[halves[: len(vals) // 2]].mean(), vals[halves[len(vals) // 2:]].mean()
        print(f"{task.name[:40]} | {name} | {metric} {vals.mean():.3f} (halves {h1:.3f} / {h2:.3f})", flush=True)
    tr.TypeReader._said = real_said
