"""Typo tolerance (``engine/spelling.py``): each query with one typing error, searched without and with the
correction, beside the query as written.

    python -m eval.typo_bench [--out out/typo-bench] [--cache out/cold26/features.db] [--seed 0]

Each query's text gets one typing error (seeded) in one of its words of five letters or more
(``ERRED_LENGTH``; a query without one is left out, and the table says how many were kept): a letter left
out, a letter doubled, a key's neighbour on a QWERTY keyboard typed instead of it or beside it, two
neighbouring letters swapped, or the space after the word left out ("redhoodie"; when no word follows, a
letter left out instead). ``--min-length`` sets the shortest word the correction touches
(``spelling.MIN_LENGTH``). Tasks, each on a catalogue whose words can answer them:
  sample shop   the demo shop with the packaged multilingual bundle, no training (``shopsight demo``):
                "⟨colour⟩ ⟨pattern⟩ ⟨noun⟩" -> that product, hit@1 ("red striped hoodie");
  fashion       "⟨colour⟩ ⟨article type⟩" over 2,000 held-out products with titles only, P@10
                (``eval.lexical_bench``'s task);
  luma names    a product's name ("Chaz Kangeroo Hoodie") over luma's 199 products with their titles,
                main photo each -> that product, hit@1;
  luma colour   "⟨colour⟩ ⟨category⟩" over luma's colour variants titled with their product's name, P@10
                (``eval.lexical_bench``'s task).
Columns: the figure for the queries as written (correction on), with the error and the correction off, and
with the error corrected (the engine's default); "restored": share of the erred words the correction turned
back into the word written; "clean changed": share of the queries as written that the correction changed
(the shop's own spelling read for the shopper's: fashion titles "Deoorant" and "Duffle"); "others' words
changed": share of the distinct words of the other catalogues' titles that this one does not hold (real words
it lacks, "tights" in a shop without tights, and those catalogues' own misspellings, "Bargundy") that the
correction changed, an upper bound on changing a real word; p50 / p99 ms of the correction itself
(``spelling.correct`` on the catalogue), the erred queries. Prints a Markdown table and writes it to <out>/typo_bench.md.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import lexicon, query_rewrite, spelling
from engine.config import EngineConfig, TextTowerSpec
from engine.encoders.bundle import ModelBundle, default_bundle_path
from engine.ingest import PRESETS
from engine.sample_shop import CATEGORIES, COLOURS, PATTERNS, generate
from engine.workflow import build_index, import_catalogue
from eval import datasets, lexical_bench, runner
from eval.datasets import LabelledQuery, Task

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")  # each row sits about half a key right of the one above


def _neighbours(row: int, i: int) -> str:
    """The keys around the ``i``-th key of ``ROWS[row]``: beside it, and touching it above and below."""
    spots = [(row, i - 1), (row, i + 1), (row - 1, i), (row - 1, i + 1), (row + 1, i - 1), (row + 1, i)]
    return "".join(ROWS[r][j] for r, j in spots if 0 <= r < len(ROWS) and 0 <= j < len(ROWS[r]))


NEIGHBOURS = {c: _neighbours(r, i) for r, keys in enumerate(ROWS) for i, c in enumerate(keys)}
_WORD = re.compile(r"[A-Za-z]+")
ERRED_LENGTH = 5  # the error goes into a word this long or longer


def typo(text: str, rnd: random.Random) -> str | None:
    """``text`` with one typing error in one of its words of ``ERRED_LENGTH`` letters or more (None
    when it has none): a letter left out, doubled, hit beside its key's neighbour or as it, two swapped, or
    the space after the word left out."""
    words = [m for m in _WORD.finditer(text) if len(m.group(0)) >= ERRED_LENGTH]
    if not words:
        return None
    m = rnd.choice(words)
    w, i = m.group(0), rnd.randrange(len(m.group(0)))
    near = NEIGHBOURS.get(w[i].lower(), "e")
    kind = rnd.choice(("delete", "double", "replace", "insert", "swap", "join"))
    if kind == "join" and re.match(r" [A-Za-z]", text[m.end():m.end() + 2]):  # the space after it left out
        return text[:m.end()] + text[m.end() + 1:]
    if kind == "swap" and i + 1 < len(w) and w[i] != w[i + 1]:
        new = w[:i] + w[i + 1] + w[i] + w[i + 2:]
    elif kind == "double":
        new = w[:i] + w[i] + w[i:]
    elif kind == "replace":
        new = w[:i] + rnd.choice(near) + w[i + 1:]
    elif kind == "insert":
        new = w[:i + 1] + rnd.choice(near) + w[i + 1:]
    else:
        new = w[:i] + w[i + 1:]
    return text[:m.start()] + new + text[m.end():]


def sample_task(folder: Path) -> tuple[Task, EngineConfig]:
    """The demo shop, its "⟨colour⟩ ⟨pattern⟩ ⟨noun⟩" queries (hit@1), and the demo's config."""
    ids: dict[tuple, dict[str, float]] = {}  # a duplicate listing counts as its original
    for p in generate(folder / "sample-shop"):
        ids.setdefault((p.noun, p.colour, p.pattern), {})[p.id] = 1.0
    queries = [LabelledQuery(f"s{n}{c}{pat}", ids[(n, c, pat)], text=f"{c} {pat} {n}")
               for n in CATEGORIES for c in COLOURS for pat in PATTERNS if pat != "plain" and (n, c, pat) in ids]
    cfg = EngineConfig(data_dir=str(folder / "shop"), feature_cache=str(folder / "shop" / "features.db"),
                       text_tower=TextTowerSpec(kind="e5", name="original"))
    return Task("sample shop ⟨colour⟩ ⟨pattern⟩ ⟨noun⟩", "text", [], queries, info={"metric": "hit@1"}), cfg


