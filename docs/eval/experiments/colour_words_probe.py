"""Probe: colour words in a text query compared with the photos' colour histograms.

The query's colour phrase ("navy blue") selects a colour prototype: the mean square-rooted HSV histogram
of the training photos whose catalogue colour is that phrase (learned, no hand-written colours). Each
candidate of the engine's top 100 gains w x cos(its photo's histogram, the prototype). w is chosen on
one half of the queries and reported on the other.

    .venv/bin/python docs/eval/experiments/colour_words_probe.py [bundle folder]
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from dataclasses import replace
from engine.encoders.bundle import ModelBundle
from engine.encoders.embedder import Embedder
from engine.features import FeatureCache
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config, train_bundle

out = Path("out/colour_probe")
cfg = eval_config(out, "out/figures/features.db")
gallery, train_rows = datasets.fashion_split(2000, 42072)
if len(sys.argv) > 1:
    bundle = ModelBundle.load(Path(sys.argv[1]))
else:
    bundle = train_bundle(cfg, train_rows, progress=False)
    bundle.save(out / "bundle")
emb = Embedder.for_config(bundle, cfg)
emb.cache = FeatureCache(cfg.feature_cache_path)
cnn = emb.image_tower.backbone_dim

def hists(paths):
    h = emb.image_features(paths)[:, cnn:]
    return h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)

t = time.time()
train_h = hists([str(datasets.DATA / "fashion" / r["image"]) for r in train_rows])
colours = sorted({r["base_colour"] for r in train_rows if r["base_colour"]})
labels = np.array([r["base_colour"] for r in train_rows])
protos = {c.lower(): train_h[labels == c].mean(0) for c in colours if (labels == c).sum() >= 5}
protos = {c: p / np.linalg.norm(p) for c, p in protos.items()}
print(f"{len(protos)} colour prototypes from {len(train_rows)} training photos ({time.time() - t:.0f} s)")
SYN = {"gray": "grey"}

def colour_of(text):
    """The longest known colour phrase in the text, or None."""
    words = text.lower().split()
    words = [SYN.get(w, w) for w in words]
    best = None
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i:i + n])
            if phrase in protos and (best is None or n > len(best.split())):
                best = phrase
    return best

def probe(task, folder):
    eng, _ = runner.build_engine(task, bundle, replace(cfg, read_categories=False,
                                 fusion=replace(cfg.fusion, w_text=0.0)), folder)
    print(f"{task.name}: shared-space fit {eng.index.shared_fit:.2f}")
    ids = [p.id for p in task.products]
    hist = dict(zip(ids, hists([p.images[0] for p in task.products])))
    base, cands = [], []
    for q in task.queries:
        image = runner.open_image(q.image) if q.image else None
        r = eng.search(Query(image=image, text=q.text, k=100)).results
        c = colour_of(q.text)
        cands.append([(x.product.id, x.score, float(hist[x.product.id] @ protos[c]) if c else 0.0) for x in r])
    found = sum(colour_of(q.text) is not None for q in task.queries)
    rng = np.random.default_rng(0).permutation(len(task.queries))
    halves = rng[: len(rng) // 2], rng[len(rng) // 2:]
    single = all(len(q.relevant) == 1 for q in task.queries)
    def p10(w, idx):  # P@10, or R@1 where each query has one answer
        vals = []
        for i in idx:
            ranked = [pid for pid, s, h in sorted(cands[i], key=lambda x: -(x[1] + w * x[2]))]
            rel = task.queries[i].relevant
            vals.append(float(ranked[0] in rel) if single else sum(pid in rel for pid in ranked[:10]) / 10)
        return float(np.mean(vals))
    grid = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    tuned = [(p10(w, halves[0]), w) for w in grid]
    best_w = max(tuned)[1]
    print(f"{task.name}: {found}/{len(task.queries)} queries name a known colour")
    print(f"  ({'R@1' if single else 'P@10'}) tune half by w: " + ", ".join(f"{w}: {s:.3f}" for s, w in tuned))
    print(f"  report half: w 0 {p10(0, halves[1]):.3f} -> w {best_w} {p10(best_w, halves[1]):.3f};"
          f" all queries w 0 {p10(0, rng):.3f}, w {best_w} {p10(best_w, rng):.3f}", flush=True)

for task in datasets.luma_tasks():
    if "colour" in task.name:
        probe(task, out / "luma")
for task in datasets.fashion_tasks(gallery):
    if "type + colour" in task.name and task.kind == "text":
        probe(task, out / "fashion")
