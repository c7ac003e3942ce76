"""Probe: colour words against the photos' palettes (24 hues) for fashion "<colour> <type>" -> photo.

The engine's photos-only answers (eval bundle, k candidates) are re-scored outside the engine:
score + w x sim(colour word, candidate photo's palette), where the colour word's model is learned from
training photos' palettes (fashion training split, every photo): "proto" = cosine with the mean
square-rooted palette, "reader" = the engine's colour reader (a multinomial logistic regression on the
palettes, ``engine/encoders/colour_reader.py``): max(log p(colour), -10) / 10 + 1. P@10 on the two halves of the queries (seeded by product).

    .venv/bin/python docs/eval/experiments/colour_palette_probe.py   (needs ../shared/data; a few minutes)
"""
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_reader import learn_reader
from engine.encoders.colour_words import words_of
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

PER_COLOUR, K = 100000, 60
out = Path("out/probes/colour_palette"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load("reports/tune_local/bundle")
gallery, train = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")

rng = np.random.default_rng(0)
by_colour = defaultdict(list)
for r in train:
    by_colour[" ".join(words_of(r["base_colour"]))].append(r)
picked = [(c, r) for c, rs in by_colour.items() if c and len(rs) >= 5
          for r in (rs if len(rs) <= PER_COLOUR else [rs[i] for i in rng.choice(len(rs), PER_COLOUR, replace=False)])]
names = sorted({c for c, _ in picked}); cid = {c: i for i, c in enumerate(names)}
t0 = time.time()
emb = eng.embedder
pal = emb.photo_extras("palette", [str(datasets.DATA / "fashion" / r["image"]) for _, r in picked])
y = np.array([cid[c] for c, _ in picked])
print(f"{len(names)} colours, {len(picked)} training palettes ({time.time() - t0:.0f} s)")
proto = np.stack([pal[y == i].mean(0) for i in range(len(names))]); proto /= np.linalg.norm(proto, axis=1, keepdims=True)

t0 = time.time()
reader = learn_reader(names, y, pal)  # the engine's reader (encoders/colour_reader.py)
print(f"reader fitted in {time.time() - t0:.1f} s, training accuracy {np.mean((pal @ reader.weight.T + reader.bias).argmax(1) == y):.3f}")

gal_pal = eng.index.palettes
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=K)).results
    ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
    colour = " ".join(words_of(next(row[p]["base_colour"] for p in q.relevant)))
    P = emb.photo_extras("palette", [row[i] and str(datasets.DATA / "fashion" / row[i]["image"]) for i in ids])
    ci = cid.get(colour)
    s_proto = P @ proto[ci] if ci is not None else np.zeros(len(ids))
    s_lr = reader.read(P, [ci]) if ci is not None else np.zeros(len(ids))  # max(log p, -10) / 10 + 1
    rel = np.array([i in q.relevant for i in ids])
    res.append((sc, s_proto, s_lr, rel))
ids_all = sorted(row); half = dict(zip(ids_all, rng.permutation(len(ids_all)) % 2))
qh = np.array([half[next(iter(q.relevant))] for q in task.queries])
def p10(kind, w):
    v = []
    for sc, sp, sl, rel in res:
        s = sc + w * (sp if kind == "proto" else sl)
        v.append(rel[np.argsort(-s, kind="stable")[:10]].mean())
    v = np.array(v); return v[qh == 0].mean(), v[qh == 1].mean(), v.mean()
print("off: halves %.3f / %.3f, all %.3f" % p10("proto", 0))
for kind in ("proto", "reader"):
    for w in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6):
        print(f"{kind} w {w}: halves %.3f / %.3f, all %.3f" % p10(kind, w))
