"""Probe: a stronger colour reader. The engine's reader is a logistic regression on the photo's palette
(gallery accuracy ~0.55); ``colour_oracle_probe`` shows a reader right 0.65 of the time (errors spread
like the catalogue's colours) would lift fashion "<colour> <type>" photos-only P@10 from 0.466 to ~0.50.
Readers learned on the fashion training split (42,072 photos, colours with >= 5 photos), accuracy on the
2,000 gallery photos, then P@10 with the engine's photos-only answers (tuning bundle, reader off, 60
candidates) re-scored by w x the reader's score (``log p``: ``ColourReader.read``'s mapping; ``p``: the
probability), plus optionally the engine's reader at 0.2 (``base``), chosen on one half of the queries
(seeded by product) and shown on the other:
- ``lr pal``: the engine's reader (logistic regression on the palette);
- ``knn look+pal``: colour votes of the 20 nearest training photos (look + palette, cosine, exp(10 cos));
- ``knn pcaD int8``: the same with the training photos' features as a bundle could ship them (PCA to D
  dims, int8).
(``lr``/``mlp`` on look + palette, the earlier form's readers, are kept as functions.)

    .venv/bin/python docs/eval/experiments/colour_mlp_probe.py   (needs ../shared/data; ~1 min warm)
"""
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_reader import FLOOR, learn_reader
from engine.encoders.colour_words import words_of
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

K = 60
out = Path("out/probes/colour_mlp"); cfg = eval_config(out, "out/cold17b/features.db")
bundle = ModelBundle.load("reports/tune_s16/bundle")
gallery, train = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0, w_colour_class=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
emb = eng.embedder
colour_of = lambda r: " ".join(words_of(r["base_colour"]))  # noqa: E731
counts = {}
for r in train:
    counts[colour_of(r)] = counts.get(colour_of(r), 0) + 1
names = sorted(c for c, n in counts.items() if c and n >= 5); cid = {c: i for i, c in enumerate(names)}


def feats(rows):
    paths = [str(datasets.DATA / "fashion" / r["image"]) for r in rows]
    return emb.looks(emb.image_features(paths)), emb.photo_extras("palette", paths)


t0 = time.time()
TL, TP = feats(train); gids = sorted(row); GL, GP = feats([row[i] for i in gids])
ty = np.array([cid.get(colour_of(r), -1) for r in train]); gy = np.array([cid.get(colour_of(row[i]), -1) for i in gids])
print(f"{len(names)} colours; features {TL.shape} {TP.shape} in {time.time() - t0:.0f} s", flush=True)
X = {"pal": (TP, GP), "look": (TL, GL), "look+pal": (np.hstack([TL, TP]), np.hstack([GL, GP]))}


def lr(Xt, Xg):
    rd = learn_reader(names, ty, Xt)
    return Xg @ rd.weight.T + rd.bias


def mlp(Xt, Xg, hidden=512, epochs=12, drop=0.3, seed=0):
    torch.manual_seed(seed)
    keep = ty >= 0
    x = torch.from_numpy(np.asarray(Xt[keep], np.float32)); y = torch.from_numpy(ty[keep])
    mu, sd = x.mean(0), x.std(0) + 1e-6
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(drop),
                              torch.nn.Linear(hidden, len(names)))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for b in range(0, len(x), 256):
            i = perm[b:b + 256]
            loss = torch.nn.functional.cross_entropy(net((x[i] - mu) / sd), y[i], label_smoothing=0.1)
            opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    with torch.no_grad():
        return net((torch.from_numpy(np.asarray(Xg, np.float32)) - mu) / sd).numpy()


def knn(Xt, Xg, k=20, temp=10.0):
    """Colour votes of the k nearest training photos by cosine (weights exp(10 x cos)), as logits."""
    a = Xt / np.linalg.norm(Xt, axis=1, keepdims=True); b = Xg / np.linalg.norm(Xg, axis=1, keepdims=True)
    sim = b @ a.T
    top = np.argpartition(-sim, k, axis=1)[:, :k]
    votes = np.full((len(Xg), len(names)), 1e-3)
    for i, row_top in enumerate(top):
        for j in row_top:
            if ty[j] >= 0:
                votes[i, ty[j]] += np.exp(temp * sim[i, j])
    return np.log(votes / votes.sum(1, keepdims=True))


import itertools


def log_p(lg):
    lg = lg - lg.max(1, keepdims=True)
    return lg - np.log(np.exp(lg).sum(1, keepdims=True))


np.savez("/tmp/s18/feats.npz", TL=TL, TP=TP, GL=GL, GP=GP, ty=ty, gy=gy)
LP = {"lr pal": log_p(lr(*X["pal"]))}
Xt, Xg = X["look+pal"]
LP["knn look+pal k20 t10"] = knn(Xt, Xg)
if "--mlp" in sys.argv:
    LP["lr look+pal"] = log_p(lr(Xt, Xg)); LP["mlp look+pal"] = log_p(mlp(Xt, Xg))
mu = Xt.mean(0)
_, _, Vt = np.linalg.svd(Xt[::4] - mu, full_matrices=False)
for dim in (64, 128):
    At, Ag = (Xt - mu) @ Vt[:dim].T, (Xg - mu) @ Vt[:dim].T
    step = np.abs(At).max() / 127
    At = np.round(At / step).astype(np.int8).astype(np.float32) * step  # as a bundle would store them
    LP[f"knn pca{dim} int8 k20 t10"] = knn(At, Ag)
for name, lp in LP.items():
    print(f"{name}: gallery accuracy {np.mean(lp[gy >= 0].argmax(1) == gy[gy >= 0]):.3f}", flush=True)

gpos = {g: i for i, g in enumerate(gids)}
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=K)).results
    ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
    c = cid.get(colour_of(row[next(iter(q.relevant))]))
    res.append(([gpos[i] for i in ids], sc, c, np.array([i in q.relevant for i in ids])))
rng = np.random.default_rng(0); half = dict(zip(gids, rng.permutation(len(gids)) % 2))
qh = np.array([half[next(iter(q.relevant))] for q in task.queries])
READER = lambda lp, c: np.maximum(lp[:, c], FLOOR) / -FLOOR + 1.0  # noqa: E731
KINDS = {"log p": READER, "p": lambda lp, c: np.exp(lp[:, c])}


def p10s(extra):
    v = np.array([rel[np.argsort(-(sc + (extra(pos, c) if c is not None else 0)), kind="stable")[:10]].mean()
                  for pos, sc, c, rel in res])
    return v[qh == 0].mean(), v[qh == 1].mean()


print("off halves %.3f / %.3f" % p10s(lambda pos, c: 0.0))
print("engine reader (lr pal, log p, w 0.2) halves %.3f / %.3f" % p10s(lambda pos, c: 0.2 * READER(LP["lr pal"][pos], c)))
best = {}
for name, lp in LP.items():
    for kind, f in KINDS.items():
        for w in (0.05, 0.075, 0.1, 0.15, 0.2):
            for base in (0.0, 0.2):
                a, b = p10s(lambda pos, c: w * f(lp[pos], c) + base * READER(LP["lr pal"][pos], c))
                best[(name, kind, w, base)] = (a, b)
for h in (0, 1):
    top = sorted(best.items(), key=lambda kv: -kv[1][h])[:5]
    print(f"chosen on half {h}:")
    for key, ab in top:
        print(f"  {key}: tune half {ab[h]:.3f}, other half {ab[1 - h]:.3f}")
