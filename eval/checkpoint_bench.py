"""A serving worker's checkpoint after a large feed: how long it takes, what it costs the searches meanwhile, and how
fast a worker starting afterwards opens the index.

    python -m eval.checkpoint_bench [--data-dir out/engine_scale/1000000] [--products 100000] [--every 50000] [--seed 0]

Runs the Flask app in this process (one worker, its test client, ``checkpoint_changes`` ``--every``, checked every
second) and searches text queries one after another. Another ``Catalog`` (a feed, as ``shopsight import`` writes it)
gives ``--products`` products a new price and stock value; the searches apply it and the worker then saves a
checkpoint in the background (``server/state.py``). Prints the latency of the searches before, while the feed
was written, from its commit until every change was in the index (and how long that took), while the checkpoint ran
and after, the checkpoint's time, and a fresh ``SearchEngine.open``
afterwards (nothing to catch up). Writes to the folder's catalogue and index.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.engine import SearchEngine

from .latency import summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("out/engine_scale/1000000"))
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--every", type=int, default=50_000, help="checkpoint_changes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from server import create_app, state

    config = EngineConfig(data_dir=str(args.data_dir), checkpoint_changes=args.every)
    client = create_app(config).test_client()
    first = client.get("/api/health").get_json()["snapshot"]
    state.RELOAD_CHECK_S = 1.0
    slot = client.application.extensions["shopsight"]
    words = ["red mug", "blue dress", "striped hoodie", "green bag", "black watch"]
    latency: list[tuple[float, float]] = []
    fed: list[float] = []  # (the feed's sequence, its commit time) once committed
    applied: list[float] = []  # when the searches had every change of the feed in the index

    def search(i: int) -> None:
        t = time.perf_counter()
        client.post("/api/search", json={"text": words[i % len(words)], "k": 10})
        latency.append((time.perf_counter(), 1000 * (time.perf_counter() - t)))
        if fed and not applied and slot["engine"].index.seq >= fed[0]:
            applied.append(time.perf_counter())

    for i in range(40):
        search(i)
    feed = Catalog(args.data_dir / "catalog.db")
    ids = random.Random(args.seed).sample(feed.ids(), args.products)
    price = round(random.Random(args.seed).uniform(1, 2), 2)
    written = threading.Event()

    def write_feed() -> None:
        feed.upsert([p.with_(price=price, attributes={**p.attributes, "stock": f"c{args.seed}"})
                     for p in feed.get_many(ids).values()])
        fed.extend([feed.seq, time.perf_counter()])
        written.set()

    t_feed = time.perf_counter()
    threading.Thread(target=write_feed).start()
    i = 0
    while not written.is_set():  # the feed commits in one transaction: the searches after apply it
        search(i)
        i += 1
    t_written = fed[1]
    started = None
    while time.perf_counter() - t_written < 300:
        search(i)
        i += 1
        if started is None and slot["checkpointing"] is not None:
            started = time.perf_counter()
        if started is not None and slot["checkpointing"] is None:
            break
    ended = time.perf_counter()
    for _ in range(40):
        search(i)
        i += 1
    snapshot = client.get("/api/health").get_json()["snapshot"]
    before = [ms for at, ms in latency if at < t_feed]
    feeding = [ms for at, ms in latency if t_feed <= at < t_written]
    done = applied[0] if applied else ended
    applying = [ms for at, ms in latency if t_written <= at <= done]
    during = [ms for at, ms in latency if started is not None and started <= at <= ended]
    after = [ms for at, ms in latency if at > ended]
    t = time.perf_counter()
    fresh = SearchEngine.open(config)
    opened = time.perf_counter() - t
    print(f"{args.products:,} products changed by a feed written in {t_written - t_feed:.1f} s; checkpoint "
          f"{'saved' if snapshot != first else 'NOT saved'}, running {ended - (started or ended):.1f} s as the searches "
          f"saw it ({first} -> {snapshot})")
    print(f"searches before the feed: {summary(before)}; while it was written: {summary(feeding)}; from its commit "
          f"until every change was in the index ({done - t_written:.1f} s): {summary(applying)}; while "
          f"the checkpoint ran: {summary(during)}; after: {summary(after)}")
    print(f"a worker opening the index afterwards: {opened:.1f} s, {fresh.index.changed_since_save:,} changes to catch up")
    return 0 if snapshot != first else 1


if __name__ == "__main__":
    sys.exit(main())
