"""Probe (twenty-seventh session): would a pattern reader's part lift "⟨pattern⟩ ⟨type⟩" text queries on a
catalogue indexed from its photos alone (titles hidden), as the type reader's part lifts "⟨colour⟩ ⟨type⟩"?

    .venv/bin/python docs/eval/experiments/pattern_part_probe.py [--cache out/cold26/features.db]

The twenty-sixth session's probe (``pattern_reader_probe.*``) found that a reader learnt from fashion's titles
("Striped", "Checked", "Printed", "Solid") reads held-out photos 0.84 top-1. Here: the report's 2,000-product
fashion gallery indexed photos only by the packaged "default" bundle with the engine's photos-only settings
(as ``eval/runner.py``: no text part, no lexical part, category names not read); queries "⟨pattern⟩ ⟨article
type⟩" ("striped tshirts") for each pair with at least 3 gallery products; relevant: the gallery's products
of that type whose title says that pattern. Each query's top 100 are re-scored offline with + w x the reader's
probability of the pattern for each product's photo; w chosen on the first half of the queries, P@10 reported
on the second half beside w = 0.
"""
import argparse, random, re, sys, tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.config import EngineConfig, IndexConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder, look_statistics
from engine.encoders.type_reader import learn_type_reader
from engine.features import FeatureCache
from engine.types import Query
from eval import datasets, metrics, runner
from eval.datasets import LabelledQuery, Task

PATTERNS = {"Striped": r"strip(?:e|ed|es)", "Checked": r"check(?:ed|s)?|plaid", "Printed": r"print(?:ed)?",
            "Solid": r"solid"}
WORDS = {"Striped": "striped", "Checked": "checked", "Printed": "printed", "Solid": "solid"}
WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)

ap = argparse.ArgumentParser()
ap.add_argument("--cache", default="out/cold26/features.db")
args = ap.parse_args()


def label(title: str) -> str:
    found = [p for p, rx in PATTERNS.items() if re.search(rf"\b(?:{rx})\b", title, re.I)]
    return found[0] if len(found) == 1 else ""


bundle = ModelBundle.load(default_bundle_path("default"))
embedder = Embedder(bundle, FeatureCache(args.cache))
weight = IndexConfig().look_colour_weight


def looks_of(paths):
    feats = embedder.image_features(paths)
    embedder.look_stats, embedder.look_colour_weight = look_statistics(feats, (None, None)), weight
    return embedder.looks(feats)


gallery, train = datasets.fashion_split(2000, 42072)
train = [r for r in train if label(r["title"])]
reader = learn_type_reader([label(r["title"]) for r in train],
                           looks_of([str(datasets.DATA / "fashion" / r["image"]) for r in train]), weight)
print("reader classes", reader.names, "from", len(train), "training photos", flush=True)
products = [datasets.fashion_product(r) for r in gallery]
probs = reader.probabilities(looks_of([p.images[0] for p in products]))
p_of = {p.id: probs[i] for i, p in enumerate(products)}
groups: dict[tuple[str, str], list[str]] = {}
for r, p in zip(gallery, products):
    if label(r["title"]):
        groups.setdefault((label(r["title"]), r["article_type"]), []).append(p.id)
queries = [LabelledQuery(f"{pat}{kind}", {pid: 1.0 for pid in ids}, text=f"{WORDS[pat]} {kind.lower()}")
           for (pat, kind), ids in sorted(groups.items()) if len(ids) >= 3]
random.Random(0).shuffle(queries)  # the halves mix patterns and types
print(len(queries), "queries:", Counter(q.text.split()[0] for q in queries), flush=True)
task = Task("fashion ⟨pattern⟩ ⟨type⟩, photos only", "text", products, queries)
cfg = EngineConfig(feature_cache=args.cache)
cfg = replace(cfg, fusion=replace(cfg.fusion, w_text=0.0, w_lexical=0.0), read_categories=False)
with tempfile.TemporaryDirectory() as tmp:
    eng, _ = runner.build_engine(task, bundle, replace(cfg, data_dir=tmp), Path(tmp))
    eng.config = replace(cfg, data_dir=tmp)
    ranked = []
    for q in queries:
        res = eng.search(Query(text=q.text, k=100)).results
        ranked.append([(r.product.id, r.score) for r in res])
half = len(queries) // 2
firsts, seconds = range(0, half), range(half, len(queries))


def p_at_10(w: float, rows) -> float:
    out = []
    for i in rows:
        j = reader.names.index(next(p for p, word in WORDS.items() if queries[i].text.startswith(word)))
        order = sorted(ranked[i], key=lambda pr: -(pr[1] + w * p_of[pr[0]][j]))
        out.append(metrics.precision_at_k([pid for pid, _ in order], queries[i].relevant, 10))
    return float(np.mean(out))


first = {w: p_at_10(w, firsts) for w in WEIGHTS}
chosen = max(WEIGHTS, key=lambda w: (first[w], -w))
print("first half P@10 by weight:", {w: round(v, 3) for w, v in first.items()}, "-> chosen", chosen)
print(f"second half P@10: w 0 {p_at_10(0.0, seconds):.3f}, w {chosen} {p_at_10(chosen, seconds):.3f}; "
      f"all queries: w 0 {p_at_10(0.0, range(len(queries))):.3f}, w {chosen} {p_at_10(chosen, range(len(queries))):.3f}")
for pat, word in WORDS.items():
    rows = [i for i, q in enumerate(queries) if q.text.startswith(word)]
    if rows:
        print(f"  {word:8s} ({len(rows):2d} queries): w 0 {p_at_10(0.0, rows):.3f}, w {chosen} {p_at_10(chosen, rows):.3f}")
