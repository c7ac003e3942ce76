"""Probe: horizontal-flip test-time augmentation for luma photo -> product (look vectors, colour weight 0.5,
default bundle). Result in flip_tta_probe.txt: no gain, so not wired in.

    .venv/bin/python docs/eval/experiments/flip_tta_probe.py  (needs ../shared/data)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np, engine  # noqa: E401,E402
from PIL import ImageOps
from engine.config import EngineConfig
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.encoders.embedder import Embedder
from engine.encoders.look_stats import look_statistics
from engine.images import open_image
from eval import datasets
b = ModelBundle.load(resolve_bundle_path("default"))
emb = Embedder.for_config(b, EngineConfig(feature_cache="out/figures/features.db"))
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
g = emb.image_features([p.images[0] for p in task.products]); q = emb.image_features([x.image for x in task.queries])
T = emb.image_tower
def feats(imgs): return np.concatenate([T.features(T.prepare(imgs[i:i+16])) for i in range(0, len(imgs), 16)])
qf = feats([ImageOps.mirror(open_image(x.image)) for x in task.queries])
gf = feats([ImageOps.mirror(open_image(p.images[0])) for p in task.products])
ids = [p.id for p in task.products]
head = b.heads.image
emb.look_stats = look_statistics(g, (head.mean.numpy(), head.std.numpy())); emb.look_colour_weight = 0.5
def r1(G, Q): return np.mean([ids[j] in x.relevant for x, j in zip(task.queries, np.argmax(Q @ G.T, 1))])
L = emb.looks
print("plain", r1(L(g), L(q)))
print("query flip avg", r1(L(g), L(q) + L(qf)))
print("both flip avg", r1(L(g) + L(gf), L(q) + L(qf)))
print("max over flips", np.mean([ids[j] in x.relevant for x, j in zip(task.queries, np.argmax(np.maximum(L(q) @ L(g).T, L(qf) @ L(g).T), 1))]))
