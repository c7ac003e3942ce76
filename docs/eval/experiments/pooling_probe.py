"""Probe: which pooling of EfficientNet-Lite0's feature maps finds the same luma product from another view?

    .venv/bin/python docs/eval/experiments/pooling_probe.py  (needs ../shared/data; ~3 min on 2 cores)

luma photo -> product (index = each product's main photo, queries = its other photos), cosine k-NN,
no training. Products are split into two seeded halves by id: a variant is *chosen* on half A and
*reported* on half B (the gallery is always all 199 products). Variants: the pooled head (what the
engine uses), GeM / max pooling of the head, pooled outputs of earlier blocks (mid-level texture),
input size, and their concatenations (each part L2-normalised, then joined).
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: E402,F401
from engine.config import ImageTowerSpec  # noqa: E402
from engine.encoders import build_image_tower  # noqa: E402
from engine.encoders.colour import colour_histograms  # noqa: E402
from engine.images import open_image, square_crop  # noqa: E402
from eval import datasets  # noqa: E402


def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def pools(fmap, torch):
    """(n, c, h, w) -> dict of pooled (n, c) arrays."""
    pos = fmap.clamp(min=1e-6)
    return {"avg": fmap.mean((2, 3)), "max": fmap.amax((2, 3)), "gem3": pos.pow(3).mean((2, 3)).pow(1 / 3)}


def block_maps(model, x):
    """Outputs of selected stages: the head, the last block, and the last block of each resolution."""
    m = model
    out = {}
    h = m._swish(m._bn0(m._conv_stem((x - 127.0) / 128.0)))
    prev_hw = h.shape[-1]
    for i, block in enumerate(m._blocks):
        nxt = block(h)
        if nxt.shape[-1] != h.shape[-1]:
            out[f"s{prev_hw}"] = h  # last map at the previous resolution
            prev_hw = nxt.shape[-1]
        h = nxt
    out["last_block"] = h
    out["head"] = m._swish(m._bn1(m._conv_head(h)))
    return out


def features(tower, paths, size, torch):
    feats = {}
    for i in range(0, len(paths), 16):
        imgs = [open_image(p) for p in paths[i:i + 16]]
        batch = np.stack([square_crop(im, size) for im in imgs])
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float()
            for stage, fmap in block_maps(tower.model, x).items():
                for pool, v in pools(fmap, torch).items():
                    feats.setdefault(f"{stage}/{pool}@{size}", []).append(v.numpy())
        feats.setdefault(f"colour@{size}", []).append(colour_histograms(batch, 8))
    return {k: np.concatenate(v) for k, v in feats.items()}


def r_at_1(task, ids, gallery, queries, keep):
    top = np.argmax(queries @ gallery.T, axis=1)
    hits = [ids[j] in q.relevant for q, j in zip(task.queries, top)]
    return float(np.mean([h for h, k in zip(hits, keep) if k]))


def main() -> int:
    if datasets.data_missing():
        return 1
    import torch

    torch.set_num_threads(2)
    task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
    ids = [p.id for p in task.products]
    half = {p.id: int(hashlib.sha1(str(p.id).encode()).hexdigest(), 16) % 2 for p in task.products}
    qhalf = np.array([half[next(iter(q.relevant))] for q in task.queries])
    tower = build_image_tower(ImageTowerSpec(name="efficientnet-lite0", image_size=224, colour_bins=0), "cpu")
    g, q = {}, {}
    for size in (224, 320):
        t = time.perf_counter()
        g.update(features(tower, [p.images[0] for p in task.products], size, torch))
        q.update(features(tower, [x.image for x in task.queries], size, torch))
        print(f"{size}px features in {time.perf_counter() - t:.0f} s", flush=True)

    def score(parts, weights=None):
        weights = weights or [1.0] * len(parts)
        mean = {k: g[k].mean(0) for k in parts}
        std = {k: g[k].std(0) + 1e-3 for k in parts}
        G = np.concatenate([w * unit((g[k] - mean[k]) / std[k]) for k, w in zip(parts, weights)], axis=1)
        Q = np.concatenate([w * unit((q[k] - mean[k]) / std[k]) for k, w in zip(parts, weights)], axis=1)
        return r_at_1(task, ids, G, Q, qhalf == 0), r_at_1(task, ids, G, Q, qhalf == 1)

    print(f"queries: half A {int((qhalf == 0).sum())}, half B {int((qhalf == 1).sum())}; standardised by the gallery")
    rows = [([k], None) for k in sorted(g) if not k.startswith("colour")]
    for size in (224, 320):
        mid, low = f"s{size // 16}", f"s{size // 8}"  # stride-16 and stride-8 maps
        for extra in (f"{mid}/gem3", f"{mid}/avg", f"{low}/gem3", "last_block/gem3"):
            rows.append(([f"head/avg@{size}", f"{extra}@{size}"], None))
        rows.append(([f"head/avg@{size}", f"colour@{size}"], [1.0, 0.5]))
        rows.append(([f"last_block/gem3@{size}", f"colour@{size}"], [1.0, 0.5]))
        rows.append(([f"head/gem3@{size}", f"{mid}/gem3@{size}", f"colour@{size}"], [1.0, 1.0, 0.5]))
    rows.append((["head/avg@224", "head/avg@320"], None))
    rows.append((["last_block/gem3@224", "last_block/gem3@320", "colour@224"], [1.0, 1.0, 0.7]))
    for parts, w in rows:
        a, b = score(parts, w)
        print(f"A {a:.3f}  B {b:.3f}  {' + '.join(parts)}{'' if w is None else ' w=' + str(w)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
