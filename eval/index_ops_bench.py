"""What a serving index's own housekeeping costs at scale: removing many products, and saving after a small feed.

    python -m eval.index_ops_bench [--data-dir out/engine_scale/1000000] [--removals 100000] [--saves 3] [--seed 0]

Opens the folder's index (``SearchEngine.open``). Removals: ``--removals`` products removed one at a time
(``ProductIndex.remove``, as a sync did before the thirty-second session) and as many others at once
(``remove_many``, as a sync applies a window's deletions), in memory only: nothing is saved and the catalogue keeps
them. Saves: ``--saves`` times, 1,000 products given a new price through the catalogue, applied, and the index saved
(a checkpoint's work: the vectors and, unless rows were folded into them, the IVF files linked). Writes to the
folder's catalogue (prices) and index (new snapshots of the same build).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig
from engine.engine import SearchEngine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/1000000"))
    ap.add_argument("--removals", type=int, default=100_000)
    ap.add_argument("--saves", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    t = time.perf_counter()
    eng = SearchEngine.open(EngineConfig(data_dir=str(args.data_dir)))
    print(f"opened {len(eng.index):,} products in {time.perf_counter() - t:.1f} s")
    for r in range(args.saves):
        ids = rng.sample(eng.catalog.ids(), 1_000)
        eng.catalog.upsert([p.with_(price=round(rng.uniform(1, 99), 2)) for p in eng.catalog.get_many(ids).values()])
        eng.sync()
        t = time.perf_counter()
        eng.index.save(args.data_dir / "index")
        print(f"save {r + 1} after 1,000 new prices: {time.perf_counter() - t:.2f} s")
    if args.removals:
        ids = rng.sample(list(eng.index.table.row_of), 2 * args.removals)
        t = time.perf_counter()
        with eng.index.lock:
            for pid in ids[:args.removals]:
                eng.index.remove(pid)
        one = time.perf_counter() - t
        t = time.perf_counter()
        eng.index.remove_many(ids[args.removals:])
        many = time.perf_counter() - t
        print(f"{args.removals:,} products removed one at a time: {one:.2f} s; {args.removals:,} others at once: "
              f"{many:.2f} s ({one / many:.1f}x); not saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
