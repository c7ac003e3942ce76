"""The evaluation command: ``python -m eval run --out reports/latest`` on ../shared/data.

Trains the shared space on a fashion training split (never on anything it reports), then runs every
task with every method in one run and writes report.md, results.json, PNG plots and the bundles it
trained (bundle/, bundle-e5/: for probes, or `--bundle` in a later run) to --out.
``python -m eval queries FILE.jsonl --data-dir D`` evaluates a shop's own labelled query set
against its own index.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TextTowerSpec, TrainConfig, with_settings

from . import datasets, report, runner


def eval_config(out: Path, cache: str, epochs: int = 40) -> EngineConfig:
    """The config the evaluation scripts train and index with (folder ``out`` is created). The lexical part
    is off: the tasks index photos only, and their products' category paths and colour attributes (kept for
    filters and answers) would otherwise answer the words (``eval.lexical_bench`` measures it with titles).
    So is typo correction, which reads the catalogue's words: with the titles hidden they are not the shop's,
    and a query's real words would be "corrected" towards them (``eval.typo_bench`` measures it with titles). So
    is reading words that ask for a price order: the queries are product names ("Probase Men's Cheap Fast & Easy
    Black T-shirt"), not a shopper's "cheapest"."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = EngineConfig(data_dir=str(out), feature_cache=str(cache), train=TrainConfig(epochs=epochs),
                       space=SpaceConfig(dim=256, head="mlp"))
    return replace(cfg, fusion=replace(cfg.fusion, w_lexical=0.0), read_typos=False, read_orders=False)


def train_bundle(cfg: EngineConfig, train_rows: list[dict], progress: bool, seconds: dict[str, float] | None = None,
                 stage: str = "shared space", photo_parts=None):
    """A bundle trained on ``train_rows`` (fashion rows) as the report trains its own; ``seconds`` (when
    given) gets each step's wall time, keyed "<stage>: <step>". ``photo_parts``: a bundle trained on the
    same rows with the same image tower, whose colour words and type reader are taken as they are (they
    read the photos only, so a bundle with another text tower learns the same ones)."""
    from engine.encoders.colour_words import colour_words_of
    from engine.encoders.prototypes import vocabulary_of
    from engine.encoders.type_reader import type_reader_of
    from engine.features import FeatureCache
    from engine.train import collect_pairs, train_space
    from engine.workflow import new_bundle

    seconds = {} if seconds is None else seconds
    step = lambda name, fn, *a, **kw: timed(seconds, f"{stage}: {name}", fn, *a, **kw)  # noqa: E731
    bundle, embedder = step("towers", new_bundle, cfg)
    embedder.cache = FeatureCache(cfg.feature_cache_path)
    products = [datasets.fashion_product(r) for r in train_rows]
    embedder.also_keep("palette")  # the colour reader's, same decoding
    data = step("tower features", collect_pairs, products, embedder, augment=True, progress=progress)
    bundle = step("training", train_space, bundle, data, replace(cfg.train, holdout=0.1), progress=progress)
    # the catalogue bridge, the colour words and the type reader, from the same products (and their photos)
    bundle.prototypes = step("vocabulary", vocabulary_of, products, embedder, seed=cfg.train.seed)
    if photo_parts is not None:
        bundle.colours, bundle.types = photo_parts.colours, photo_parts.types
        return bundle
    bundle.colours = step("colour words", colour_words_of, products, embedder, seed=cfg.train.seed)
    bundle.types = step("type reader", type_reader_of, products, embedder, cfg.index.look_colour_weight,
                        seed=cfg.train.seed)
    return bundle


def check_settings(parser: argparse.ArgumentParser, settings: list[str]) -> None:
    """Refuse a ``--set`` the engine's config does not have before any work starts (exit 2, naming it)."""
    try:
        with_settings(EngineConfig(), settings)
    except ValueError as exc:
        parser.error(f"--set: {exc}")


def tuning_parser(doc: str) -> argparse.ArgumentParser:
    """Arguments shared by the scripts that tune on one half of the queries (``eval.tune_*``)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="reports/tune")
    ap.add_argument("--train", type=int, default=42072, help="fashion training products when no --bundle")
    ap.add_argument("--gallery", type=int, default=2000, help="held-out fashion products")
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--bundle", default="", help="a saved bundle (path, 'default' or 'default-e5') instead of training one")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="settings",
                    help="an engine setting other than its default, e.g. fusion.misfit_power=3 (repeatable)")
    return ap


def tuning_setup(argv: list[str] | None, doc: str, extra: dict[str, dict] | None = None):
    """(args, out folder, config, bundle) for a ``tuning_parser`` script (plus ``extra`` options,
    flag -> add_argument keywords), or None without shared data."""
    ap = tuning_parser(doc)
    for flag, kwargs in (extra or {}).items():
        ap.add_argument(flag, **kwargs)
    args = ap.parse_args(argv)
    check_settings(ap, args.settings)
    if datasets.data_missing():
        return None
    out = Path(args.out)
    cfg = with_settings(eval_config(out, args.cache), args.settings)
    return args, out, cfg, bundle_or_train(cfg, args.bundle, args.gallery, args.train, out)


def bundle_or_train(cfg: EngineConfig, bundle: str, n_gallery: int, n_train: int, out: Path):
    """The saved ``bundle`` (a path or "default"), else one trained on the fashion training split
    (``n_train`` products outside the ``n_gallery`` held-out ones) and saved to ``out/bundle``."""
    if bundle:
        from engine.encoders.bundle import ModelBundle, resolve_bundle_path

        return ModelBundle.load(resolve_bundle_path(bundle))
    trained = train_bundle(cfg, datasets.fashion_split(n_gallery, n_train)[1], progress=True)
    trained.save(out / "bundle")
    return trained


def cmd_run(args) -> int:
    if datasets.data_missing():
        return 1
    if args.seeds:
        return run_seeds(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = with_settings(EngineConfig(data_dir=str(out), feature_cache=str(Path(args.cache)),
                                     train=TrainConfig(epochs=args.epochs, seed=args.seed),
                                     space=SpaceConfig(dim=256, head="mlp")), args.settings)
    t0 = time.time()
    seconds: dict[str, float] = {}  # wall time by stage, in the report
    gallery, train_rows = datasets.fashion_split(args.gallery, args.train)
    if args.bundle:  # e.g. "default": a bundle trained on all of fashion, so only unseen domains are fair
        from engine.encoders.bundle import ModelBundle, resolve_bundle_path

        bundle = ModelBundle.load(resolve_bundle_path(args.bundle))
        cfg = replace(cfg, text_tower=bundle.text_tower)
        # a multilingual bundle also meets newbee_zh's Chinese names (never seen by the packaged bundles)
        tasks = datasets.luma_tasks() + (datasets.newbee_tasks() if bundle.text_tower.kind == "e5" else [])
    else:
        bundle = train_bundle(cfg, train_rows, not args.quiet, seconds)
        bundle.save(out / "bundle")  # the report's own bundle, for probes and later runs (--bundle)
        tasks = datasets.fashion_tasks(gallery, args.photo_queries) + datasets.luma_tasks()
    outcomes = []
    for task in tasks:
        outcomes += runner.run_task(task, bundle, cfg, out / "work" / task.name[:12].replace(" ", "_"),
                                    not args.quiet, seconds)
        print(report.markdown([o for o in outcomes if o.task == task.name]), flush=True)
    if not args.skip_multilingual and not args.bundle:
        e5 = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"),
                     train=replace(cfg.train, epochs=args.e5_epochs))
        bundle_e5 = train_bundle(e5, train_rows, not args.quiet, seconds, "e5 shared space", photo_parts=bundle)
        bundle_e5.save(out / "bundle-e5")
        # fashion titles through e5: the English reference for the Chinese task (ours alone; the MiniLM
        # rows above hold that task's baselines and ablations), then newbee_zh with every method
        tasks_e5 = [(datasets.fashion_tasks(gallery, 0)[0], False)] + [(t, True) for t in datasets.newbee_tasks()]
        for task, ablations in tasks_e5:
            task.name += " [e5 multilingual]"
            outcomes += runner.run_task(task, bundle_e5, e5, out / "work" / ("e5" + task.name[:10].replace(" ", "_")),
                                        not args.quiet, seconds, ablations)
            print(report.markdown([o for o in outcomes if o.task == task.name]), flush=True)
    trained = (f"bundle {args.bundle} ({bundle.metrics.get('trained_on', 'see its bundle.json')}), luma tasks only"
               + (" and newbee_zh" if bundle.text_tower.kind == "e5" else "")
               if args.bundle else f"fashion gallery {args.gallery} held-out products, shared space trained on "
               f"{args.train} other fashion products ({args.epochs} epochs, seed {args.seed}; the e5 space "
               f"{args.e5_epochs} epochs)")
    changed = f" Settings other than the engine's defaults: {', '.join(args.settings)}." if args.settings else ""
    header = (f"# Shopsight evaluation\n\n{trained}; luma and newbee_zh never seen in training. "
              f"{time.time() - t0:.0f} s in all.{changed}")
    path = report.write(outcomes, out, header, {"bundle_metrics": bundle.metrics, "seconds": seconds,
                                                    "args": {k: v for k, v in vars(args).items() if k != "fn"}})
    print(f"report: {path}")
    return 0


def timed(seconds: dict[str, float], stage: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its wall time put in ``seconds[stage]``."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds[stage] = time.perf_counter() - t0
    return result


def run_seeds(args) -> int:
    """The report once per training seed (``<out>/seed-<s>``), then ``<out>/seeds.md``: the spread."""
    from . import seeds

    t0 = time.time()
    for seed in args.seeds:
        code = cmd_run(argparse.Namespace(**{**vars(args), "seeds": None, "seed": seed,
                                              "out": str(Path(args.out) / f"seed-{seed}")}))
        if code:
            return code
    path = seeds.write(Path(args.out), args.seeds, f"# Shopsight evaluation over training seeds\n\n"
                       f"{len(args.seeds)} reports, {time.time() - t0:.0f} s in all; each report in seed-<s>/.")
    print(f"spread over seeds: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="the full report on ../shared/data")
    p.add_argument("--out", default="reports/latest")
    p.add_argument("--cache", default="out/features.db", help="tower feature cache shared by runs")
    p.add_argument("--gallery", type=int, default=2000)
    p.add_argument("--train", type=int, default=42072, help="fashion training products (all outside the gallery)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--photo-queries", type=int, default=500)
    p.add_argument("--skip-multilingual", action="store_true")
    p.add_argument("--e5-epochs", type=int, default=15, help="epochs of the e5 shared space (half of --epochs' "
                   "default keeps the report within 30 minutes; docs/eval/experiments/e5_stage_cut_probe.*)")
    p.add_argument("--seed", type=int, default=0, help="training seed (initialisation, batches, vocabulary clusters)")
    p.add_argument("--seeds", type=int, nargs="+", help="one report per training seed and their spread (seeds.md)")
    p.add_argument("--bundle", help="evaluate this bundle ('default' / 'default-e5' = a packaged one) on luma instead of training")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="settings",
                   help="an engine setting other than its default, e.g. fusion.misfit_power=3 (repeatable)")
    p.set_defaults(fn=cmd_run)
    args = parser.parse_args(argv)
    check_settings(parser, getattr(args, "settings", []))
    logging.basicConfig(level=logging.WARNING)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
