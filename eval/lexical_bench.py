"""Lexical matching on real catalogues whose titles are shown: the ``lexical`` part's worth, weight chosen
on one half of the queries and reported on the other.

    python -m eval.lexical_bench [--out out/lexical-bench] [--cache out/cold26/features.db]

The report's tasks index photos only (titles hidden) to measure what the photos answer; a shop has its
titles, and shoppers type words that are in them. Here each catalogue keeps its **titles (and
descriptions) only**: category paths and attributes are left out, so the relevance labels below are not
in the index and the words must carry them:
  fashion  "⟨colour⟩ ⟨article type⟩" ("Navy Blue Tshirts") over the 2,000 held-out gallery products ->
           the products of that type and colour: P@10 (titles such as "Turtle Men Navy Blue Tshirt");
  luma     "⟨colour⟩ ⟨category leaf⟩" ("gray hoodies & sweatshirts") over one photo per (product, colour),
           each titled with its product's name ("Chaz Kangeroo Hoodie") -> that category and colour: P@10;
  luma     a colour variant's photo + another colour's name ("this, but in blue") over the variants, each
           titled as shops title them, "<name> - <Colour>" ("Chaz Kangeroo Hoodie - Blue") -> the same
           product in that colour: hit@1;
  newbee_zh  a category name ("华为手机") over the 562 listings (Chinese names and descriptions) -> the
           listings of that category: P@10.
Each is searched with ``fusion.w_lexical`` in ``WEIGHTS`` (0 = without the part) by the packaged bundle
for the catalogue's language (``default``; ``default-e5`` for newbee_zh), on the same engine. One weight
for all (the engine has one default): the best mean figure over the tasks' first halves of their
queries, reported on the second halves beside 0; all queries with 0 and with the engine's default too.
Latency: p50 of the search on every query, without the part and with the default weight. Prints a
Markdown table and writes it to <out>/lexical_bench.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, TextTowerSpec
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.images import open_image
from engine.types import Query
from eval import datasets, metrics, runner
from eval.datasets import LabelledQuery, Task

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
DEFAULT = EngineConfig().fusion.w_lexical


def titles_only(task: Task) -> Task:
    """The task's products with their titles and descriptions only (no category, no attributes)."""
    return replace(task, hide_titles=False,
                   products=[p.with_(category="", attributes={}) for p in task.products])


def fashion_task() -> Task:
    gallery, _ = datasets.fashion_split(2000, 42072)
    task = next(t for t in datasets.fashion_tasks(gallery) if t.name.endswith("(same type + colour)"))
    return titles_only(replace(task, name="fashion ⟨colour⟩ ⟨type⟩, titles only"))


def luma_task() -> Task:
    names = {r["sku"]: r["name"] for r in datasets._rows("luma")}
    task = next(t for t in datasets.luma_tasks() if t.name.startswith('luma "⟨colour⟩ ⟨category⟩" →'))
    products = [p.with_(title=names[p.id.rsplit(":", 1)[0]]) for p in task.products]
    return titles_only(replace(task, name="luma ⟨colour⟩ ⟨category⟩, titles only", products=products))


def luma_colour_task() -> Task:
    """Photo + colour word on luma's colour variants, each titled "<name> - <colour>" as shops title them."""
    names = {r["sku"]: r["name"] for r in datasets._rows("luma")}
    task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo + colour word"))
    products = [p.with_(title=f"{names[p.id.rsplit(':', 1)[0]]} - {p.id.rsplit(':', 1)[1].title()}")
                for p in task.products]
    return titles_only(replace(task, name="luma photo + colour word, variants titled with their colour",
                               products=products, info={"metric": "hit@1"}))


def newbee_task() -> Task:
    products = datasets.newbee_tasks()[0].products
    by_category: dict[str, list[str]] = {}
    for p in products:
        if p.category:
            by_category.setdefault(p.category, []).append(p.id)
    queries = [LabelledQuery(f"c{name}", {pid: 1.0 for pid in ids}, text=name)
               for name, ids in sorted(by_category.items())]
    return titles_only(Task("newbee_zh category name, titles only", "text", products, queries, language="zh"))


def precision(rankings: list[list[str]], task: Task, rows: range) -> float:
    """The task's metric over the queries ``rows``: P@10, or hit@1 where the task says so (one answer)."""
    if task.info.get("metric") == "hit@1":
        return float(np.mean([metrics.hit_at_k(rankings[i], task.queries[i].relevant, 1) for i in rows]))
    return float(np.mean([metrics.precision_at_k(rankings[i], task.queries[i].relevant, 10) for i in rows]))


def search_query(q) -> Query:
    return Query(image=open_image(q.image) if q.image else None, text=q.text, k=20)


def rankings(task: Task, bundle_name: str, cfg: EngineConfig, folder: Path) -> tuple[dict, dict]:
    """({weight: rankings}, {weight: p50 ms}) on one engine; latency timed for 0 and the default weight
    on their own (the query's encoding not reused)."""
    if bundle_name == "default-e5":
        cfg = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
    engine, _ = runner.build_engine(task, ModelBundle.load(default_bundle_path(bundle_name)), cfg, folder)
    variants = {w: replace(cfg, fusion=replace(cfg.fusion, w_lexical=w)) for w in WEIGHTS}
    ranked = {w: r for w, (r, _) in runner.variant_rankings(engine, task, variants).items()}
    latency = {}
    for w in (0.0, DEFAULT):
        engine.config = variants[w]
        times = []
        for q in task.queries:
            t = time.perf_counter()
            engine.search(search_query(q))
            times.append((time.perf_counter() - t) * 1000)
        latency[w] = float(np.median(times))
    return ranked, latency


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/lexical-bench")
    ap.add_argument("--cache", default="out/cold26/features.db")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = EngineConfig(data_dir=str(out), feature_cache=args.cache)
    measured = []
    for make, bundle in ((fashion_task, "default"), (luma_task, "default"), (luma_colour_task, "default"),
                         (newbee_task, "default-e5")):
        task = make()
        measured.append((task, *rankings(task, bundle, cfg, out / task.name.split()[0])))
    halves = [(range(len(t.queries) // 2), range(len(t.queries) // 2, len(t.queries))) for t, _, _ in measured]
    first = {w: np.mean([precision(r[w], t, h[0]) for (t, r, _), h in zip(measured, halves)]) for w in WEIGHTS}
    chosen = max(WEIGHTS, key=lambda w: (first[w], -w))
    rows = [f"weight chosen by the mean figure of the tasks' first halves: {chosen} "
            f"({', '.join(f'{w}: {v:.3f}' for w, v in first.items())}); the engine's default: {DEFAULT}", "",
            f"| task (titles only) | queries | metric | 2nd half, no lexical | 2nd half, w {chosen} | all, no lexical | "
            f"all, w {DEFAULT} (default) | p50 ms no lexical | p50 ms w {DEFAULT} |", "|---" * 9 + "|"]
    for (task, ranked, latency), (_, second) in zip(measured, halves):
        every = range(len(task.queries))
        rows.append(f"| {task.name} | {len(task.queries)} | {task.info.get('metric', 'P@10')} | "
                    f"{precision(ranked[0.0], task, second):.3f} | "
                    f"{precision(ranked[chosen], task, second):.3f} | {precision(ranked[0.0], task, every):.3f} | "
                    f"{precision(ranked[DEFAULT], task, every):.3f} | {latency[0.0]:.1f} | {latency[DEFAULT]:.1f} |")
    (out / "lexical_bench.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
