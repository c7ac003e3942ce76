"""Check (twenty-fourth session): the near-duplicate fold with the price rule as shipped
(``rerank.fold_price_gap`` 0.1: listings priced more than 10 % apart are variants, never folded) against
prices not compared (gap 1, the rule before) and no fold, on the report's bundle: luma names and fashion
"<colour> <type>" from photos alone (the two tasks where the fold cost recall; fashion states no prices).

    .venv/bin/python docs/eval/experiments/fold_price_check.py --cache out/cold24/features.db --base reports/full_cold24/bundle
"""
import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: F401,E402
from engine.encoders.bundle import ModelBundle  # noqa: E402
from eval import datasets, runner  # noqa: E402
from eval.__main__ import eval_config  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True)
args = ap.parse_args()
cfg = eval_config(Path("out/probes/fold_price_check"), args.cache)
bundle = ModelBundle.load(Path(args.base))
gallery, _ = datasets.fashion_split(2000, 42072)
tasks = [next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo"),
         next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")]
for task in tasks:
    photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, photos_only, Path("out/probes/fold_price_check") / task.name[:5])
    rerank = photos_only.rerank
    variants = {"fold, price gap 0.1 (shipped)": photos_only,
                "fold, prices not compared (gap 1)": replace(photos_only, rerank=replace(rerank, fold_price_gap=1.0)),
                "no fold": replace(photos_only, rerank=replace(rerank, collapse_duplicates=False))}
    for name, (rankings, _) in runner.variant_rankings(eng, task, variants).items():
        scores, _ = runner.evaluate(rankings, task)
        print(f"{task.name}: {name}: R@10 {scores['R@10']:.3f} P@10 {scores['P@10']:.3f} R@1 {scores['R@1']:.3f}",
              flush=True)
