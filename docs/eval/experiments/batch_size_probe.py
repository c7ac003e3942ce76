"""Probe (not kept): the contrastive batch size of the shared space (fashion, 42,072 training products, 30
epochs, seed 0), measured on the 2,000 held-out products with the engine ("ours", photos only).

    .venv/bin/python docs/eval/experiments/batch_size_probe.py 256 1024 128 64   (~2.5 min per size on 2 cores)

Smaller batches hold fewer other products that share a short text view ("Navy Blue Tshirts") as in-batch
negatives; larger ones give more negatives.
"""
import sys, time
from pathlib import Path
from dataclasses import replace
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.config import TrainConfig
from engine.features import FeatureCache
from engine.train import collect_pairs, train_space
from engine.workflow import new_bundle
from eval import datasets, runner
from eval.__main__ import eval_config

gallery, train_rows = datasets.fashion_split(2000, 42072)
tasks = [t for t in datasets.fashion_tasks(gallery) if t.kind == "text"]
for batch in [int(x) for x in sys.argv[1:]]:
    cfg = eval_config(Path(f"out/batch_probe/{batch}"), "out/figures/features.db", epochs=30)
    cfg = replace(cfg, train=replace(cfg.train, batch_size=batch))
    bundle, emb = new_bundle(cfg)
    emb.cache = FeatureCache(cfg.feature_cache_path)
    data = collect_pairs([datasets.fashion_product(r) for r in train_rows], emb, augment=True)
    t = time.time()
    bundle = train_space(bundle, data, replace(cfg.train, holdout=0.1), progress=False)
    took = time.time() - t
    for task in tasks:
        outs = runner.run_task(task, bundle, cfg, Path(f"out/batch_probe/{batch}/idx"))
        o = next(o for o in outs if o.method == "ours")
        print(f"batch {batch} ({took:.0f} s training): {task.name}: R@10 {o.scores['R@10']:.3f} P@10 {o.scores['P@10']:.3f} R@1 {o.scores['R@1']:.3f}", flush=True)
