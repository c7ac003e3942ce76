"""Probe: the type reader (engine/encoders/type_reader.py) added to a bundle trained by the report.

Learns the reader from the fashion training split's photos (as ``eval.__main__.train_bundle`` does),
saves the bundle with it under ``--out``, and prints the reader's top-1 / top-3 accuracy on the 2,000
held-out gallery products' photos (looks standardised with the gallery's own statistics, as its index
does) against the majority class; then ``python -m eval.tune_fusion --weight w_type_class --bundle
<out>`` chooses the weight on half the queries.

    .venv/bin/python docs/eval/experiments/type_reader_mlp_probe.py --cache out/cold22/features.db \
        --base reports/full_cold22/bundle --out out/probes/type_reader/bundle
"""
import argparse, sys, time
from collections import Counter
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.config import IndexConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.embedder import Embedder, look_statistics
from engine.encoders.type_reader import type_reader_of
from engine.features import FeatureCache
from eval import datasets

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()
bundle = ModelBundle.load(Path(args.base))
embedder = Embedder(bundle, FeatureCache(args.cache))
gallery, train = datasets.fashion_split(2000, 42072)
weight = IndexConfig().look_colour_weight
t0 = time.time()
bundle.types = type_reader_of([datasets.fashion_product(r) for r in train], embedder, weight)
print(f"reader: {len(bundle.types.names)} article types, learnt in {time.time() - t0:.0f} s")
bundle.save(Path(args.out))
feats = embedder.image_features([str(datasets.DATA / "fashion" / r["image"]) for r in gallery])
embedder.look_stats, embedder.look_colour_weight = look_statistics(feats, (None, None)), weight
looks = embedder.looks(feats)
names = bundle.types.names
probs = np.stack([bundle.types.read(looks, [i]) for i in range(len(names))], axis=1)
truth = np.asarray([names.index(r["article_type"]) if r["article_type"] in names else -1 for r in gallery])
top3 = np.argsort(-probs, axis=1)[:, :3]
majority = Counter(r["article_type"] for r in train).most_common(1)[0]
print(f"held-out gallery ({len(gallery)} photos): top-1 {np.mean(top3[:, 0] == truth):.3f}, "
      f"top-3 {np.mean((top3 == truth[:, None]).any(1)):.3f}; majority class ({majority[0]}) "
      f"{np.mean([r['article_type'] == majority[0] for r in gallery]):.3f}")
