"""Probe: fine-tuning the default bundle against training from scratch, by training length, 15 seeds, paired.

    .venv/bin/python docs/eval/experiments/finetune_length_probe.py 0 15   (needs ../shared/data; ~13 min on 2 cores)

Same split and metric as ``python -m eval.finetune_figures`` (test third of the catalogue, title -> first
photo R@10 among the test products). A catalogue of 130 training products is one batch: 40 epochs are 40
optimiser steps, so a longer run (120) was tried for both; "refit" re-estimates the heads input
statistics on the shop (TrainConfig.refit_stats, the default when fine-tuning). Differences are paired
by seed (same split and initialisation seed) against scratch at 40 epochs (what shopsight train does).
"""
import copy, sys, json
from pathlib import Path
from dataclasses import replace
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder
from engine.train import collect_pairs, heldout_recall, train_space
from eval.finetune_figures import products_of, test_split

seeds = range(int(sys.argv[1]), int(sys.argv[2]))
res = {}
for name in ("luma", "newbee_zh"):
    default = ModelBundle.load(default_bundle_path())
    cfg = EngineConfig(feature_cache='out/figures/features.db', space=SpaceConfig(dim=256, head="mlp"))
    data = collect_pairs(products_of(name), Embedder.for_config(default, cfg), augment=True)
    for seed in seeds:
        test, train = test_split(data, seed)
        # fine-tuning alone (no race, no side-by-side sets) with the statistics named, as when this was measured
        tcfg = TrainConfig(epochs=40, holdout=0.15, seed=seed, race_scratch=False)
        runs = {
            "scratch40": lambda: train_space(copy.deepcopy(default), train, tcfg, progress=False),
            "scratch120": lambda: train_space(copy.deepcopy(default), train, replace(tcfg, epochs=120), progress=False),
            "ft40": lambda: train_space(copy.deepcopy(default), train, replace(tcfg, refit_stats=False), progress=False, from_existing=True),
            "ft40 refit": lambda: train_space(copy.deepcopy(default), train, replace(tcfg, refit_stats=True), progress=False, from_existing=True),
            "ft120": lambda: train_space(copy.deepcopy(default), train, replace(tcfg, refit_stats=False, epochs=120), progress=False, from_existing=True),
            "ft120 refit": lambda: train_space(copy.deepcopy(default), train, replace(tcfg, refit_stats=True, epochs=120), progress=False, from_existing=True),
        }
        for k, f in runs.items():
            res.setdefault(name, {}).setdefault(k, []).append(heldout_recall(f(), data, test)["recall@10"])
        print(name, seed, {k: round(v[-1], 3) for k, v in res[name].items()}, flush=True)
json.dump(res, open(f'out/finetune_length_probe_{seeds.start}_{seeds.stop}.json', 'w'))
for name, d in res.items():
    for k, v in d.items():
        diff = np.array(v) - np.array(d["scratch40"])
        print(f"{name:10s} {k:12s} R@10 {np.mean(v):.3f} ± {np.std(v):.3f}   vs scratch40 {diff.mean():+.3f} (se {diff.std(ddof=1)/np.sqrt(len(v)):.3f})")
