"""Probe: a photo's exact shades for photo -> product (the part ``palette``, ``encoders/palette.py``).

The engine's photo-only answers (tuning bundle, cells and same shot on, before the part existed) are
re-scored outside the engine: the 10 best fused candidates gain w x a colour comparison of the query
photo with the candidate's photo, computed here from the image files (shrunk to 160 px, near-white
background left out, H x S x V bins). "formulas" compares histogram intersection, a presence test
(the query's colour mass in bins the photo has at least tau of) and the Bhattacharyya coefficient for
8 / 16 / 24 hues on luma; the default run compares bin counts and weights of the intersection on luma
photo -> product (R@1 on all queries and on two halves of the products) and on fashion photo -> same
type + colour (R@1, MRR; only the first 10 are re-ordered, so P@10 cannot move).

    .venv/bin/python docs/eval/experiments/palette_probe.py [formulas]   (needs ../shared/data; ~1 min)
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour import rgb_to_hsv
from engine.images import open_image
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

out = Path("out/probes/palette"); cfg = eval_config(out, "out/figures/features.db")
cfg = replace(cfg, fusion=replace(cfg.fusion, w_palette=0.0))  # the engine before the part
bundle = ModelBundle.load("reports/tune_local/bundle")
FORMULAS = len(sys.argv) > 1 and sys.argv[1] == "formulas"


def hist(path, hb, sb=3, vb=3, side=160):
    im = Image.open(path).convert("RGB"); im.thumbnail((side, side))
    hsv = rgb_to_hsv(np.asarray(im)).reshape(-1, 3)
    keep = ~((hsv[:, 1] < 0.08) & (hsv[:, 2] > 0.92))
    if keep.sum() < 0.02 * len(keep):
        keep[:] = True
    h = np.minimum((hsv[:, 0] * hb).astype(int), hb - 1); s = np.minimum((hsv[:, 1] * sb).astype(int), sb - 1)
    v = np.minimum((hsv[:, 2] * vb).astype(int), vb - 1)
    c = np.bincount(((h * sb + s) * vb + v)[keep], minlength=hb * sb * vb).astype(np.float64)
    return c / c.sum()


def run(task):
    eng, _ = runner.build_engine(task, bundle, cfg, out / task.name[:5])
    img = {p.id: p.images[0] for p in task.products}
    res = []
    for q in task.queries:
        ex = (q.filters.get("exclude"),) if q.filters.get("exclude") else ()
        r = eng.search(Query(image=open_image(q.image), k=10, exclude_ids=ex))
        res.append(([x.product.id for x in r.results], np.array([x.score for x in r.results])))
    ids = sorted(img); half_of = dict(zip(ids, np.random.default_rng(0).permutation(len(ids)) % 2))
    qh = np.array([half_of[q.id[1:]] if q.id[1:] in half_of else half_of[next(iter(q.relevant))] for q in task.queries])
    return img, res, qh


def compare(kind, q, p):
    if kind == "inter":
        return np.minimum(q, p).sum()
    if kind == "bhatt":
        return np.sqrt(q * p).sum()
    return (q * np.minimum(1, p / float(kind[3:]))).sum()  # "tau<t>": presence


luma = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
tasks = {"luma": luma} if FORMULAS else {"luma": luma, "fashion": datasets.fashion_tasks(datasets.fashion_split(2000, 42072)[0])[2]}
T = {name: (task, *run(task)) for name, task in tasks.items()}
views = np.array([(lambda v: v if v in ("main", "alt1", "back") else "other")(Path(q.image).stem.rsplit("_", 1)[-1])
                  for q in luma.queries])
if FORMULAS:
    grid = [(hb, 3, 3, kind, w) for hb in (8, 16, 24) for kind in ("inter", "tau0.05", "tau0.1", "bhatt")
            for w in (0.05, 0.1, 0.2, 0.4)]
else:
    grid = [(hb, sb, vb, "inter", w) for hb, sb, vb in [(8, 3, 3), (24, 3, 3), (36, 3, 3), (48, 3, 3), (24, 4, 4), (36, 2, 3)]
            for w in (0, 0.2, 0.4, 0.6, 0.8, 1.2)]
H = {}


def cached(path, hb, sb, vb):
    if (path, hb, sb, vb) not in H:
        H[path, hb, sb, vb] = hist(path, hb, sb, vb)
    return H[path, hb, sb, vb]


for hb, sb, vb, kind, w in grid:
    line = f"hue{hb}x{sb}x{vb} {kind} w{w:<4}"
    for name, (task, img, res, qh) in T.items():
        m = []
        for q, (ids, s) in zip(task.queries, res):
            c = np.array([compare(kind, cached(q.image, hb, sb, vb), cached(img[i], hb, sb, vb)) for i in ids])
            order = [ids[j] for j in np.argsort(-(s + w * c), kind="stable")]
            m.append(next((1 / (i + 1) for i, x in enumerate(order) if x in q.relevant), 0.0))
        m = np.array(m); r1 = m == 1
        line += f" | {name} R@1 {r1.mean():.3f} ({r1[qh == 0].mean():.3f}/{r1[qh == 1].mean():.3f}) MRR {m.mean():.3f}"
        if name == "luma" and FORMULAS:
            line += " " + " ".join(f"{v} {r1[views == v].mean():.3f}" for v in ("main", "back", "alt1", "other"))
    print(line, flush=True)
