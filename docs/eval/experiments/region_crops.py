"""Probe (not kept): luma photo -> product fails most on close-up views ("alt1": a collar, a pocket), which
the whole main photo does not resemble. Zoomed regions of each gallery photo are indexed beside it (look
vectors, weight 0.95 against 1 for the whole photo), product score = max over its photos and regions.
Everything measured on all 534 queries (no held-out half: the gains are upper bounds).

    .venv/bin/python docs/eval/experiments/region_crops.py   (needs ../shared/data and the feature cache; ~4 min)
"""
import sys, re
from pathlib import Path
from collections import Counter
import numpy as np
from luma_probe import luma_photo_setup
from engine.images import open_image

s = luma_photo_setup()
task, b, emb, ids, main_paths, gal_feats = s.task, s.bundle, s.emb, s.ids, s.main_paths, s.gal_feats
mean, std, q_paths, want = s.mean, s.std, s.q_paths, s.want
q_look = emb.looks(emb.image_features(q_paths))
def view(path):
    n = Path(path).stem; return n.rsplit("_", 1)[-1]

def boxes(w, h, spec):
    out = []
    for (fx, fy, fw, fh) in spec:
        out.append((int(fx * w), int(fy * h), int((fx + fw) * w), int((fy + fh) * h)))
    return out

SPECS = {
    "centre half": [(0.25, 0.25, 0.5, 0.5)],
    "upper centre half": [(0.25, 0.1, 0.5, 0.5)],
    "upper 0.35": [(0.325, 0.1, 0.35, 0.35)],
    "3x3 half windows": [(x, y, 0.5, 0.5) for x in (0.0, 0.25, 0.5) for y in (0.0, 0.25, 0.5)],
    "4x4 0.35 windows": [(x, y, 0.35, 0.35) for x in (0.0, 0.217, 0.433, 0.65) for y in (0.0, 0.217, 0.433, 0.65)],
    "3x3 half + upper 0.35": [(x, y, 0.5, 0.5) for x in (0.0, 0.25, 0.5) for y in (0.0, 0.25, 0.5)] + [(0.325, 0.1, 0.35, 0.35)],
}
imgs = [open_image(p) for p in main_paths]
tower = emb.image_tower
def crop_feats(spec):
    crops, owner = [], []
    for i, im in enumerate(imgs):
        for bx in boxes(im.width, im.height, spec):
            crops.append(im.crop(bx)); owner.append(i)
    feats = np.concatenate([tower.features(tower.prepare(crops[s:s + 32])) for s in range(0, len(crops), 32)])
    return feats, np.array(owner)

base_look = emb.looks(gal_feats)
def evaluate(look, owner, label):
    sims = q_look @ look.T
    best = np.full((len(q_look), len(ids)), -np.inf, np.float32)
    for j in range(look.shape[0]):
        best[:, owner[j]] = np.maximum(best[:, owner[j]], sims[:, j])
    top1 = best.argmax(1)
    hit = top1 == want
    by = Counter(); n = Counter()
    for q, h in zip(task.queries, hit):
        v = view(q.image); v = v if v in ("main", "alt1", "back") else "other"
        by[v] += h; n[v] += 1
    print(f"{label:28s} R@1 {hit.mean():.3f}  " + "  ".join(f"{v} {by[v] / n[v]:.3f} (n={n[v]})" for v in sorted(n)), flush=True)

evaluate(base_look, np.arange(len(ids)), "whole photo (look)")
for name, spec in SPECS.items():
    f, o = crop_feats(spec)
    for wgt in (0.95,):
        look = np.vstack([base_look, wgt * emb.looks(f)])
        evaluate(look, np.concatenate([np.arange(len(ids)), o]), f"{name} x{wgt}")
