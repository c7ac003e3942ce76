"""What counting unheard words (``engine/unheard.py``) costs a search: text queries holding a word no product
holds, searched with the log on and off, interleaved, on an indexed data folder.

    python -m eval.unheard_bench [--data-dir shopsight-data] [--queries 200]

Default folder: the one ``shopsight demo`` builds. Queries: "⟨a title's first word⟩ ⟨a word from WORDS⟩"; p50
and p99 ms of ``SearchEngine.search`` for each setting (the same queries, alternating), one thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import engine  # noqa: F401
from engine.config import load_config
from engine.engine import SearchEngine
from engine.types import Query
from engine.unheard import Unheard

WORDS = ("trainers", "jumper", "sofa", "gym", "vintage", "leather", "wool", "linen", "velvet", "denim")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="shopsight-data")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)
    eng = SearchEngine.open(load_config(None, data_dir=args.data_dir))
    eng.warm()
    firsts = [p.title.split()[0] for p in eng.catalog][: args.queries]
    texts = [f"{firsts[i % len(firsts)]} {WORDS[i % len(WORDS)]}" for i in range(args.queries)]
    log = eng.unheard or Unheard(eng.config.path / "unheard.db")
    times = {"on": [], "off": []}
    for text in texts:
        for setting in ("on", "off"):
            eng.unheard = log if setting == "on" else None
            t = time.perf_counter()
            eng.search(Query(text=text, k=10))
            times[setting].append((time.perf_counter() - t) * 1000)
    for setting, ms in times.items():
        print(f"log {setting}: p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms "
              f"({len(ms)} searches)")
    print("most searched:", [(r["word"], r["n"]) for r in log.top(5)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
