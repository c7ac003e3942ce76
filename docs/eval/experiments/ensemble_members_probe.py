"""Probe: which head sets should ``shopsight train --start-from default`` keep side by side, and how to choose?

Follows ``ensemble_finetune_probe.py`` (scratch + a second set beat scratch alone). There the control's
second scratch model trained on another split; a trained bundle must keep one held-out split for its own
choice, so here every member trains on the *same* split and only the initialisation and batch order
differ (seed + 1000). Members: S (scratch, the split's seed), S2 (scratch, seed + 1000), T (the default
fine-tuned). Sets: each alone, S+T, S+S2, S+S2+T (similarities summed, i.e. the cosine of the joined unit
vectors), and rules that choose on the training run's own held-out split (best held-out R@10 among the
sets and the start, ties to the bigger set). Same protocol as ``eval.finetune_figures``: per seed a test
third held out, training on the rest; test title -> first photo R@10, minus scratch paired by seed.

    .venv/bin/python docs/eval/experiments/ensemble_members_probe.py --seeds $(seq 75 94)
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
from engine.train import _scratch_heads, collect_pairs, split_products, title_photo_sims, train_space
from eval.finetune_figures import products_of, test_split

ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, nargs="+", default=list(range(75, 95)))
ap.add_argument("--catalogues", nargs="+", default=["luma", "newbee_zh"])
ap.add_argument("--cache", default="out/cold18/features.db")
args = ap.parse_args()


def r10(s):
    return float(((s > np.diag(s)[:, None]).sum(1) < 10).mean())


SETS = {"S": ("S",), "S2": ("S2",), "T": ("T",), "S+T": ("S", "T"), "S+S2": ("S", "S2"), "S+S2+T": ("S", "S2", "T")}
RULES = {"race (today)": ("start", "T", "S"), "choose all": ("start", "T", "S", "S+T", "S+S2", "S+S2+T"),
         "choose S+T": ("start", "T", "S", "S+T"), "choose S+S2+T": ("start", "T", "S", "S+S2+T")}

for name in args.catalogues:
    default = ModelBundle.load(default_bundle_path())
    cfg = EngineConfig(feature_cache=args.cache, space=SpaceConfig(dim=256, head="mlp"))
    data = collect_pairs(products_of(name), Embedder.for_config(default, cfg), augment=True, progress=False)
    rows = []
    for seed in args.seeds:
        test, train = test_split(data, seed)
        tcfg = TrainConfig(epochs=40, holdout=0.15, seed=seed)
        train_p, val_p = split_products(train.n_products, tcfg.holdout, tcfg.seed)
        heads = {"start": default.heads,
                 "S": _scratch_heads(default, train, train_p, val_p, tcfg, False),
                 "S2": _scratch_heads(default, train, train_p, val_p, tcfg, False, seed + 1000),
                 "T": train_space(copy.deepcopy(default), train, replace(tcfg, race_scratch=False),
                                  progress=False, from_existing=True).heads}
        test_s = {k: title_photo_sims(h, data, test) for k, h in heads.items()}
        val_s = {k: title_photo_sims(h, train, val_p) for k, h in heads.items()}
        test_r = {"start": r10(test_s["start"])}
        val_r = {"start": r10(val_s["start"])}
        for label, members in SETS.items():
            test_r[label] = r10(sum(test_s[m] for m in members))
            val_r[label] = r10(sum(val_s[m] for m in members))
        row = dict(test_r)
        for rule, options in RULES.items():
            best = max(reversed(options), key=lambda o: val_r[o])  # ties: the later (bigger) option
            row[rule] = test_r[best]
            row[rule + " kept"] = best
        rows.append(row)
        print(name, seed, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    print(f"{name}: test R@10 mean over {len(rows)} seeds, and minus S (scratch) paired by seed (standard error)")
    for key in [k for k in rows[0] if not k.endswith("kept")]:
        v = np.array([r[key] for r in rows]); d = v - np.array([r["S"] for r in rows])
        print(f"  {key:16s} {v.mean():.3f}   {d.mean():+.3f} ({d.std(ddof=1) / np.sqrt(len(d)):.3f})", flush=True)
    for rule in RULES:
        kept = [r[rule + " kept"] for r in rows]
        print(f"  {rule} kept: " + ", ".join(f"{o} {kept.count(o)}" for o in dict.fromkeys(kept)), flush=True)
