"""Probe (not kept): the catalogue bridge in the other direction. Each catalogue photo (shrunk, projected)
takes its K nearest vocabulary photos, softmax (temperature T) over their cosines mixes their titles into a
text vector; a query is compared with it in the text tower's space, added to the engine-like score
(shared + 0.25 bridge + (1 - fit) prototypes, default bundle, fit 0.156) with weight w x (1 - fit).

    .venv/bin/python docs/eval/experiments/reverse_bridge.py   (needs ../shared/data and the feature cache; ~10 s warm)

Printed: R@10, P@10, R@1 over all queries (nothing is chosen here: no setting beat the current score by
more than one or two queries on either task).
"""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.encoders.embedder import Embedder
from engine.features import FeatureCache
from eval import datasets

def unit(x):
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

bundle = ModelBundle.load(resolve_bundle_path("default"))
emb = Embedder(bundle, FeatureCache("out/figures/features.db"))
P = bundle.prototypes
tasks = {t.name: t for t in datasets.luma_tasks()}
names = next(t for n, t in tasks.items() if n.startswith("luma text (name)"))
cc = next(t for n, t in tasks.items() if "⟨colour⟩ ⟨category⟩" in n and "price" not in n)
fit = 0.156

def setup(task):
    owners = np.asarray([p.id for p in task.products for _ in p.images])
    paths = [i for p in task.products for i in p.images]
    shrunk = P.photos(emb.shrunk_features(paths, 112))
    vecs = emb.image_vectors(emb.image_features(paths))
    raw = unit(emb.text_tower.encode([q.text for q in task.queries], role="query"))
    base = (bundle.heads.project_texts(raw) @ vecs["shared"].T) + 0.25 * (raw @ vecs["bridge"].T)
    proto = np.stack([P.query(r) for r in raw]) @ shrunk.T
    ids = sorted(set(owners)); col = np.searchsorted(ids, owners)
    rel = np.array([np.isin(ids, list(q.relevant)) for q in task.queries])
    return dict(shrunk=shrunk, raw=raw, base=base, proto=proto, col=col, rel=rel, n=len(ids))

def reverse(s, k, t):
    sims = s["shrunk"] @ P.image.T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    w = np.take_along_axis(sims, top, 1)
    w = np.exp((w - w.max(1, keepdims=True)) / t)
    mix = unit(np.einsum("nk,nkd->nd", w, P.text[top]))
    return s["raw"] @ mix.T

def metrics(s, score, rows):
    best = np.full((len(score), s["n"]), -np.inf, np.float32)
    for j in range(score.shape[1]):
        best[:, s["col"][j]] = np.maximum(best[:, s["col"][j]], score[:, j])
    order = np.argsort(-best, axis=1)[:, :10]
    rel = s["rel"][rows]; order = order[rows]
    r10 = np.mean([r[o].sum() / r.sum() for r, o in zip(rel, order)])
    p10 = np.mean([r[o].mean() for r, o in zip(rel, order)])
    r1 = np.mean([r[o[0]] for r, o in zip(rel, order)])
    return r10, p10, r1

for label, task in (("names", names), ("colour+cat", cc)):
    s = setup(task)
    allq = np.arange(len(task.queries))
    cur = s["base"] + (1 - fit) * s["proto"]
    print(label, "current (shared+bridge+proto) R@10 P@10 R@1", np.round(metrics(s, cur, allq), 3))
    print(label, "proto alone", np.round(metrics(s, s["proto"], allq), 3))
    for k in (10, 50, 200):
        for t in (0.02, 0.05, 0.1):
            rv = reverse(s, k, t)
            out = [np.round(metrics(s, rv, allq), 3)]
            for w in (0.25, 0.5, 1.0, 2.0):
                out.append((w, np.round(metrics(s, cur + w * (1 - fit) * rv, allq), 3)))
            print(label, f"reverse K{k} T{t}", out, flush=True)
