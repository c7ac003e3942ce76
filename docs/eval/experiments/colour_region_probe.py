"""Probe: the colour reader on regions of the photo, fashion "<colour> <type>" photos only (fifteenth session).

The engine's answers (tuning bundle, photos only, the reader's part off) re-scored outside the engine, 60
candidates, with score + w x the reader's score for the query's colour, readers fitted on the training
split's photos from: the whole photo's palette (the engine's), the centre (middle 70 % x 60 %), the
foreground (pixels unlike the median colour of a 2-px border), a centre-weighted foreground (Gaussian), and
concatenations. Also each reader's top-1 accuracy on the 2,000 gallery photos' catalogue colour.

    .venv/bin/python docs/eval/experiments/colour_region_probe.py   (needs ../shared/data; ~3 min)
"""
import sys, time
from collections import defaultdict
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour import rgb_to_hsv, SAT_BINS, VAL_BINS
from engine.encoders.colour_reader import learn_reader
from engine.encoders.colour_words import words_of
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
H = 24; DIM = H * 9

def hist(rgb, keep, weight=None):
    hsv = rgb_to_hsv(rgb).reshape(-1, 3)
    keep = keep.reshape(-1)
    w = np.ones(len(hsv), np.float32) if weight is None else weight.reshape(-1).astype(np.float32)
    if keep.sum() < 0.02 * keep.size: keep = np.ones_like(keep)
    hb = np.minimum((hsv[:, 0] * H).astype(int), H - 1); sb = np.minimum((hsv[:, 1] * 3).astype(int), 2); vb = np.minimum((hsv[:, 2] * 3).astype(int), 2)
    code = (hb * 3 + sb) * 3 + vb
    h = np.bincount(code[keep], weights=w[keep], minlength=DIM).astype(np.float32)
    return np.sqrt(h / max(h.sum(), 1e-9))

def variants(path):
    rgb = np.asarray(Image.open(path).convert("RGB"))
    hh, ww = rgb.shape[:2]
    hsv = rgb_to_hsv(rgb)
    white = (hsv[..., 1] < 0.08) & (hsv[..., 2] > 0.92)
    whole = hist(rgb, ~white)
    y0, y1, x0, x1 = int(0.15 * hh), int(0.85 * hh), int(0.2 * ww), int(0.8 * ww)
    centre = hist(rgb[y0:y1, x0:x1], ~white[y0:y1, x0:x1])
    border = np.concatenate([rgb[:2].reshape(-1, 3), rgb[-2:].reshape(-1, 3), rgb[:, :2].reshape(-1, 3), rgb[:, -2:].reshape(-1, 3)]).astype(int)
    med = np.median(border, 0)
    bg = (np.abs(rgb.astype(int) - med).max(-1) < 24) | white
    fg = hist(rgb, ~bg)
    yy, xx = np.mgrid[0:hh, 0:ww]
    g = np.exp(-(((yy - hh / 2) / (0.35 * hh)) ** 2 + ((xx - ww / 2) / (0.35 * ww)) ** 2) / 2)
    gauss = hist(rgb, ~bg, g)
    return whole, centre, fg, gauss

if __name__ == "__main__":
    out = Path("out/probes/s15region"); cfg = eval_config(out, "out/figures/features.db")
    bundle = ModelBundle.load("reports/tune_s14/bundle")
    gallery, train = datasets.fashion_split(2000, 42072)
    row = {r["id"]: r for r in gallery}
    task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
    cfg = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0, w_colour_class=0.0))
    eng, _ = runner.build_engine(task, bundle, cfg, out / "idx")
    by = defaultdict(list)
    for r in train: by[" ".join(words_of(r["base_colour"]))].append(r)
    picked = [(c, r) for c, rs in by.items() if c and len(rs) >= 5 for r in rs]
    names = sorted({c for c, _ in picked}); cid = {c: i for i, c in enumerate(names)}
    y = np.array([cid[c] for c, _ in picked])
    t0 = time.time()
    with Pool(2) as p:
        V = p.map(variants, [str(datasets.DATA / "fashion" / r["image"]) for _, r in picked], chunksize=256)
    print(f"{len(picked)} palettes x4 in {time.time()-t0:.0f} s", flush=True)
    feats = {k: np.stack([v[i] for v in V]) for i, k in enumerate(["whole", "centre", "fg", "gauss"])}
    feats["whole+centre"] = np.hstack([feats["whole"], feats["centre"]])
    feats["whole+fg"] = np.hstack([feats["whole"], feats["fg"]])
    feats["fg+gauss"] = np.hstack([feats["fg"], feats["gauss"]])
    readers = {}
    for k, X in feats.items():
        t0 = time.time(); readers[k] = learn_reader(names, y, X)
        acc = np.mean((X @ readers[k].weight.T + readers[k].bias).argmax(1) == y)
        print(f"{k}: train acc {acc:.3f} ({time.time()-t0:.1f} s)", flush=True)
    gids = sorted(row)
    with Pool(2) as p:
        GV = p.map(variants, [str(datasets.DATA / "fashion" / row[i]["image"]) for i in gids])
    gf = {k: np.stack([v[i] for v in GV]) for i, k in enumerate(["whole", "centre", "fg", "gauss"])}
    gf["whole+centre"] = np.hstack([gf["whole"], gf["centre"]]); gf["whole+fg"] = np.hstack([gf["whole"], gf["fg"]]); gf["fg+gauss"] = np.hstack([gf["fg"], gf["gauss"]])
    gpos = {g: i for i, g in enumerate(gids)}
    # gallery accuracy of each reader on the gallery's own colours
    gy = np.array([cid.get(" ".join(words_of(row[i]["base_colour"])), -1) for i in gids])
    for k in readers:
        m = gy >= 0
        print(f"{k}: gallery acc {np.mean((gf[k][m] @ readers[k].weight.T + readers[k].bias).argmax(1) == gy[m]):.3f}")
    res = []
    for q in task.queries:
        r = eng.search(Query(text=q.text, k=60)).results
        ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
        colour = " ".join(words_of(next(row[p]["base_colour"] for p in q.relevant)))
        ci = cid.get(colour); sel = [gpos[i] for i in ids]
        s = {k: (readers[k].read(gf[k][sel], [ci]) if ci is not None else np.zeros(len(ids))) for k in readers}
        res.append((sc, s, np.array([i in q.relevant for i in ids])))
    for k in readers:
        line = []
        for w in (0.1, 0.2, 0.3, 0.4, 0.6):
            v = np.mean([rel[np.argsort(-(sc + w * s[k]), kind="stable")[:10]].mean() for sc, s, rel in res])
            line.append(f"{w}: {v:.3f}")
        print(k, " ".join(line), flush=True)
    print("off", np.mean([rel[:10].mean() for sc, s, rel in res]))
