"""A serving worker meets a rebuilt index: search latency before, while and after it opens the new build beside the
one it serves (``server/state.py``), how long that takes, and the worker's memory.

    python -m eval.reload_bench [--data-dir out/engine_scale/1000000] [--searches 60] [--seed 0]

Runs the Flask app in this process (one worker, its test client) on the data folder and searches text queries (titles
of random products with a colour word) one after another. A rebuild is then published as ``shopsight index``
publishes one: a new snapshot folder with a new build id, ``CURRENT`` pointed at it. To leave the folder's index as it
was (a 1M-product build takes 11 minutes and 46 GB of free disk), the new folder holds hard links to the current
snapshot's files, so the worker opens the same vectors through new paths: what is measured is the reopening (load,
catch-up with the catalogue, warm-up) and what it costs the searches meanwhile, not a build. At the end ``CURRENT``
names the original snapshot again and the copy is removed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import sys
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.index.product_index import BUILD_FILE

from .latency import summary
from .proc_status import PeakAnon, status_kb

COLOURS = ["red", "blue", "black", "white", "green", "grey", "brown", "pink"]


def _queries(data_dir: Path, n: int, seed: int) -> list[str]:
    catalog = Catalog(data_dir / "catalog.db")
    rng = random.Random(seed)
    ids = rng.choices(catalog.ids(), k=n)
    found = catalog.get_many(ids)
    titles = [found[i].title for i in ids]
    catalog.close()
    return [f"{rng.choice(COLOURS)} {title}" for title in titles]


def _publish_copy(index_root: Path) -> tuple[str, str]:
    """A new snapshot of a new build, hard links to the current one's files; returns (original, copy) names."""
    original = (index_root / "CURRENT").read_text().strip()
    copy = f"v-reload-bench-{time.time_ns()}"
    shutil.copytree(index_root / original, index_root / copy, copy_function=os.link)
    (index_root / copy / BUILD_FILE).unlink(missing_ok=True)
    (index_root / copy / BUILD_FILE).write_text(f"reload-bench-{time.time_ns()}")
    _point(index_root, copy)
    return original, copy


def _point(index_root: Path, name: str) -> None:
    tmp = index_root / f".CURRENT-{os.getpid()}"
    tmp.write_text(name)
    os.replace(tmp, index_root / "CURRENT")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/1000000"))
    ap.add_argument("--searches", type=int, default=60, help="searches before and after the reopening")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from server import create_app, state

    queries = itertools.cycle(_queries(args.data_dir, 3 * args.searches + 2000, args.seed))
    client = create_app(EngineConfig(data_dir=str(args.data_dir))).test_client()
    t = time.perf_counter()
    client.get("/api/health")
    print(f"worker opened and warmed the index in {time.perf_counter() - t:.1f} s; "
          f"anonymous memory {status_kb('RssAnon') // 1024:,} MB")
    state.RELOAD_CHECK_S = 0.5
    slot = client.application.extensions["shopsight"]

    def search() -> float:
        t0 = time.perf_counter()
        res = client.post("/api/search", json={"text": next(queries), "k": 10})
        if res.status_code != 200:
            raise RuntimeError(f"search failed: {res.status_code} {res.get_data(as_text=True)[:200]}")
        return 1000 * (time.perf_counter() - t0)

    before = [search() for _ in range(args.searches)]
    index_root = args.data_dir / "index"
    served = slot["engine"].index.build_id
    original, copy = _publish_copy(index_root)
    during: list[float] = []
    try:
        with PeakAnon() as peak:
            t = time.perf_counter()
            while slot["engine"].index.build_id == served and time.perf_counter() - t < 600:
                during.append(search())
            reopened = time.perf_counter() - t
            after = [search() for _ in range(args.searches)]
            time.sleep(state.RELEASE_WAIT_S + 1)  # the worker hands the old index's memory back
        ok = slot["engine"].index.folder == copy
        print(f"rebuild published; the worker served it after {reopened:.1f} s (reopened: {ok}); anonymous memory "
              f"peak {peak.mb:,} MB, {status_kb('RssAnon') // 1024:,} MB after")
        print(f"searches before: {summary(before)}")
        print(f"searches while it reopened: {summary(during)}")
        print(f"searches after: {summary(after)}")
    finally:
        _point(index_root, original)
        shutil.rmtree(index_root / copy, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
