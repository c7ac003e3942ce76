"""Probe: luma photo -> product (other views). Re-rank the look shortlist by matching the CNN's local
feature maps (query cells against the catalogue photo's cells at one or two scales), and try
colour-blind (greyscale) CNN features for other-colour views. All 534 queries (upper bounds).

    .venv/bin/python docs/eval/experiments/local_matching_probe.py   (needs ../shared/data; a few minutes)
"""
import sys, time
from pathlib import Path
from collections import Counter
import numpy as np
import torch
from luma_probe import luma_photo_setup
from engine.encoders.embedder import Embedder
from engine.features import FeatureCache
from engine.images import open_image, pad_square

torch.set_num_threads(2)
s = luma_photo_setup()
task, b, emb, ids, main_paths, gal_feats = s.task, s.bundle, s.emb, s.ids, s.main_paths, s.gal_feats
mean, std, q_paths, want = s.mean, s.std, s.q_paths, s.want
q_look = emb.looks(emb.image_features(q_paths))
g_look = emb.looks(gal_feats)
model = emb.image_tower.model


def view(path):
    v = Path(path).stem.rsplit("_", 1)[-1]
    return v if v in ("main", "alt1", "back") else "other"


views = [view(q.image) for q in task.queries]


def report(scores, label):
    top1 = scores.argmax(1)
    hit = top1 == want
    by, n = Counter(), Counter()
    for v, h in zip(views, hit):
        by[v] += h; n[v] += 1
    r5 = np.mean([want[i] in np.argsort(-scores[i])[:5] for i in range(len(want))])
    print(f"{label:44s} R@1 {hit.mean():.3f} R@5 {r5:.3f}  " +
          "  ".join(f"{v} {by[v] / n[v]:.3f}" for v in sorted(n)), flush=True)


def fmaps(paths, size, grey=False, layer="head"):
    """(n, h*w, c) unit cell descriptors, (n, h*w) foreground weights, (n, c) pooled."""
    out, fg, pooled = [], [], []
    for s in range(0, len(paths), 16):
        ims = [open_image(p) for p in paths[s:s + 16]]
        if grey:
            ims = [im.convert("L").convert("RGB") for im in ims]
        arr = np.stack([pad_square(im, size) for im in ims])
        x = torch.from_numpy(arr).permute(0, 3, 1, 2).float()
        with torch.inference_mode():
            xx = (x - 127.0) / 128.0
            if layer == "head":
                f = model.extract_features(xx)
            else:  # last block output before the head conv
                m = model
                h = m._swish(m._bn0(m._conv_stem(xx)))
                for blk in m._blocks:
                    h = blk(h)
                f = h
        n, c, hh, ww = f.shape
        pooled.append(f.mean((2, 3)).numpy())
        cells = f.permute(0, 2, 3, 1).reshape(n, hh * ww, c).numpy()
        out.append(cells)
        # foreground: share of non-white pixels under each cell
        nonwhite = (arr.min(axis=3) < 235).astype(np.float32)
        k = size // hh
        fgm = nonwhite[:, :hh * k, :ww * k].reshape(n, hh, k, ww, k).mean((2, 4)).reshape(n, hh * ww)
        fg.append(fgm)
    return np.concatenate(out), np.concatenate(fg), np.concatenate(pooled)


def unit(x):
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-9)


def standardise(cells, ref):
    m = ref.reshape(-1, ref.shape[-1]).mean(0); s = ref.reshape(-1, ref.shape[-1]).std(0) + 1e-6
    return unit((cells - m) / s)


def maxsim(qc, qw, gcs, shortlist):
    """mean over query cells (weighted by foreground) of the best cosine among the candidate's cells."""
    out = np.full((len(qc), len(ids)), -np.inf, np.float32)
    for i in range(len(qc)):
        w = qw[i] / (qw[i].sum() + 1e-9)
        for j in shortlist[i]:
            best = np.max(np.concatenate([qc[i] @ g[j].T for g in gcs], axis=1), axis=1)
            out[i, j] = float(w @ best)
    return out


t0 = time.time()
base = q_look @ g_look.T
report(base, "look (engine: CNN + colour 0.75)")
emb2 = Embedder(b, FeatureCache("out/figures/features.db")); emb2.look_colour_weight = 0.0; emb2.look_stats = (mean, std)
report(emb2.looks(emb.image_features(q_paths)) @ emb2.looks(gal_feats).T, "look, CNN only")
K = 20
short = np.argsort(-base, axis=1)[:, :K]
for layer in ("head", "block"):
    qc, qfg, qp = fmaps(q_paths, 224, layer=layer)
    gc, gfg, gp = fmaps(main_paths, 224, layer=layer)
    gc2, _, _ = fmaps(main_paths, 448, layer=layer)
    print(f"{layer} maps {qc.shape} {gc2.shape} in {time.time() - t0:.0f} s", flush=True)
    ref = gc
    qn, gn, gn2 = standardise(qc, ref), standardise(gc, ref), standardise(gc2, ref)
    for fgw in ("fg", "flat"):
        qw = qfg + 0.05 if fgw == "fg" else np.ones_like(qfg)
        ms1 = maxsim(qn, qw, [gn], short)
        ms2 = maxsim(qn, qw, [gn, gn2], short)
        for lab, ms in (("224", ms1), ("224+448", ms2)):
            report(ms, f"{layer} maxsim {lab} {fgw} (top {K})")
            for lam in (0.5, 1.0, 2.0):
                report(np.where(np.isfinite(ms), base + lam * ms, -np.inf), f"  look + {lam} x maxsim {lab} {fgw}")
# colour-blind features
_, _, qg = fmaps(q_paths, 224, grey=True)
_, _, gg = fmaps(main_paths, 224, grey=True)
m, s = gg.mean(0), gg.std(0) + 1e-6
grey = unit((qg - m) / s) @ unit((gg - m) / s).T
report(grey, "greyscale CNN pooled")
for lam in (0.5, 1.0):
    report(base + lam * grey, f"  look + {lam} x greyscale")
print(f"done in {time.time() - t0:.0f} s")
