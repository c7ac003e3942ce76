"""Probe: a type reader (article type from the photo's look, or look + palette: a logistic regression over
the training split's 117+ article types) beside the colour reader (floor 0.1), fashion "<colour> <type>"
photos only, 60 candidates re-scored outside the engine (fifteenth session).

    .venv/bin/python docs/eval/experiments/type_reader_probe.py   (needs ../shared/data; ~3 min)
"""
import sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_reader import learn_reader
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
out = Path("out/probes/s15type"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load("reports/tune_s14/bundle")
gallery, train = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
cfg = replace(cfg, read_categories=False)
eng, _ = runner.build_engine(task, bundle, cfg, out / "idx")
emb = eng.embedder
print(train[0].keys())
types = sorted({r["article_type"] for r in train}); tid = {t: i for i, t in enumerate(types)}
paths = [str(datasets.DATA / "fashion" / r["image"]) for r in train]
t0 = time.time(); F = emb.image_features(paths); P = emb.photo_extras("palette", paths); print("feats", F.shape, time.time() - t0)
L = emb.looks(F); print("looks", L.shape)
y = np.array([tid[r["article_type"]] for r in train])
counts = np.bincount(y, minlength=len(types)); keep = counts[y] >= 5
yk = np.where(keep, y, -1)
feats = {"looks": L, "looks+pal": np.hstack([L, P])}
readers = {}
for k, X in feats.items():
    t0 = time.time(); readers[k] = learn_reader(types, yk, X, max_iter=200)
    print(k, "fit", round(time.time() - t0, 1), "s, train acc", np.mean((X[keep] @ readers[k].weight.T + readers[k].bias).argmax(1) == y[keep]), flush=True)
gids = sorted(row); gpos = {g: i for i, g in enumerate(gids)}
gp = [str(datasets.DATA / "fashion" / row[i]["image"]) for i in gids]
GF = emb.image_features(gp); GL = emb.looks(GF); GP = emb.photo_extras("palette", gp)
G = {"looks": GL, "looks+pal": np.hstack([GL, GP])}
gy = np.array([tid.get(row[i]["article_type"], -1) for i in gids])
for k in readers:
    print(k, "gallery acc", np.mean((G[k][gy >= 0] @ readers[k].weight.T + readers[k].bias).argmax(1) == gy[gy >= 0]))
rng = np.random.default_rng(0); half = dict(zip(gids, rng.permutation(len(gids)) % 2))
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=60)).results
    ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
    t = next(row[p]["article_type"] for p in q.relevant); ti = tid.get(t)
    sel = [gpos[i] for i in ids]
    s = {k: (readers[k].read(G[k][sel], [ti]) if ti is not None else np.zeros(len(ids))) for k in readers}
    res.append((sc, s, np.array([i in q.relevant for i in ids]), half[next(iter(q.relevant))]))
print("off", np.mean([rel[:10].mean() for sc, s, rel, h in res]))
for k in readers:
    for w in (0.05, 0.1, 0.2, 0.3, 0.5):
        v = np.array([rel[np.argsort(-(sc + w * s[k]), kind="stable")[:10]].mean() for sc, s, rel, h in res]); hh = np.array([h for *_, h in res])
        print(k, w, "halves %.3f / %.3f all %.3f" % (v[hh == 0].mean(), v[hh == 1].mean(), v.mean()), flush=True)
