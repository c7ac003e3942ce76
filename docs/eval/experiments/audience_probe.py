"""Probe: a soft audience (men's / women's) agreement between a text query and each photo, on luma names.

    .venv/bin/python docs/eval/experiments/audience_probe.py   (from the project root; reads out/cold24, reports/full_cold24)
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import torch
torch.set_num_threads(1)
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.encoders.embedder import Embedder, look_statistics
from engine.encoders import small_mlp
from engine.encoders.unit import unit
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
cfg = eval_config(Path("out/probes/gender"), "out/cold24/features.db")
b = ModelBundle.load(Path("reports/full_cold24/bundle"))
emb = Embedder.for_config(b, cfg)
gallery, train = datasets.fashion_split(2000, 42072)
def gender(title):
    w = title.split()
    for g in ("Men", "Women"):
        if g in w: return g
rows = [(r, gender(r["title"])) for r in train]
rows = [(r, g) for r, g in rows if g and r["master_category"] == "Apparel"]
rows = [rows[i] for i in np.random.default_rng(0).choice(len(rows), 12000, replace=False)]
feats = emb.image_features([datasets.fashion_product(r).images[0] for r, _ in rows])
head = b.heads.image
emb.look_stats = look_statistics(feats, (head.mean.numpy(), head.std.numpy())); emb.look_colour_weight = 0.75
learnt = small_mlp.learn(emb.looks(feats), np.array([g == "Men" for _, g in rows], np.int64), 2, 256, 10, 0)
w1 = learnt.w1.numpy(); b1 = (learnt.bias1 - learnt.w1 @ learnt.mean).numpy()
task = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
photos = {p.id: p.images[0] for p in task.products}
ids = list(photos)
lf = emb.image_features([photos[i] for i in ids])
emb.look_stats = look_statistics(lf, (head.mean.numpy(), head.std.numpy()))
lg = small_mlp.logits(emb.looks(lf), w1, b1, learnt.w2.numpy(), learnt.b2.numpy())
p_men_photo = dict(zip(ids, torch.softmax(torch.from_numpy(lg), 1)[:, 1].numpy()))
base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
eng, _ = runner.build_engine(task, b, base, Path("out/probes/gender/idx"))
anchors = unit(emb.text_features(["men", "women"], "passage"))
qv = unit(emb.text_features([q.text for q in task.queries], "query"))
margin = qv @ anchors[0] - qv @ anchors[1]
cat = {p.id: p.category for p in task.products}
truth = np.array([cat[next(iter(q.relevant))].split("/")[0] for q in task.queries])
app = np.isin(truth, ["Men", "Women"])
print("whole-query gender acc on apparel", np.mean((margin[app] > 0) == (truth[app] == "Men")))
results = [[(r.product.id, r.score) for r in eng.search(Query(text=q.text, k=100)).results] for q in task.queries]
rel = [next(iter(q.relevant)) for q in task.queries]
def recall(w, T, idx):
    hits = []
    for i in idx:
        pm = 1 / (1 + np.exp(-margin[i] / T))
        rescored = sorted(results[i], key=lambda x: -(x[1] + w * (pm * p_men_photo[x[0]] + (1 - pm) * (1 - p_men_photo[x[0]]))))
        hits.append(rel[i] in [x[0] for x in rescored[:10]])
    return np.mean(hits)
n = len(task.queries); idx = np.random.default_rng(1).permutation(n); halves = (idx[: n // 2], idx[n // 2:])
print("base", recall(0, 1, range(n)))
for T in (0.005, 0.01, 0.02, 0.05):
    print(T, [(w, round(recall(w, T, halves[0]), 3), round(recall(w, T, halves[1]), 3), round(recall(w, T, range(n)), 3)) for w in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)])
