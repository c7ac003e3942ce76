"""What a shorter e5 stage of the full report costs: the e5 bundle trained on fewer fashion products
or for fewer epochs, scored on the report's two e5 tasks ("ours" alone).

    .venv/bin/python docs/eval/experiments/e5_stage_cut_probe.py --cache out/cold20/features.db \
        --configs 42072:30 42072:15 21036:30 28048:20

Each config is products:epochs (products: the first n of the report's fashion training split, the
report's own seed). Prints training seconds and each task's R@1 / R@10 / MRR; the e5 text features
must be in the cache already (a full report's cache) or the first config pays for them.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TextTowerSpec, TrainConfig
from eval import datasets, runner
from eval.__main__ import train_bundle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default="out/features.db")
    ap.add_argument("--out", default="out/probes/e5_cut")
    ap.add_argument("--configs", nargs="+", default=["42072:30", "42072:15", "21036:30"])
    args = ap.parse_args()
    if datasets.data_missing():
        return
    gallery, train_rows = datasets.fashion_split(2000, 42072)
    print("| products | epochs | train+vocab s | task | R@1 | R@10 | MRR |\n|---|---|---|---|---|---|---|", flush=True)
    for spec in args.configs:
        n, epochs = (int(x) for x in spec.split(":"))
        out = Path(args.out) / spec.replace(":", "_")
        cfg = EngineConfig(data_dir=str(out), feature_cache=args.cache, train=TrainConfig(epochs=epochs, seed=0),
                           space=SpaceConfig(dim=256, head="mlp"), text_tower=TextTowerSpec(kind="e5", name="original"))
        t = time.perf_counter()
        bundle = train_bundle(cfg, train_rows[:n], False)
        seconds = time.perf_counter() - t
        for task in [datasets.fashion_tasks(gallery, 0)[0]] + datasets.newbee_tasks():
            (o,) = runner.run_task(task, bundle, cfg, out / "work" / task.name[:10].replace(" ", "_"), ablations=False)
            print(f"| {n} | {epochs} | {seconds:.0f} | {task.name[:40]} | {o.scores['R@1']:.3f} | "
                  f"{o.scores['R@10']:.3f} | {o.scores['MRR']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
