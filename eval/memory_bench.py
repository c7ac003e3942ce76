"""Memory of serving workers: photo channels memory-mapped from the snapshot or copied into each worker.

    python -m eval.memory_bench [--products 50000] [--workers 4] [--queries 200] [--writes 100] [--folder out/memory_bench]

Builds an index of ``products`` products with one photo each and every photo channel the default bundle
keeps, at the engine's real widths (look 1,352 float32, bridge 384, signature 768, prototype 128, cells
49 x 320 int8: about 27 kB a photo), saves a snapshot, then, for ``IndexConfig.mapped_channels`` off and
on, starts ``workers`` processes at once (as gunicorn's workers each open the engine), each loading the
snapshot (evicted from the page cache first) and answering ``queries`` queries' channel work: an exact
search over the looks (the planner's look channel), the looks' rescoring of 100 candidates, and the
cells of the best 10 (rerank.local_rerank). While all workers are alive each reports its resident memory (RSS) and its proportional share (PSS,
``/proc/self/smaps_rollup``: pages shared by n processes count 1/n in each), then each applies
``writes`` new products (writes while serving: every worker catches up with each) and reports again.
Prints per-worker figures, the workers' total PSS and the median time of a query's channel work
over the first ``queries`` queries (from a cold page cache: a mapped snapshot reads its rows from disk
as they are first asked for, a copied one at load) and over as many more (the workers share the
machine's cores), then each step's median time in one process, warm, in both modes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig
from engine.encoders.cells import decode
from engine.index.product_index import ProductIndex
from engine.rerank import _local_by_owner, _max_by_owner
from engine.types import Product

CHANNELS = {"look": 1352, "bridge": 384, "signature": 768, "proto": 128, "cells": 49 * 320}
DIM = 256


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def photo_vectors(rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """``m`` photos' vectors: "shared" and every channel (cells as int8 codes)."""
    return {"shared": _unit(rng, m, DIM), **{c: _unit(rng, m, d) for c, d in CHANNELS.items() if c != "cells"},
            "cells": rng.integers(-127, 128, (m, CHANNELS["cells"]), dtype=np.int8)}


def build(folder: Path, n: int, seed: int = 0) -> Path:
    """Write a snapshot of ``n`` one-photo products with every channel; returns its folder."""
    rng = np.random.default_rng(seed)
    index = ProductIndex(DIM, IndexConfig(device="cpu"), "bench", dict(CHANNELS))
    chunk = 2_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        vecs, texts = photo_vectors(rng, m), _unit(rng, m, DIM)
        for i in range(m):
            index.upsert(Product(id=f"p{start + i}", title=""), {k: v[i:i + 1] for k, v in vecs.items()}, texts[i])
    index.build()
    return index.save(folder)


def memory_kb() -> tuple[int, int]:
    """(RSS, PSS) of this process in kB."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Rss"], fields["Pss"]


def channel_work(index: ProductIndex, rng: np.random.Generator) -> tuple[float, float, float]:
    """One query's channel work (seconds): the looks' exact search, their rescoring of the candidates,
    the best 10's cells."""
    looks, cells = index.channels["look"], index.channels["cells"]
    q = _unit(rng, 1, CHANNELS["look"])[0]
    query_cells = decode(rng.integers(-127, 128, (1, CHANNELS["cells"]), dtype=np.int8), 320)[0]
    t0 = time.perf_counter()
    _, rows = looks.search_exact(q, 100)
    cand = looks.owner[rows[0][rows[0] >= 0]]
    t1 = time.perf_counter()
    _max_by_owner(looks, cand, q)
    t2 = time.perf_counter()
    _local_by_owner(cells, cand[:10], (query_cells,))
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def open_index(root: str, mapped: bool, n: int) -> ProductIndex:
    products = {f"p{i}": Product(id=f"p{i}", title="") for i in range(n)}
    return ProductIndex.load(root, IndexConfig(device="cpu", mapped_channels=mapped), "bench", products)


def worker(root: str, mapped: bool, n: int, queries: int, writes: int, seed: int, barrier, out) -> None:
    index = open_index(root, mapped, n)
    rng = np.random.default_rng(seed)
    first = [sum(channel_work(index, rng)) for _ in range(queries)]  # from a cold page cache
    then = [sum(channel_work(index, rng)) for _ in range(queries)]
    barrier.wait()
    loaded = memory_kb()
    barrier.wait()  # every worker measured with all alive
    for w in range(writes):  # writes while serving: every worker applies each one (SearchEngine.sync)
        rng2 = np.random.default_rng(99 + w)
        index.upsert(Product(id=f"new{w}", title=""), photo_vectors(rng2, 1), _unit(rng2, 1, DIM)[0])
    barrier.wait()
    after = memory_kb()
    barrier.wait()
    out.put((seed, loaded, after, float(np.median(first)) * 1e3, float(np.median(then)) * 1e3))


def one_process_times(root: str, n: int, queries: int) -> None:
    """Median ms of each step of the channel work in this process alone, warm, both modes alternated."""
    for mapped in (False, True, False, True):
        index, rng = open_index(root, mapped, n), np.random.default_rng(0)
        steps = np.array([channel_work(index, rng) for _ in range(queries)])[queries // 4:] * 1e3
        print(f"  one process, mapped_channels={mapped}: looks search {np.median(steps[:, 0]):.2f} ms, rescoring "
              f"{np.median(steps[:, 1]):.2f} ms, cells of 10 {np.median(steps[:, 2]):.2f} ms", flush=True)


def evict(folder: Path) -> None:
    """Drop the snapshot's files from the page cache, so each mode starts as a restarted server would."""
    for path in folder.glob("*.npy"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run(root: Path, mapped: bool, n: int, workers: int, queries: int, writes: int) -> list[tuple]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(str(root), mapped, n, queries, writes, i, barrier, out)) for i in range(workers)]
    for p in procs:
        p.start()
    results = sorted(out.get() for _ in procs)
    for p in procs:
        p.join()
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--writes", type=int, default=100)
    ap.add_argument("--folder", default="out/memory_bench")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    root = build(Path(args.folder), args.products)
    size = sum(f.stat().st_size for f in Path(root).glob("*.npy")) / 2**20
    print(f"snapshot of {args.products:,} products: {size:,.0f} MiB on disk, built in {time.perf_counter() - t:.0f} s",
          flush=True)
    for mapped in (False, True):
        evict(Path(root))
        results = run(Path(root).parent, mapped, args.products, args.workers, args.queries, args.writes)
        print(f"mapped_channels={mapped}:", flush=True)
        for seed, (rss, pss), (rss2, pss2), ms, ms2 in results:
            print(f"  worker {seed}: RSS {rss / 1024:7.0f} MiB  PSS {pss / 1024:7.0f} MiB  | after "
                  f"{args.writes} writes: RSS {rss2 / 1024:7.0f} MiB  PSS {pss2 / 1024:7.0f} MiB  "
                  f"| channel work p50 {ms:.2f} ms, then {ms2:.2f} ms", flush=True)
        print(f"  all workers: PSS {sum(r[1][1] for r in results) / 1024:,.0f} MiB loaded, "
              f"{sum(r[2][1] for r in results) / 1024:,.0f} MiB after the writes", flush=True)
    one_process_times(str(Path(root).parent), args.products, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
