"""Cost of reading category words out of a query against a large category tree.

    python -m eval.query_text_bench [--categories 10000] [--seconds 2]

A seeded synthetic tree (20 departments x 500 groups, each leaf named by two of 15 product words)
stands in for a big shop; four queries (two naming categories, one with a price phrase, one with no
category word) are matched in a loop. Prints milliseconds per ``CategoryWords.match``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from engine.query_text import CategoryWords

WORDS = ["hoodies", "jackets", "tees", "pants", "shorts", "bags", "watches", "shoes", "dresses", "lamps",
         "sofas", "plants", "tables", "chairs", "mugs"]
QUERIES = ["gray hoodie", "men jacket under 50", "oak table and chairs", "something blue"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--categories", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args(argv)
    rnd = random.Random(0)
    cats = [f"Dept{i // 500}/Group{i % 500}/{rnd.choice(WORDS).title()} & {rnd.choice(WORDS).title()}"
            for i in range(args.categories)]
    t = time.perf_counter()
    words = CategoryWords(cats)
    built = time.perf_counter() - t
    for q in QUERIES:
        words.match(q)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < args.seconds:
        for q in QUERIES:
            words.match(q)
            n += 1
    print(f"{len(cats)} categories: built in {built * 1000:.1f} ms, "
          f"{(time.perf_counter() - t) / n * 1000:.3f} ms per match ({n} matches)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
