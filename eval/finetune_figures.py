"""Training on a shop's own catalogue: the default bundle, training from scratch, and fine-tuning it.

    python -m eval.finetune_figures [--catalogues luma newbee_zh] [--epochs 40] [--seeds 0 1 2 3 4] [--out out/finetune]

For each catalogue of ../shared/data never used to train the default bundle, products are split
(seeded) into a test third and the rest; the rest is all the training run sees (``train_space`` keeps
its own held-out share of it for choosing the epoch and, when fine-tuning, for keeping the start
bundle if training did not beat it). Reported on the test third only: title -> first photo recall@1
and @10 among the test products, for (a) the default bundle as shipped, (b) new heads trained from
scratch on the same towers, (c) three such sets side by side (seeds s, s + 1000, s + 2000: the control
of the same size as (e)), (d) the default bundle fine-tuned alone, (e) what ``shopsight train
--start-from default`` does: (d) side by side with two sets from scratch (``train.head_sets`` = 3), or
the default itself where it does better on the training run's own held-out split.
Each seed draws another split and initialisation; with several seeds the mean and standard deviation
over seeds are printed last (a test third of 66 or 187 products moves by several points from one
split to the next, so one seed cannot order methods that close). Writes <out>/finetune_figures.json.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import replace

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder
from engine.train import PairData, collect_pairs, heldout_recall, train_space

from . import datasets, report


def subset(data: PairData, products: np.ndarray) -> PairData:
    """The pairs of ``products`` only, products renumbered 0..len-1."""
    new_id = np.full(data.n_products, -1)
    new_id[products] = np.arange(len(products))
    img = new_id[data.image_product] >= 0
    txt = new_id[data.text_product] >= 0
    old_txt_rows = np.flatnonzero(txt)
    txt_row = np.full(len(data.text_product), -1)
    txt_row[old_txt_rows] = np.arange(len(old_txt_rows))
    return PairData(data.image_feats[img], new_id[data.image_product[img]], data.text_feats[txt],
                    new_id[data.text_product[txt]], txt_row[data.query_text[products]], len(products))


def test_split(data: PairData, seed: int) -> tuple[np.ndarray, PairData]:
    """(the seed's test third of the products, the pairs of the rest: all that training may see)."""
    order = np.random.default_rng(seed).permutation(data.n_products)
    return np.sort(order[: data.n_products // 3]), subset(data, np.sort(order[data.n_products // 3:]))


def products_of(name: str):
    if name == "luma":
        return [p for p in datasets.luma_tasks()[0].products]
    if name == "newbee_zh":
        return datasets.newbee_tasks()[0].products
    raise SystemExit(f"unknown catalogue {name!r}")


def run(name: str, epochs: int, cache: str, seed: int = 0) -> dict:
    default = ModelBundle.load(default_bundle_path())
    cfg = EngineConfig(feature_cache=cache, space=SpaceConfig(dim=256, head="mlp"))
    embedder = Embedder.for_config(default, cfg)
    data = collect_pairs(products_of(name), embedder, augment=True, progress=True)
    test, train = test_split(data, seed)
    tcfg = TrainConfig(epochs=epochs, holdout=0.15, seed=seed)
    scratch = train_space(copy.deepcopy(default), train, tcfg, progress=False)
    three = train_space(copy.deepcopy(default), train, replace(tcfg, scratch_sets=3), progress=False)
    tuned = train_space(copy.deepcopy(default), train, replace(tcfg, race_scratch=False),
                        progress=False, from_existing=True)
    raced = train_space(copy.deepcopy(default), train, tcfg, progress=False, from_existing=True)
    out = {"catalogue": name, "seed": seed, "products": data.n_products, "test_products": len(test),
           "train_products": train.n_products}
    for label, bundle in zip(METHODS, (default, scratch, three, tuned, raced)):
        out[label] = {k: round(v, 4) for k, v in heldout_recall(bundle, data, test).items() if k != "n"}
        print(f"{name:10s} seed {seed} {label:52s} test title->photo recall@1 {out[label]['recall@1']:.3f}  "
              f"recall@10 {out[label]['recall@10']:.3f}  ({len(test)} test products)", flush=True)
    out["fine-tuned kept"], out["default kept"] = tuned.metrics.get("kept"), raced.metrics.get("kept")
    return out


METHODS = ("default bundle", "trained from scratch", "from scratch, 3 sets side by side", "fine-tuned alone",
           "fine-tuned + 2 scratch sets side by side (default)")


def summarise(results: list[dict]) -> list[str]:
    """Per catalogue and method over the seeds: mean and standard deviation of test recall@1 and @10,
    and recall@10 minus training from scratch paired by seed (mean and standard error)."""
    lines = []
    for name in dict.fromkeys(r["catalogue"] for r in results):
        runs = [r for r in results if r["catalogue"] == name]
        base = np.array([r[METHODS[1]]["recall@10"] for r in runs])
        for label in METHODS:
            r1 = np.array([r[label]["recall@1"] for r in runs])
            r10 = np.array([r[label]["recall@10"] for r in runs])
            diff = r10 - base
            lines.append(f"{name:10s} {label:52s} over {len(runs)} seeds: recall@1 {r1.mean():.3f} ± {r1.std():.3f}  "
                         f"recall@10 {r10.mean():.3f} ± {r10.std():.3f}  minus scratch {diff.mean():+.3f} "
                         f"(SE {diff.std(ddof=1) / np.sqrt(len(diff)):.3f})")
        kept = [r["default kept"] for r in runs]
        lines.append(f"{name:10s} the default kept: " + ", ".join(f"{k} {kept.count(k)}" for k in dict.fromkeys(kept)))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalogues", nargs="+", default=["luma", "newbee_zh"])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--out", default="out/finetune")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 1
    results = [run(name, args.epochs, args.cache, seed) for name in args.catalogues for seed in args.seeds]
    if len(args.seeds) > 1:
        summary = summarise(results)
        for line in summary:
            print(line)
        results.append({"summary": summary})
    report.save_json(args.out, "finetune_figures.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