def luma_names_task() -> Task:
    task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma text (name)"))
    return replace(task, name="luma name → product, titles shown", hide_titles=False, info={"metric": "hit@1"})


def with_typos(task: Task, seed: int) -> tuple[Task, Task]:
    """(the queries that got an error as written, the same queries with it)."""
    rnd = random.Random(seed)
    pairs = [(q, typo(q.text, rnd)) for q in task.queries]
    kept = [(q, t) for q, t in pairs if t is not None and t != q.text]
    return (replace(task, queries=[q for q, _ in kept]),
            replace(task, queries=[replace(q, text=t) for q, t in kept]))


def title_words(engine) -> set[str]:
    """The distinct plain words of the catalogue's titles."""
    return {w for p in engine.catalog for w in re.findall(r"[a-z]+", lexicon._plain(p.title))}


def others_changed(engine, words: set[str]) -> float:
    """Share of ``words`` (``MIN_LENGTH`` letters or more) the catalogue does not hold that the correction
    changes."""
    held = engine.catalog.term_counts({lexicon.stem(w) for w in words})
    absent = [w for w in words if len(w) >= spelling.MIN_LENGTH and lexicon.stem(w) not in held]
    return sum(_correct(engine, w).changes != {} for w in absent) / max(len(absent), 1)


def _correct(engine, text: str) -> spelling.Spelled:
    """``text`` corrected as the engine corrects a query (``query_rewrite.correct``)."""
    return query_rewrite.correct(text, engine.catalog, engine.embedder.bundle.colours)


def measure(engine, clean: Task, erred: Task) -> dict:
    on, off = engine.config, replace(engine.config, read_typos=False)
    figures = {}
    for name, task, cfg in (("as written", clean, on), ("error, no correction", erred, off),
                            ("error, corrected", erred, on)):
        ranked = runner.variant_rankings(engine, task, {name: cfg})[name][0]
        figures[name] = lexical_bench.precision(ranked, task, range(len(task.queries)))
    times, restored = [], 0
    for q, e in zip(clean.queries, erred.queries):
        t = time.perf_counter()
        fixed = _correct(engine, e.text).text
        times.append((time.perf_counter() - t) * 1000)
        restored += fixed.lower() == q.text.lower()
    changed = sum(_correct(engine, q.text).changes != {} for q in clean.queries)
    return {**figures, "restored": restored / len(clean.queries), "clean changed": changed / len(clean.queries),
            "p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/typo-bench")
    ap.add_argument("--cache", default="out/cold26/features.db")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-length", type=int, default=spelling.MIN_LENGTH,
                    help="the shortest word the correction touches (spelling.MIN_LENGTH)")
    args = ap.parse_args(argv)
    spelling.MIN_LENGTH = args.min_length
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    task, cfg = sample_task(out)
    import_catalogue(cfg, out / "sample-shop" / "products.csv", PRESETS["sample"])
    measured = [(task, build_index(cfg, progress=False))]
    if not datasets.data_missing():
        cfg = EngineConfig(data_dir=str(out), feature_cache=args.cache)
        bundle = ModelBundle.load(default_bundle_path("default"))
        for task in (lexical_bench.fashion_task(), luma_names_task(), lexical_bench.luma_task()):
            measured.append((task, runner.build_engine(task, bundle, cfg, out / task.name.split()[0])[0]))
    rows = ["| task | metric | queries kept | as written | error, no correction | error, corrected | restored | "
            "clean changed | others' words changed | correction p50 ms | p99 ms |", "|---" * 11 + "|"]
    words = [title_words(eng) for _, eng in measured]
    for i, (task, eng) in enumerate(measured):
        clean, erred = with_typos(task, args.seed)
        f = measure(eng, clean, erred)
        others = others_changed(eng, set().union(*(w for j, w in enumerate(words) if j != i)))
        rows.append(f"| {task.name} | {task.info.get('metric', 'P@10')} | {len(clean.queries)} of {len(task.queries)} "
                    f"| {f['as written']:.3f} | {f['error, no correction']:.3f} | {f['error, corrected']:.3f} | "
                    f"{f['restored']:.3f} | {f['clean changed']:.3f} | {others:.3f} | {f['p50']:.2f} | {f['p99']:.2f} |")
        print(rows[-1], flush=True)
    (out / "typo_bench.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
