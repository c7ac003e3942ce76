"""Probe (fifth session): fine-tuning the default bundle with lower learning rates, 5 seeds.

Run from the project root: python docs/eval/experiments/finetune_lr_probe.py (output: finetune_lr_probe.txt)."""
import copy, sys
from dataclasses import replace
import numpy as np
import engine
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder
from engine.train import collect_pairs, heldout_recall, train_space
from eval.finetune_figures import products_of, test_split
default = ModelBundle.load(default_bundle_path())
cfg = EngineConfig(feature_cache="out/cold/features.db", space=SpaceConfig(dim=256, head="mlp"))
emb = Embedder.for_config(default, cfg)
for name in ("luma", "newbee_zh"):
    data = collect_pairs(products_of(name), emb, augment=True)
    res = {}
    for seed in range(5):
        test, train = test_split(data, seed)
        t = TrainConfig(epochs=40, holdout=0.15, seed=seed, race_scratch=False)  # fine-tuning alone, as measured
        runs = {"scratch": train_space(copy.deepcopy(default), train, t, progress=False)}
        for lr in (2e-3, 5e-4, 2e-4):
            for rs in (False, True):
                runs[f"ft lr{lr} refit{rs}"] = train_space(copy.deepcopy(default), train, replace(t, lr=lr, refit_stats=rs), progress=False, from_existing=True)
        for k, b in runs.items():
            res.setdefault(k, []).append(heldout_recall(b, data, test)["recall@10"])
    for k, v in res.items():
        print(f"{name:10s} {k:28s} R@10 {np.mean(v):.3f} ± {np.std(v):.3f}  {np.round(v,3).tolist()}", flush=True)
