"""Probe (twenty-sixth session): can a reader of patterns ("striped", "checked", "printed", "solid"...)
learnt from fashion's titles read them from photos, on fashion's held-out gallery and on the demo shop's
drawn products (which the demo's "⟨colour⟩ ⟨pattern⟩ ⟨noun⟩" queries ask for)?

    .venv/bin/python docs/eval/experiments/pattern_reader_probe.py [--cache out/cold26/features.db]

Label = the one pattern word a fashion title holds (titles with none or two are left out); the reader is
``type_reader.learn_type_reader`` on the looks (as the type reader), trained on the report's training split,
read on the 2,000 held-out gallery products that have a label and on the demo shop's photos.
"""
import argparse, re, sys, tempfile, time
from collections import Counter
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.config import IndexConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder, look_statistics
from engine.encoders.type_reader import learn_type_reader
from engine.features import FeatureCache
from engine.sample_shop import generate
from eval import datasets

PATTERNS = {"Striped": r"strip(?:e|ed|es)", "Checked": r"check(?:ed|s)?|plaid", "Printed": r"print(?:ed)?",
            "Solid": r"solid", "Polka Dots": r"polka|dotted", "Floral": r"floral"}
DEMO = {"striped": "Striped", "checked": "Checked", "dotted": "Polka Dots", "plain": "Solid"}

ap = argparse.ArgumentParser()
ap.add_argument("--cache", default="out/cold26/features.db")
args = ap.parse_args()


def label(title: str) -> str:
    found = [p for p, rx in PATTERNS.items() if re.search(rf"\b(?:{rx})\b", title, re.I)]
    return found[0] if len(found) == 1 else ""


embedder = Embedder(ModelBundle.load(default_bundle_path("default")), FeatureCache(args.cache))
weight = IndexConfig().look_colour_weight


def looks_of(paths):
    feats = embedder.image_features(paths)
    embedder.look_stats, embedder.look_colour_weight = look_statistics(feats, (None, None)), weight
    return embedder.looks(feats)


gallery, train = datasets.fashion_split(2000, 42072)
train = [r for r in train if label(r["title"])]
gallery = [r for r in gallery if label(r["title"])]
print("train labels", Counter(label(r["title"]) for r in train).most_common(), flush=True)
t0 = time.time()
looks = looks_of([str(datasets.DATA / "fashion" / r["image"]) for r in train])
print(f"train looks {len(train)} in {time.time() - t0:.0f} s", flush=True)
reader = learn_type_reader([label(r["title"]) for r in train], looks, weight)
names = reader.names
probs = reader.probabilities(looks_of([str(datasets.DATA / "fashion" / r["image"]) for r in gallery]))
truth = np.asarray([names.index(label(r["title"])) for r in gallery])
print(f"held-out gallery {len(gallery)}: top-1 {np.mean(probs.argmax(1) == truth):.3f}; majority "
      f"{Counter(truth.tolist()).most_common(1)[0][1] / len(truth):.3f}")
for i, n in enumerate(names):
    m = truth == i
    print(f"  {n:12s} n={m.sum():4d} right {np.mean(probs[m].argmax(1) == i):.3f} mean p {probs[m, i].mean():.3f}")
with tempfile.TemporaryDirectory() as tmp:
    shop = generate(Path(tmp))
    items = [(p, str(Path(tmp) / p.images[0])) for p in shop if not p.duplicate_of]
    dprobs = reader.probabilities(looks_of([path for _, path in items]))
    for pat, name in DEMO.items():
        m = np.asarray([p.pattern == pat for p, _ in items])
        j = names.index(name)
        top = Counter(names[k] for k in dprobs[m].argmax(1)).most_common(3)
        rank_right = np.mean([np.argsort(-row).tolist().index(j) == 0 for row in dprobs[m]])
        print(f"  demo {pat:8s} n={m.sum():3d} read as {name}: {rank_right:.3f}, mean p {dprobs[m, j].mean():.3f}; top {top}")
