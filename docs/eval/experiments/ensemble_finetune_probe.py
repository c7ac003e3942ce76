"""Probe: would the default bundle's heads *beside* a shop's own heads beat either alone?

Issue 7 wants training on a shop's catalogue, starting from the default bundle, to beat both the
default and training from scratch; fine-tuning the default's heads has stayed level with scratch over
45 seeds (README "Training on a shop's catalogue"). Here the two are kept side by side instead: a
text -> photo similarity is s_scratch + w x s_other, with s_other the default bundle's (unchanged), the
fine-tuned heads', or (the control: what any second model adds) heads trained from scratch from another
seed (the split's seed + 1000, which also moves the training run's own held-out split). Same protocol as ``eval.finetune_figures`` (per seed a test third held out, training
on the rest); test title -> first photo recall@10 per seed, and each ensemble minus scratch paired by
seed (mean and standard error).

    .venv/bin/python docs/eval/experiments/ensemble_finetune_probe.py [--seeds 0 1 2 ...] [--cache ...]
"""
import argparse
import copy
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: F401
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.encoders.embedder import Embedder
from engine.train import collect_pairs, title_photo_sims, train_space
from eval.finetune_figures import products_of, test_split

ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
ap.add_argument("--catalogues", nargs="+", default=["luma", "newbee_zh"])
ap.add_argument("--cache", default="out/cold18/features.db")
args = ap.parse_args()
WEIGHTS = (0.25, 0.5, 1.0)


def r10(s):
    return float(((s > np.diag(s)[:, None]).sum(1) < 10).mean())


for name in args.catalogues:
    default = ModelBundle.load(default_bundle_path())
    cfg = EngineConfig(feature_cache=args.cache, space=SpaceConfig(dim=256, head="mlp"))
    data = collect_pairs(products_of(name), Embedder.for_config(default, cfg), augment=True, progress=False)
    rows = []
    for seed in args.seeds:
        test, train = test_split(data, seed)
        tcfg = TrainConfig(epochs=40, holdout=0.15, seed=seed)
        scratch = train_space(copy.deepcopy(default), train, tcfg, progress=False)
        tuned = train_space(copy.deepcopy(default), train, replace(tcfg, race_scratch=False), progress=False,
                            from_existing=True)
        # the control: a second model from scratch (another initialisation, and another held-out split)
        other = train_space(copy.deepcopy(default), train, replace(tcfg, seed=seed + 1000), progress=False)
        s_s, s_d, s_t, s_o = (title_photo_sims(b.heads, data, test) for b in (scratch, default, tuned, other))
        row = {"default": r10(s_d), "scratch": r10(s_s), "fine-tuned": r10(s_t)}
        for w in WEIGHTS:
            row[f"scratch + {w} default"] = r10(s_s + w * s_d)
            row[f"scratch + {w} fine-tuned"] = r10(s_s + w * s_t)
            row[f"scratch + {w} scratch (seed + 1000)"] = r10(s_s + w * s_o)
        rows.append(row)
        print(name, seed, {k: round(v, 3) for k, v in row.items()}, flush=True)
    print(f"{name}: test R@10 mean over {len(rows)} seeds, and minus scratch paired by seed (standard error)")
    for key in rows[0]:
        v = np.array([r[key] for r in rows]); d = v - np.array([r["scratch"] for r in rows])
        print(f"  {key:40s} {v.mean():.3f}   {d.mean():+.3f} ({d.std(ddof=1) / np.sqrt(len(d)):.3f})", flush=True)
