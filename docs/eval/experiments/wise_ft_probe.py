"""Probe (not kept): WiSE-FT (Wortsman et al., 2022), weights of the default bundle's heads and the fine-tuned
heads interpolated, (1 - a) * default + a * fine-tuned, against training from scratch; 5 seeds, same split
and metric as eval.finetune_figures (title -> first photo R@10 on the test third). Fine-tuning with
bundle statistics at 40 and 120 epochs.

    .venv/bin/python docs/eval/experiments/wise_ft_probe.py luma newbee_zh   (~3 min on 2 cores)
"""
import copy, sys
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

ALPHAS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
def interp(a, b, alpha):
    out = copy.deepcopy(b)
    sa, sb = a.heads.state_dict(), b.heads.state_dict()
    out.heads.load_state_dict({k: (1 - alpha) * sa[k] + alpha * sb[k] if sb[k].is_floating_point() else sb[k] for k in sb})
    return out

res = {}
for name in sys.argv[1:]:
    default = ModelBundle.load(default_bundle_path())
    cfg = EngineConfig(feature_cache='out/figures/features.db', space=SpaceConfig(dim=256, head="mlp"))
    emb = Embedder.for_config(default, cfg)
    data = collect_pairs(products_of(name), emb, augment=True)
    for seed in range(5):
        test, train = test_split(data, seed)
        tcfg = TrainConfig(epochs=40, holdout=0.15, seed=seed, race_scratch=False)  # fine-tuning alone, as measured
        scratch = train_space(copy.deepcopy(default), train, tcfg, progress=False)
        for ep in (40, 120):
            tuned = train_space(copy.deepcopy(default), train, replace(tcfg, refit_stats=False, epochs=ep), progress=False, from_existing=True)
            row = {"scratch": heldout_recall(scratch, data, test)["recall@10"]}
            for a in ALPHAS:
                row[f"ft{ep} a{a}"] = heldout_recall(interp(default, tuned, a), data, test)["recall@10"]
            for k, v in row.items():
                res.setdefault((name, k), []).append(v)
        sc120 = copy.deepcopy(default)
        sc120.heads = type(default.heads)(default.image_dim, default.text_dim, default.space)
        sc120 = train_space(sc120, train, replace(tcfg, epochs=120), progress=False)
        res.setdefault((name, "scratch120"), []).append(heldout_recall(sc120, data, test)["recall@10"])
        print(name, seed, {k[1]: round(v[-1], 3) for k, v in res.items() if k[0] == name}, flush=True)
for (name, k), v in res.items():
    print(f"{name:10s} {k:14s} R@10 {np.mean(v):.3f} ± {np.std(v):.3f}  {np.round(v, 3).tolist()}")
