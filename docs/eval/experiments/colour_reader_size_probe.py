"""Probe: from how many training photos the MLP colour reader reads better than the regression
(``engine/encoders/colour_reader.py``: ``MLP_MIN_PHOTOS``).

Both readers learnt from seeded subsets of fashion's training photos with one stated colour (their
palettes from the feature cache; colour values the subset has at least 10 photos of, as the colour words
keep them), accuracy = top-1 on the 2,000 held-out gallery photos whose colour the reader knows (a reader
that knows fewer colours is not credited for the rest), three subsets a size.

    .venv/bin/python docs/eval/experiments/colour_reader_size_probe.py --cache out/cold24/features.db
"""
import argparse, sys, time
from collections import Counter
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.encoders import colour_reader
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_words import words_of
from engine.encoders.embedder import Embedder
from engine.features import FeatureCache
from eval import datasets

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--bundle", default="engine/default_bundle")
ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2500, 5000, 10000, 20000])
args = ap.parse_args()
emb = Embedder(ModelBundle.load(Path(args.bundle)), FeatureCache(args.cache))
gallery, train = datasets.fashion_split(2000, 42072)
colour = lambda r: " ".join(words_of(r["base_colour"]))  # noqa: E731
pal = lambda rows: emb.photo_extras("palette", [str(datasets.DATA / "fashion" / r["image"]) for r in rows])  # noqa: E731
train = [r for r in train if colour(r)]
TP, GP = pal(train), pal(gallery)
gy = [colour(r) for r in gallery]
print(f"{len(train)} training photos with a colour; palettes {TP.shape}", flush=True)
for size in args.sizes:
    for form in ("regression", "mlp"):
        accs, secs = [], []
        for seed in range(3):
            pick = np.random.default_rng(seed).choice(len(train), size=min(size, len(train)), replace=False)
            counts = Counter(colour(train[i]) for i in pick)
            names = sorted(c for c, n in counts.items() if n >= 10)
            ids = {c: k for k, c in enumerate(names)}
            labels = np.array([ids.get(colour(train[i]), -1) for i in pick])
            colour_reader.MLP_MIN_PHOTOS = 0 if form == "mlp" else 10 ** 9
            t0 = time.time()
            reader = colour_reader.learn_reader(names, labels, TP[pick], seed=seed)
            secs.append(time.time() - t0)
            known = np.array([g in ids for g in gy])
            got = reader.log_probabilities(GP[known]).argmax(1)
            accs.append(float(np.mean(got == np.array([ids[g] for g in np.array(gy)[known]]))))
        print(f"{size:6d} photos, {form:10s}: gallery top-1 {np.mean(accs):.3f} ({', '.join(f'{a:.3f}' for a in accs)}), "
              f"{np.mean(secs):.1f} s", flush=True)
