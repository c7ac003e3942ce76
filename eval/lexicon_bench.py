"""What the lexicon (engine/lexicon.py) costs at scale: catalogue writes with and without it, and the
word search a text query runs, at 100k and 1M products.

    python -m eval.lexicon_bench [--sizes 100000 1000000] [--queries 300] [--out out/lexicon-bench]

Products: fashion's 44,072 titles (``../shared/data``; without it, titles drawn from a small built-in
vocabulary) repeated with a serial number to the size, each with its article type as category and its
colour as an attribute, written in batches of 1,000 as ``shopsight import`` does (``Catalog.upsert``).
Writes are timed twice on fresh catalogues, once with the lexicon's writes switched off (a catalogue as it
was before the lexicon), once as shipped; then a price feed (the first ``--feed`` products sent again with
new prices, every other field as stored, in batches of 1,000) on each. Queries: "⟨colour⟩ ⟨type⟩" and each of the first 150 titles' last
two and first three words, searched with ``Catalog.search_words`` (the engine's ``word_candidates``, 100);
search-as-you-type (``Catalog.suggest``, 8 titles) for the first titles typed half-way ("Turtle Ch"); typo
correction (``spelling.correct``, the engine's first step for a text query) for the queries each with one
typing error (``eval.typo_bench.typo``, seeded); p50 and p99 ms, one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401
from engine import lexicon, spelling
from engine.catalog import Catalog
from engine.config import RerankConfig
from engine.types import Product
from eval import datasets
from eval.typo_bench import typo

FALLBACK = ("Men Women Navy Blue Black White Red Green Grey Striped Checked Solid Printed Tshirts Shirts Jeans "
            "Watches Heels Flats Casual Shoes Sports Kurtas Tops Dresses Handbags Backpacks Sunglasses").split()


def base_rows() -> list[tuple[str, str, str]]:
    """(title, category, colour) of fashion's products, or drawn from ``FALLBACK`` without the data."""
    if not datasets.DATA.exists():
        rnd = random.Random(0)
        return [(" ".join(rnd.sample(FALLBACK, 5)), rnd.choice(FALLBACK), rnd.choice(FALLBACK)) for _ in range(5000)]
    return [(r["title"], f"{r['master_category']}/{r['sub_category']}/{r['article_type']}", r["base_colour"])
            for r in datasets.fashion_rows()]


def products(n: int, rows: list[tuple[str, str, str]]):
    for i in range(n):
        title, category, colour = rows[i % len(rows)]
        yield Product(id=f"P{i:08d}", title=f"{title} {i // len(rows)}" if i >= len(rows) else title,
                      category=category, attributes={"colour": colour})


def write(path: Path, n: int, rows, with_lexicon: bool) -> float:
    """Products/s writing ``n`` products in batches of 1,000 into a fresh catalogue at ``path``."""
    shutil.rmtree(path.parent, ignore_errors=True)
    catalog = Catalog(path)
    with lexicon_writes(with_lexicon):
        t = time.perf_counter()
        batch = []
        for p in products(n, rows):
            batch.append(p)
            if len(batch) == 1000:
                catalog.upsert(batch)
                batch = []
        if batch:
            catalog.upsert(batch)
        rate = n / (time.perf_counter() - t)
    catalog.close()
    return rate


@contextlib.contextmanager
def lexicon_writes(on: bool):
    """The catalogue's lexicon writes as shipped (``on``) or switched off, as before the lexicon."""
    kept = {name: getattr(lexicon, name) for name in ("write", "forget", "rewrite") if hasattr(lexicon, name)}
    for name in kept if not on else ():
        setattr(lexicon, name, lambda *a, **k: None)
    try:
        yield
    finally:
        for name, fn in kept.items():
            setattr(lexicon, name, fn)


def price_feed(path: Path, n: int, with_lexicon: bool) -> float:
    """Products/s rewriting the first ``n`` products of the catalogue at ``path`` with new prices (a shop's
    price feed: every other field as stored), in batches of 1,000."""
    catalog = Catalog(path)
    with lexicon_writes(with_lexicon):
        ids = [pid for (pid,) in catalog._conn().execute("SELECT id FROM products ORDER BY rowid LIMIT ?", (n,))]
        t = time.perf_counter()
        for start in range(0, len(ids), 1000):
            batch = catalog.get_many(ids[start:start + 1000])
            catalog.upsert([p.with_(price=(p.price or 10.0) + 1.0) for p in batch.values()])
        rate = len(ids) / (time.perf_counter() - t)
    catalog.close()
    return rate


def queries(rows, n: int) -> list[str]:
    out = [f"{colour} {category.rsplit('/', 1)[-1]}" for _, category, colour in rows[:n // 3]]
    out += [" ".join(title.split()[-2:]) for title, _, _ in rows[:n // 3]]
    out += [" ".join(title.split()[:3]) for title, _, _ in rows[:n - len(out)]]
    return out


def _typed(title: str) -> str:
    """A shopper half-way through typing a title: its first word and two letters of the next ("Turtle Ch"),
    or the first three letters of a one-word title."""
    words = title.split()
    return f"{words[0]} {words[1][:2]}" if len(words) > 1 else title[:3]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--feed", type=int, default=100_000, help="products whose prices the price feed rewrites")
    ap.add_argument("--out", default="out/lexicon-bench")
    args = ap.parse_args(argv)
    rows = base_rows()
    limit = RerankConfig().word_candidates
    print("| products | writes/s without the lexicon | with it | ratio | price feed /s without | with | word search p50 ms "
          "| p99 ms | hits a query (mean) | suggestions p50 ms | p99 ms | typo correction p50 ms | p99 ms |")
    print("|---" * 13 + "|")
    for n in args.sizes:
        folder = Path(args.out) / str(n)
        before = write(folder / "plain" / "catalog.db", n, rows, with_lexicon=False)
        after = write(folder / "lexicon" / "catalog.db", n, rows, with_lexicon=True)
        feed = [price_feed(folder / kind / "catalog.db", min(n, args.feed), kind == "lexicon")
                for kind in ("plain", "lexicon")]
        catalog = Catalog(folder / "lexicon" / "catalog.db")
        qs = queries(rows, args.queries)
        catalog.search_words(qs[0], limit)  # the page cache warm, as a serving worker's
        times, hits = [], []
        for q in qs:
            t = time.perf_counter()
            found = catalog.search_words(q, limit)
            times.append((time.perf_counter() - t) * 1e3)
            hits.append(len(found))
        typed = [_typed(title) for title, _, _ in rows[: args.queries]]
        suggest_ms = []
        for q in typed:
            t = time.perf_counter()
            catalog.suggest(q, 8)
            suggest_ms.append((time.perf_counter() - t) * 1e3)
        rnd, spell_ms = random.Random(0), []
        for q in qs:
            erred = typo(q, rnd) or q
            t = time.perf_counter()
            spelling.correct(erred, catalog.term_counts)
            spell_ms.append((time.perf_counter() - t) * 1e3)
        print(f"| {n:,} | {before:,.0f} | {after:,.0f} | {after / before:.2f} | {feed[0]:,.0f} | {feed[1]:,.0f} | "
              f"{np.percentile(times, 50):.2f} | "
              f"{np.percentile(times, 99):.2f} | {np.mean(hits):.0f} | {np.percentile(suggest_ms, 50):.2f} | "
              f"{np.percentile(suggest_ms, 99):.2f} | {np.percentile(spell_ms, 50):.2f} | "
              f"{np.percentile(spell_ms, 99):.2f} |", flush=True)
        catalog.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
