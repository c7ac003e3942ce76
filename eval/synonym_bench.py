"""A shop's synonyms (``engine/synonyms.py``): queries in shoppers' words for what the titles call otherwise,
searched without and with a synonyms file.

    python -m eval.synonym_bench [--out out/synonym-bench] [--cache out/cold26/features.db]

Catalogue: fashion's 2,000 held-out products with their titles only (``eval.lexical_bench``'s task: no
category path, no attributes), the packaged bundle. Queries: the task's "⟨colour⟩ ⟨article type⟩" whose type
shoppers often name otherwise, with the type replaced by that word ("Black Sports Shoes" -> "Black
trainers"); relevant: the products of that type and colour, as before. ``FILE`` is the synonyms file a shop
would write for them (equivalent words where the title says one word, one-way rules where it says two).
Prints P@10 for the titles' own words, the shoppers' words without the file, and with it; per word too.
Then the help ``shopsight unheard --near`` gives a shop writing that file: for each shoppers' word, the 3 of
fashion's 168 category leaves nearest to it in the text tower's space (``unheard.nearest``), and whether the
type it means is first or among them. Writes <out>/synonym_bench.md.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import synonyms, unheard
from engine.config import EngineConfig
from engine.encoders.bundle import ModelBundle, default_bundle_path
from eval import datasets, lexical_bench, metrics, runner
from eval.datasets import Task

SHOPPER_WORDS = {"Tshirts": "tees", "Sports Shoes": "trainers", "Casual Shoes": "sneakers", "Handbags": "purses",
                 "Trousers": "pants", "Sunglasses": "shades", "Backpacks": "rucksacks", "Watches": "timepieces",
                 "Heels": "stilettos", "Formal Shoes": "dress shoes", "Sweaters": "jumpers",
                 "Perfume and Body Mist": "fragrance", "Nightdress": "nightie", "Wallets": "billfolds",
                 "Innerwear Vests": "undershirts"}
FILE = """# what shoppers type -> what the titles say
tee, tshirt
trainers => sports shoes
sneakers => casual shoes
purse, handbag
pants, trousers
shades => sunglasses
rucksack, backpack
timepiece, watch
stiletto, heel
dress shoes => formal shoes
jumper, sweater
fragrance => perfume
nightie, nightdress
billfold, wallet
undershirt => innerwear vest
"""


def shopper_task(task: Task) -> tuple[Task, Task]:
    """(the task's queries whose type has a shopper's word, the same in that word)."""
    kept, said = [], []
    for q in task.queries:
        for kind, word in SHOPPER_WORDS.items():
            if q.text.endswith(" " + kind):
                kept.append(q)
                said.append(replace(q, text=q.text[: -len(kind)] + word))
    return replace(task, queries=kept), replace(task, queries=said)


def nearest_rows(eng) -> list[str]:
    """The nearest category leaves of each shoppers' word (``unheard.nearest``, fashion's categories)."""
    categories = sorted({f"{r['master_category']}/{r['sub_category']}/{r['article_type']}"
                         for r in datasets.fashion_rows()})
    near = unheard.nearest(list(SHOPPER_WORDS.values()), categories,
                           lambda texts: eng.embedder.text_features(texts, "query"))
    first = sum(near[w][0] == kind for kind, w in SHOPPER_WORDS.items())
    top3 = sum(kind in near[w] for kind, w in SHOPPER_WORDS.items())
    return [f"nearest category leaves ({len(categories)} categories): the type meant first for {first} of "
            f"{len(SHOPPER_WORDS)} words, among the 3 nearest for {top3}", "",
            "| word | type meant | 3 nearest |", "|---|---|---|",
            *(f"| {w} | {kind} | {', '.join(near[w])} |" for kind, w in SHOPPER_WORDS.items())]


def precisions(rankings: list[list[str]], task: Task) -> list[float]:
    return [metrics.precision_at_k(r, q.relevant, 10) for r, q in zip(rankings, task.queries)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/synonym-bench")
    ap.add_argument("--cache", default="out/cold26/features.db")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 2
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    own, shoppers = shopper_task(lexical_bench.fashion_task())
    cfg = EngineConfig(data_dir=str(out / "fashion"), feature_cache=args.cache)
    eng = runner.build_engine(own, ModelBundle.load(default_bundle_path("default")), cfg, out / "fashion")[0]
    figures = {"the titles' words": precisions(runner.engine_rankings(eng, own)[0], own),
               "shoppers' words, no synonyms": precisions(runner.engine_rankings(eng, shoppers)[0], shoppers)}
    synonyms.install(FILE, eng.config.synonyms_path)
    figures["shoppers' words, with the file"] = precisions(runner.engine_rankings(eng, shoppers)[0], shoppers)
    rows = [f"fashion, 2,000 products with titles only; {len(own.queries)} queries of {len(SHOPPER_WORDS)} types; P@10",
            "", "| words | " + " | ".join(figures) + " |", "|---" * (len(figures) + 1) + "|",
            "| all | " + " | ".join(f"{np.mean(v):.3f}" for v in figures.values()) + " |"]
    for kind, word in SHOPPER_WORDS.items():
        idx = [i for i, q in enumerate(own.queries) if q.text.endswith(" " + kind)]
        if idx:
            rows.append(f"| {kind} -> {word} ({len(idx)}) | "
                        + " | ".join(f"{np.mean([v[i] for i in idx]):.3f}" for v in figures.values()) + " |")
    rows += ["", *nearest_rows(eng)]
    (out / "synonym_bench.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
