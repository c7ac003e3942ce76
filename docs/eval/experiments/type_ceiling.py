"""How far can luma name -> photo go by product type alone?

    .venv/bin/python docs/eval/experiments/type_ceiling.py  (needs ../shared/data; instant)

Issue 7's task: a luma product's name finds its main photo among 199. A system that knew each
product's type perfectly but nothing finer would rank the n products of the query's type first, in
an order unrelated to the query: the right one is in the top 10 with probability min(1, 10 / n).
"Type" is the name's last word (hoodie, tank, jacket, tee...) or the leaf category path.
"""

from __future__ import annotations

import collections
import csv
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "luma" / "products.csv"


def main() -> int:
    if not DATA.exists():
        print(f"{DATA} is missing", file=sys.stderr)
        return 1
    rows = list(csv.DictReader(open(DATA, encoding="utf-8")))
    for label, key in (("last word of the name", lambda r: r["name"].split()[-1].lower().rstrip("s")),
                       ("category path", lambda r: r["category"])):
        counts = collections.Counter(key(r) for r in rows)
        ceiling = sum(min(1.0, 10 / counts[key(r)]) for r in rows) / len(rows)
        print(f"{len(rows)} products, type = {label}: {len(counts)} types, R@10 ceiling {ceiling:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
