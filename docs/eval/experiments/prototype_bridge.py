"""Probe: a second zero-shot bridge built from a product catalogue instead of ImageNet's classes.

    .venv/bin/python docs/eval/experiments/prototype_bridge.py  (needs ../shared/data and the feature cache; ~2 min)

Issue 7's task: luma names -> luma main photos, titles hidden, nothing trained on luma (the packaged
default bundle never saw luma). The ImageNet bridge mixes 1,000 class names; here the "classes" are the
44,072 fashion products: the query name's K nearest fashion *titles* in the text tower's own space
(softmax weights, temperature 0.05) give a weighted mean of those products' standardised CNN features
(a visual prototype), compared by cosine with each luma photo's CNN features (standardised with the
fashion statistics). Fashion photos are 60 x 80 px, so the luma photos are also seen shrunk to a side
of S px before the tower (the gap between a thumbnail and an 800 px photo is a large part of what
separates them).

Protocol: the 199 name queries are split in two seeded halves; S, K and the prototype's weight beside
the engine's text-query score (0.156 x shared + 0.25 x bridge, the default bundle's fit to luma) are
chosen on one half and reported on the other, both ways round. Then: how small could a shipped
vocabulary be (random subsets, PCA on the image side)?
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: E402,F401
from engine.encoders.bundle import ModelBundle, resolve_bundle_path  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.features import FeatureCache  # noqa: E402
from engine.images import open_image  # noqa: E402
from eval import datasets  # noqa: E402

SIDES = (None, 112, 80, 60)
KS = (10, 50, 200)
WEIGHTS = (0.25, 0.5, 1.0, 2.0)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def shrink(img: Image.Image, side: int | None) -> Image.Image:
    if side is None:
        return img
    s = side / max(img.size)
    return img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BICUBIC)


def main() -> int:
    if datasets.data_missing():
        return 1
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    emb = Embedder(bundle, FeatureCache("out/figures/features.db"))
    rows = datasets.fashion_rows()
    cnn = emb.image_tower.backbone_dim
    vocab_img = emb.image_features([str(datasets.DATA / "fashion" / r["image"]) for r in rows], progress=True)[:, :cnn]
    vocab_txt = unit(emb.text_features([r["title"] for r in rows], "passage"))
    mean, std = vocab_img.mean(0), vocab_img.std(0) + 1e-6
    vocab_img = unit((vocab_img - mean) / std)

    task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma text (name)"))
    ids = [p.id for p in task.products]
    want = np.asarray([ids.index(next(iter(q.relevant))) for q in task.queries])
    names = [q.text for q in task.queries]
    raw = unit(emb.text_tower.encode(names, role="query"))
    full = emb.image_features([p.images[0] for p in task.products])
    vecs = emb.image_vectors(full)
    base = 0.156 * (bundle.heads.project_texts(raw) @ vecs["shared"].T) + 0.25 * (raw @ vecs["bridge"].T)

    tower = emb.image_tower
    photos = [open_image(p.images[0]) for p in task.products]
    text_sims = raw @ vocab_txt.T
    protos = {}
    for side in SIDES:
        small = [shrink(img, side) for img in photos]
        feats = np.concatenate([tower.features(tower.prepare(small[i:i + 32])) for i in range(0, len(small), 32)])
        gallery = unit((feats[:, :cnn] - mean) / std)
        for k in KS:
            top = np.argsort(-text_sims, axis=1)[:, :k]
            w = np.take_along_axis(text_sims, top, 1)
            w = np.exp((w - w[:, :1]) / 0.05)
            protos[side, k] = unit(np.einsum("qk,qkd->qd", w, vocab_img[top])) @ gallery.T

    def r10(scores: np.ndarray, rows_: np.ndarray) -> float:
        top = np.argsort(-scores[rows_], axis=1)[:, :10]
        return float(np.mean([want[q] in t for q, t in zip(rows_, top)]))

    order = np.random.default_rng(0).permutation(len(names))
    halves = (order[: len(order) // 2], order[len(order) // 2:])
    print(f"luma name -> photo R@10 over all 199: engine-like score {r10(base, order):.3f}")
    for tune, held in (halves, halves[::-1]):
        grid = {(s, k, w): r10(base + w * protos[s, k], tune) for s in SIDES for k in KS for w in WEIGHTS}
        best = max(grid, key=grid.get)
        alone = max(((s, k) for s in SIDES for k in KS), key=lambda sk: r10(protos[sk], tune))
        print(f"tuned on {len(tune)}: side {best[0]}, K {best[1]}, weight {best[2]} (tuning R@10 {grid[best]:.3f}); "
              f"held-out {len(held)}: engine-like {r10(base, held):.3f} -> with prototypes {r10(base + best[2] * protos[best[:2]], held):.3f}; "
              f"prototypes alone (side {alone[0]}, K {alone[1]}) {r10(protos[alone], held):.3f}; "
              f"same at full size {r10(base + best[2] * protos[None, best[1]], held):.3f}", flush=True)
    vocabulary_sizes(emb, vocab_img, vocab_txt, raw, want, photos, mean, std)
    return 0


def vocabulary_sizes(emb, vocab_img, vocab_txt, raw, want, photos, mean, std) -> None:
    """What a shipped vocabulary could be: random subsets of the fashion products, image side reduced by
    PCA (fitted on 4,000 of the subset), prototypes alone at side 112; R@10 over all 199 names."""
    tower, cnn = emb.image_tower, emb.image_tower.backbone_dim
    small = [shrink(img, 112) for img in photos]
    feats = np.concatenate([tower.features(tower.prepare(small[i:i + 32])) for i in range(0, len(small), 32)])
    gallery = (feats[:, :cnn] - mean) / std
    rng = np.random.default_rng(0)
    for m in (len(vocab_img), 8000, 4000, 2000):
        sel = np.sort(rng.choice(len(vocab_img), m, replace=False))
        for dims in (None, 128):
            img, gal = vocab_img[sel], gallery
            if dims:
                centred = img - img.mean(0)
                basis = np.linalg.svd(centred[:4000], full_matrices=False)[2][:dims].T
                img, gal = img @ basis, gal @ basis
            img, gal = unit(img), unit(gal)
            sims = raw @ vocab_txt[sel].T
            out = []
            for k in (50, 200):
                top = np.argsort(-sims, axis=1)[:, :k]
                w = np.take_along_axis(sims, top, 1)
                w = np.exp((w - w[:, :1]) / 0.05)
                scores = unit(np.einsum("qk,qkd->qd", w, img[top])) @ gal.T
                out.append(np.mean([t in np.argsort(-scores[q])[:10] for q, t in enumerate(want)]))
            print(f"vocabulary {m} products, image side {dims or cnn} dims: prototypes alone R@10 K 50 {out[0]:.3f}, "
                  f"K 200 {out[1]:.3f}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
