"""Fusion weights, tuned on one half of the queries and reported on the other.

    python -m eval.tune_fusion [--weight w_look|w_predicted_category|w_bridge|w_category_words|w_proto|w_colour|w_local|w_local_text|anchor|w_colour_shift|w_same_shot|same_shot_from|w_palette|fit_power|w_colour_class|misfit_power|colour_class_floor|w_head|w_type_class] [--out reports/tune] [--bundle PATH]

For a photo-only query the engine scores ``w_look·look + w_visual·visual`` (look: standardised tower
features; visual: the trained shared space). The shared space is trained on fashion pairs, so how much
it should count for photo → photo search is an empirical question. The shared space is trained as in
``python -m eval run`` (fashion training split; or ``--bundle``), then, for two photo tasks (fashion
photo → same type + colour, 2,000 held-out products; luma photo → product), queries are split in two
halves by a seeded permutation of the *products* they belong to. Every candidate ``w_look`` (w_visual
stays 1; ``inf`` = look only) is run through ``SearchEngine.search`` on the tuning halves; the weight
with the best mean of the tasks' main metrics (P@10 fashion, R@1 luma) is then reported on the
held-out halves next to the current default and the classic baseline (frozen CNN cosine k-NN).
``--weight w_predicted_category`` tunes instead the weight of the category predicted from the query
photo as a soft preference (the query's own product never votes for it), on the two photo tasks and the two
photo + colour word tasks (the preference applies to both kinds); ``--weight w_bridge`` the
zero-shot bridge's weight for text queries, on fashion text → own photo (in the shared space's domain)
and luma name → photo (an unseen domain), both by R@10; ``--weight w_category_words`` the weight of
query words naming the shop's categories, on those two and fashion "⟨colour⟩ ⟨type⟩" (P@10), with
the catalogue's categories visible to the engine; ``--weight w_proto`` the catalogue bridge's weight
for text-only queries (bundles with a vocabulary) on the same three tasks; ``--weight w_colour`` the
weight of colour words against the photos' colour histograms (bundles with colour words) on the tasks
whose queries name colours: fashion "⟨colour⟩ ⟨type⟩", luma "⟨colour⟩ ⟨category⟩" and "… under ⟨price⟩"
(P@10) and luma photo + colour word (R@1); ``--weight w_local`` the weight of the query photo's cells
matched with each candidate photo's (``encoders/cells.py``) on the two photo tasks, ``--weight
w_local_text`` the same for photo + text queries on luma photo + colour word and its other-view form
(R@1), ``--weight anchor`` on the same two how far a photo + text query's photo moves to the catalogue
photo it shows (``RerankConfig.anchor``, engine/anchor.py) and ``--weight w_colour_shift`` the weight of
the colour moved from the anchor's toward the words' (fusion part ``colour_shift``); ``--weight w_same_shot``
the weight of the share of mutual cell matches (part ``same_shot``, the same product photographed the
same way; photo-only queries) and ``--weight same_shot_from`` the share it counts from (1.0: off), on
the two photo tasks (fashion by MRR: only the first 10 are re-ordered); ``--weight w_palette`` the weight
of the query photo's palette found in each candidate photo's (part ``palette``, ``encoders/palette.py``;
photo-only queries) on the same two and on luma's other-view photo + colour word (R@1: its anchor is found
by a photo-only search); ``--weight fit_power`` the power of the shared space's fit that its photo parts
weigh by (``engine/trust.py``) on the two photo tasks and both photo + colour word tasks; ``--weight
w_colour_class`` the weight of colour words read from the photos' palettes by the bundle's colour reader
(``encoders/colour_reader.py``) on the same tasks as ``w_colour``; ``--weight misfit_power`` the power of
1 - fit that those stand-in parts (catalogue bridge, colour words) weigh by, on the word and colour tasks;
``--weight colour_class_floor`` the least share of ``w_colour_class`` kept where the shared space fits the
catalogue (``engine/trust.py``), on the colour tasks; ``--weight w_head`` the weight of a text query's head
word embedded beside the whole text (``engine/head_word.py``) on the word tasks and luma's colour + category
tasks (P@10), and ``--weight w_type_class`` the weight of the type reader's part (``encoders/type_reader.py``)
on the same tasks. A tie of the tuning halves' mean (the grid's values
give the same top 10s, as P@10 often does) is broken by their mean nDCG@10. ``--colour-category`` adds
luma "⟨colour⟩ ⟨category⟩" (MRR) to the tasks of any weight. ``--set SECTION.KEY=VALUE`` (repeatable,
e.g. ``fusion.misfit_power=3``) changes another engine setting for every run. Writes <out>/tune_fusion.json
(w_look) or <out>/tune_fusion_<weight>[_<section.key>-<value>...].json.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, FusionConfig, RerankConfig
from engine.encoders.embedder import Embedder

from . import datasets, runner
from .__main__ import tuning_setup

GRIDS = {"w_look": (1.0, 2.0, 4.0, 8.0, float("inf")), "w_predicted_category": (0.0, 0.05, 0.1, 0.2, 0.4, 0.8),
         "w_bridge": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0), "w_category_words": (0.0, 0.05, 0.1, 0.2, 0.4),
         "w_proto": (0.0, 0.25, 0.5, 1.0, 2.0), "w_colour": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
         "w_local": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0), "w_local_text": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
         "anchor": (0.0, 0.25, 0.5, 0.75, 1.0), "w_colour_shift": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0),
         "w_same_shot": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0), "same_shot_from": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
         "w_palette": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5), "fit_power": (1.0, 2.0, 3.0, 4.0, 6.0),
         "w_colour_class": (0.0, 0.1, 0.2, 0.4, 0.8, 1.6), "misfit_power": (1.0, 1.5, 2.0, 3.0),
         "colour_class_floor": (0.0, 0.1, 0.25, 0.5, 1.0), "w_head": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
         "w_type_class": (0.0, 0.05, 0.1, 0.2, 0.4)}
RERANK_FIELDS = {"anchor", "same_shot_from"}  # tuned like the weights, but RerankConfig fields
PHOTO_TASKS = {"fashion photo → same type + colour": "P@10", "luma photo → product (other views)": "R@1"}
TEXT_TASKS = {"fashion text → photo (own product)": "R@10", "luma text (name) → photo": "R@10"}
WORD_TASKS = {**TEXT_TASKS, "fashion text → photo (same type + colour)": "P@10"}
COLOUR_TASKS = {"fashion text → photo (same type + colour)": "P@10",
                'luma "⟨colour⟩ ⟨category⟩" → photos of that category + colour': "P@10",
                'luma "⟨colour⟩ ⟨category⟩ under ⟨price⟩" → that category + colour within the price': "P@10",
                "luma photo + colour word → colour variant": "R@1"}
PHOTO_TEXT_TASKS = {"luma photo + colour word → colour variant": "R@1",
                    "luma other-view photo + colour word → colour variant": "R@1"}
SHOT_TASKS = {"fashion photo → same type + colour": "MRR", "luma photo → product (other views)": "R@1"}
# (the cells re-order only the first 10 fused candidates: fashion's P@10 cannot move)
PALETTE_TASKS = {**SHOT_TASKS, "luma other-view photo + colour word → colour variant": "R@1"}  # (its anchor's search)
HEAD_TASKS = {**WORD_TASKS, **{name: "P@10" for name in COLOUR_TASKS if name.startswith("luma \"")}}
MAIN_METRIC = {"w_look": PHOTO_TASKS, "w_predicted_category": {**PHOTO_TASKS, **PHOTO_TEXT_TASKS}, "w_bridge": TEXT_TASKS,
               "w_category_words": WORD_TASKS, "w_proto": WORD_TASKS, "w_colour": COLOUR_TASKS,
               "w_local": PHOTO_TASKS, "w_local_text": PHOTO_TEXT_TASKS, "anchor": PHOTO_TEXT_TASKS,
               "w_colour_shift": PHOTO_TEXT_TASKS, "w_same_shot": SHOT_TASKS, "same_shot_from": SHOT_TASKS,
               "w_palette": PALETTE_TASKS, "fit_power": {**PHOTO_TASKS, **PHOTO_TEXT_TASKS},
               "w_colour_class": COLOUR_TASKS, "misfit_power": {**WORD_TASKS, **COLOUR_TASKS},
               "colour_class_floor": COLOUR_TASKS, "w_head": HEAD_TASKS, "w_type_class": HEAD_TASKS}
COLOUR_CATEGORY = {'luma "⟨colour⟩ ⟨category⟩" → photos of that category + colour': "MRR"}


def split_queries(task: datasets.Task, seed: int = 0) -> tuple[datasets.Task, datasets.Task]:
    """Two tasks over the same catalogue whose queries belong to disjoint halves of the products."""
    owners = sorted({q.filters.get("exclude") or next(iter(q.relevant)) for q in task.queries})
    half = set(np.asarray(owners)[np.random.default_rng(seed).permutation(len(owners))[: len(owners) // 2]].tolist())
    tune = [q for q in task.queries if (q.filters.get("exclude") or next(iter(q.relevant))) in half]
    test = [q for q in task.queries if (q.filters.get("exclude") or next(iter(q.relevant))) not in half]
    return replace(task, queries=tune), replace(task, queries=test)


def fusion_for(name: str, w: float, base: FusionConfig) -> FusionConfig:
    if name == "w_look" and w == float("inf"):  # look only
        return replace(base, w_look=1.0, w_visual=0.0)
    return replace(base, **{name: w})


def config_for(name: str, w: float, cfg: EngineConfig) -> EngineConfig:
    """``cfg`` with the tuned value ``w`` of ``name`` (a FusionConfig weight, or a RERANK_FIELDS field)."""
    if name in RERANK_FIELDS:
        return replace(cfg, rerank=replace(cfg.rerank, **{name: w}))
    return replace(cfg, fusion=fusion_for(name, w, cfg.fusion))


def default_of(name: str) -> float:
    return getattr(RerankConfig() if name in RERANK_FIELDS else FusionConfig(), name)


def main(argv: list[str] | None = None) -> int:
    setup = tuning_setup(argv, __doc__, {"--weight": dict(choices=sorted(GRIDS), default="w_look"),
                                         "--colour-category": dict(action="store_true",
                                                                   help="also tune on luma colour + category queries (MRR)"),
                                         "--with-names": dict(action="store_true",
                                                              help="the engine reads the catalogue's category names "
                                                                   "(its default) for every weight, not only w_category_words")})
    if setup is None:
        return 1
    args, out, cfg, bundle = setup
    cfg = replace(cfg, read_categories=args.weight == "w_category_words" or args.with_names)  # else photos-only
    name, grid = args.weight, GRIDS[args.weight]
    gallery, _ = datasets.fashion_split(args.gallery, args.train)
    metrics = {**MAIN_METRIC[name], **(COLOUR_CATEGORY if args.colour_category else {})}
    tasks = [t for t in datasets.fashion_tasks(gallery) + datasets.luma_tasks() if t.name in metrics]
    embedder = Embedder.for_config(bundle, cfg)
    result = {"weight": name, "grid": [str(w) for w in grid], "tasks": {}}
    engines = {}
    for task in tasks:
        tune, test = split_queries(task)
        engine, _ = runner.build_engine(task, bundle, cfg, out / "work" / task.name[:12].replace(" ", "_"))
        engines[task.name] = (engine, tune, test)
        metric = metrics[task.name]
        row = {"metric": metric, "tune_queries": len(tune.queries), "test_queries": len(test.queries), "tune": {},
               "tune_ndcg": {}}
        ranked = runner.variant_rankings(engine, tune, {str(w): config_for(name, w, cfg) for w in grid})
        for w in grid:  # (each query photo decoded once for the whole grid)
            scores, _ = runner.evaluate(ranked[str(w)][0], tune)
            row["tune"][str(w)] = round(scores[metric], 4)
            row["tune_ndcg"][str(w)] = round(scores["nDCG@10"], 4)
            print(f"tune  {task.name:40s} {name}={w:<4} {metric} {scores[metric]:.4f}  nDCG@10 {scores['nDCG@10']:.4f}",
                  flush=True)
        if task.kind == "photo":
            classic, _ = runner.evaluate(runner.feature_rankings(embedder, test), test)
            row["test_classic"] = round(classic[metric], 4)
        result["tasks"][task.name] = row
    mean = {str(w): float(np.mean([r["tune"][str(w)] for r in result["tasks"].values()])) for w in grid}
    ndcg = {str(w): float(np.mean([r["tune_ndcg"][str(w)] for r in result["tasks"].values()])) for w in grid}
    best = max(grid, key=lambda w: (round(mean[str(w)], 6), ndcg[str(w)]))  # ties broken by nDCG@10
    default = default_of(name)
    result["tune_mean"], result["tune_mean_ndcg"], result[f"chosen_{name}"] = mean, ndcg, str(best)
    for task_name, (engine, tune, test) in engines.items():
        row = result["tasks"][task_name]
        labels = (("test_default", default), ("test_chosen", best)) + ((("test_off", 0.0),) if 0.0 in grid else ())
        ranked = runner.variant_rankings(engine, test, {label: config_for(name, w, cfg) for label, w in labels})
        for label, _ in labels:
            scores, _ = runner.evaluate(ranked[label][0], test)
            row[label] = round(scores[row["metric"]], 4)
        print(f"test  {task_name:40s} {row['metric']}: classic {row.get('test_classic', '-')}  default {name}="
              f"{default} {row['test_default']}  chosen {name}={best} {row['test_chosen']}"
              + (f"  off {row['test_off']}" if "test_off" in row else ""), flush=True)
    result["settings"], result["with_names"] = args.settings, args.with_names
    suffix = "".join(f"_{item.replace('=', '-')}" for item in args.settings) + ("_colour-category" if args.colour_category else "") \
        + ("_with-names" if args.with_names else "")
    path = out / ("tune_fusion.json" if name == "w_look" and not suffix else f"tune_fusion_{name}{suffix}.json")
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
