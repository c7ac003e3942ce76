"""Search latency by page depth and order on an indexed shop (default: the demo shop of scripts/run.sh).

    python -m eval.page_bench [--data-dir shopsight-data] [--rounds 5]

Text queries through ``SearchEngine.search``: a first page of 24 and a page of 200 in relevance order
(duplicate folding walks every result of the page: the "rerank" timing), and a first page of 24 in
price order (which ranks the 200 most relevant; ``engine/paging.py``). Prints median milliseconds of
the second of two passes.
"""

from __future__ import annotations

import argparse

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig
from engine.engine import SearchEngine
from engine.types import Query

QUERIES = ["bag", "red hoodie", "dotted dress", "shoes", "mug", "blue t-shirt", "striped hat", "green trousers"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="shopsight-data")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    eng = SearchEngine.open(EngineConfig(data_dir=args.data_dir))
    eng.warm()
    for k, sort in ((24, "relevance"), (200, "relevance"), (24, "price_asc")):
        for _ in range(2):
            total, folding = [], []
            for text in QUERIES * args.rounds:
                r = eng.search(Query(text=text, k=k, sort=sort))
                total.append(r.timings_ms["total"])
                folding.append(r.timings_ms["rerank"])
        print(f"k={k} sort={sort}: p50 total {np.median(total):.2f} ms, duplicate folding ('rerank') "
              f"{np.median(folding):.2f} ms ({len(total)} text queries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
