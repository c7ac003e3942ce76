"""Probe: the type reader for words that are not its kinds' names ("Hoodie", "Tee", "Tank" on luma).

The type reader (engine/encoders/type_reader.py) reads a photo's kind as fashion names kinds (103 article
types) and weighs in only where the query says one of those names, scaled by the shared space's fit
(luma 0.21: all but off). Luma's names say their kind in their own words ("Chaz Kangeroo Hoodie", "Rocco
Gym Tank"). Here the query's head word (``engine/head_word.py``; else its last word) is compared with the
reader's kind names by the text tower (cosine), a softmax at temperature ``t`` gives the kinds the word
may mean, and a candidate photo scores sum_c q(c) p(c | photo) (``exp``), or p(the word's nearest kind)
where that cosine passes ``floor`` (``top``). Candidates: the engine's answers for luma text (name) ->
photo (``--base`` bundle, photos only, all 199 products), re-scored by + w x the score; chosen on one half
of the products (seeded), shown on the other.

    .venv/bin/python docs/eval/experiments/soft_type_probe.py --cache out/cold23/features.db \
        --base reports/full_cold23/bundle
"""
import argparse, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.encoders.bundle import ModelBundle
from engine.head_word import head_word
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True)
args = ap.parse_args()
out = Path("out/probes/soft_type")
cfg = eval_config(out, args.cache)
bundle = ModelBundle.load(Path(args.base))
task = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
reader, kinds = bundle.types, eng.index.kinds
assert kinds is not None, "the index keeps no kind probabilities"
ids = [p.id for p in task.products]
pos = {i: n for n, i in enumerate(ids)}
photo_p = np.zeros((len(ids), len(reader.names)), np.float32)
live = kinds.alive
photo_p[[pos[eng.index.table.ids[r]] for r in kinds.owner[: len(live)][live]]] = kinds.vectors[: len(live)][live]  # one photo a product
unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
kind_vecs = unit(eng.embedder.text_features(reader.names, "passage"))
words = [head_word(q.text) or q.text.split()[-1] for q in task.queries]
cos = unit(eng.embedder.text_features(words, "query")) @ kind_vecs.T
for w, c in list(zip(words, cos))[:12]:
    top = np.argsort(-c)[:3]
    print(f"{w!r}: " + ", ".join(f"{reader.names[j]} {c[j]:.2f}" for j in top))
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=len(ids))).results
    order = np.array([pos[x.product.id] for x in r]); sc = np.array([x.score for x in r])
    res.append((order, sc, pos[next(iter(q.relevant))]))
rng = np.random.default_rng(0); half = dict(zip(ids, rng.permutation(len(ids)) % 2))
qh = np.array([half[next(iter(q.relevant))] for q in task.queries])


def r10(extra):
    hit = np.array([own in order[np.argsort(-(sc + extra(n, order)), kind="stable")[:10]]
                    for n, (order, sc, own) in enumerate(res)])
    return hit[qh == 0].mean(), hit[qh == 1].mean(), hit.mean()


print("engine: halves %.3f / %.3f, all %.3f" % r10(lambda n, order: 0.0))
grid = {}
for t in (0.02, 0.05, 0.1):
    q = np.exp((cos - cos.max(1, keepdims=True)) / t); q /= q.sum(1, keepdims=True)
    s = q @ photo_p.T  # (queries, products)
    for w in (0.05, 0.1, 0.2, 0.4):
        grid[("exp", t, w)] = r10(lambda n, order: w * s[n, order])
best = cos.argmax(1)
for floor in (0.4, 0.5, 0.6):
    s = np.where((cos.max(1) >= floor)[:, None], photo_p[:, best].T, 0.0)
    for w in (0.05, 0.1, 0.2, 0.4):
        grid[("top", floor, w)] = r10(lambda n, order: w * s[n, order])
for h in (0, 1):
    print(f"chosen on half {h}:")
    for key, ab in sorted(grid.items(), key=lambda kv: -kv[1][h])[:5]:
        print(f"  {key}: tune half {ab[h]:.3f}, other half {ab[1 - h]:.3f}, all {ab[2]:.3f}")
for key, ab in grid.items():
    print(key, "halves %.3f / %.3f all %.3f" % ab)
