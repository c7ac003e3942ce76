"""Unseen product types: a fashion master category held out of training, against the same training with it.

    python -m eval.heldout_type [--held Footwear] [--out reports/heldout-type] [--with-bundle PATH]

Two shared spaces are trained on the fashion training split of ``python -m eval run`` (42,072
products): one without any product of the held-out master category, one with everything (or
``--with-bundle``, e.g. reports/tune/bundle from ``eval.tune_fusion``). Both are evaluated on the
held-out gallery's products of that master category (never in either training set): title → photo
(titles hidden) and "⟨colour⟩ ⟨article type⟩" → photos of that type and colour. The gap between the
two rows is what not having seen the type costs. Writes <out>/report.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle

from . import datasets, report, runner
from .__main__ import eval_config, train_bundle


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--held", default="Footwear", help="fashion master category left out of training")
    ap.add_argument("--train", type=int, default=42072)
    ap.add_argument("--gallery", type=int, default=2000)
    ap.add_argument("--with-bundle", default="", help="a bundle trained with every type (else trained here)")
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--out", default="reports/heldout-type")
    args = ap.parse_args(argv)
    if datasets.data_missing():
        return 1
    out = Path(args.out)
    cfg = eval_config(out, args.cache)
    gallery, train_rows = datasets.fashion_split(args.gallery, args.train)
    held = [r for r in gallery if r["master_category"] == args.held]
    if not held:
        print(f"no gallery product has master category {args.held!r}", file=sys.stderr)
        return 1
    without = [r for r in train_rows if r["master_category"] != args.held]
    bundles = {f"trained without {args.held} ({len(without)} products)": train_bundle(cfg, without, progress=True)}
    if args.with_bundle:
        bundles["trained with every type"] = ModelBundle.load(args.with_bundle)
    else:
        bundles[f"trained with every type ({len(train_rows)} products)"] = train_bundle(cfg, train_rows, progress=True)
    tasks = datasets.fashion_tasks(held)[:2]  # title -> photo, colour + type -> photos
    outcomes = []
    for label, bundle in bundles.items():
        for task in tasks:
            task = datasets.Task(f"{args.held} (held out, {len(held)}): {task.name}", task.kind, task.products,
                                 task.queries, notes=task.notes)
            for o in runner.run_task(task, bundle, cfg, out / "work" / task.name[:10].replace(" ", "_")):
                if o.method == "ours":
                    o.method = f"ours, {label}"
                    outcomes.append(o)
    text = report.markdown(outcomes)
    print(text)
    (out / "report.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
