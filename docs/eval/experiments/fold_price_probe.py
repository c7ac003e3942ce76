"""Probe: the near-duplicate fold kept apart for listings at different prices.

The fold (``rerank.collapse_duplicates``) shows look-alike listings as one result; in the report it costs
luma names R@10 0.452 -> 0.432 ("− re-ranking"), where size variants share one photo (Sprite Stasis Ball 55 /
65 / 75 cm, at 23 / 27 / 32) and titles are hidden. Here the fold also treats two listings at different
prices as variants (never folded), as it treats listings of different stated colours; the report's own
bundle, luma names and fashion "<colour> <type>" (photos only), fold as shipped vs price-aware vs off.

    .venv/bin/python docs/eval/experiments/fold_price_probe.py --cache out/cold24/features.db --base reports/full_cold24/bundle
"""
import argparse, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: F401
from engine.attributes import AttributeTable
from engine.encoders.bundle import ModelBundle
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True)
args = ap.parse_args()
cfg = eval_config(Path("out/probes/fold_price"), args.cache)
bundle = ModelBundle.load(Path(args.base))
gallery, _ = datasets.fashion_split(2000, 42072)
tasks = [next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo"),
         next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")]
plain_of, differ = AttributeTable.colours_of, AttributeTable.colours_differ


def price_aware(on: bool) -> None:
    if not on:
        AttributeTable.colours_of, AttributeTable.colours_differ = plain_of, differ
        return
    AttributeTable.colours_of = lambda self, row: plain_of(self, row) or frozenset({"(priced)"})
    AttributeTable.colours_differ = lambda self, a, b: (differ(self, a, b) or
                                                       float(self.price[a]) != float(self.price[b]))


for task in tasks:
    photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, photos_only, Path("out/probes/fold_price") / "idx")
    for name, fold, aware in (("fold as shipped", True, False), ("fold, prices kept apart", True, True),
                              ("no fold", False, False)):
        price_aware(aware)
        eng.config = replace(photos_only, rerank=replace(photos_only.rerank, collapse_duplicates=fold))
        hits = []
        for q in task.queries:
            ids = [r.product.id for r in eng.search(Query(text=q.text, k=10)).results]
            rel = set(q.relevant)
            hits.append(len(rel & set(ids)) / (len(rel) if task.kind == "text" and "type" not in task.name else 10))
        price_aware(False)
        metric = "R@10" if "name" in task.name else "P@10"
        print(f"{task.name}: {name}: {metric} {sum(hits) / len(hits):.3f}", flush=True)
