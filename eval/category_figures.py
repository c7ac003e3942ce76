"""Category prediction from photos on held-out products, against the majority-class baseline.

    python -m eval.category_figures [--train 42072] [--epochs 30] [--out out/category]

Trains the shared space on the fashion training split, indexes the 2,000 held-out fashion products
and the 199 luma products (an unseen domain) with their given categories, then predicts each
product's category from its first photo with that product left out of the vote (leave-one-out).
Prints top-1 / top-3 accuracy of the full category path and the majority-class baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
import numpy as np

from . import datasets
from .__main__ import eval_config, train_bundle
from .runner import build_engine


def accuracy(search_engine, products) -> dict:
    model = search_engine.category_model()
    index = search_engine.index
    rows = np.asarray([index.table.row_of[p.id] for p in products])
    vecs = np.stack([index.photos.vectors[index.photos.rows_of(int(r))[0]] for r in rows])
    preds = model.predict(vecs, top=3, exclude_rows=rows)
    truth = [p.category for p in products]
    top1 = np.mean([pred[0][0] == t for pred, t in zip(preds, truth)])
    top3 = np.mean([t in [c for c, _ in pred] for pred, t in zip(preds, truth)])
    majority = Counter(truth).most_common(1)[0][1] / len(truth)
    return {"products": len(products), "categories": len(set(truth)), "top1": float(top1),
            "top3": float(top3), "majority_baseline": float(majority)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=42072)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="out/category")
    parser.add_argument("--cache", default="out/figures/features.db")
    args = parser.parse_args(argv)
    if datasets.data_missing():
        return 1
    out = Path(args.out)
    cfg = eval_config(out, args.cache, args.epochs)
    gallery, train_rows = datasets.fashion_split(2000, args.train)
    bundle = train_bundle(cfg, train_rows, progress=False)
    results = {}
    for name, task in (("fashion (2,000 held-out)", datasets.fashion_tasks(gallery, 0)[0]),
                       ("luma (unseen domain)", datasets.luma_tasks()[0])):
        task = replace(task, hide_titles=False)
        search_engine, _ = build_engine(task, bundle, cfg, out / name.split()[0])
        results[name] = accuracy(search_engine, task.products)
        print(json.dumps({name: results[name]}), flush=True)
    (out / "category_figures.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
