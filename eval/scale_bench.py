"""Filtered search at scale: our filter planner against numpy, faiss HNSW and LanceDB, one run.

    python -m eval.scale_bench [--sizes 100000 1000000] [--data real synthetic] [--queries 200]
                               [--skip-lancedb] [--out out/scale] [--devices cpu cuda] [--gpu-backends faiss torch]
    python -m eval.scale_bench --sweep ...   # index choice: flat / IVF nprobe / HNSW efSearch / IVF-SQ8

Catalogues (one 256-d vector per product, a 4-level category path, a price):
- ``real``: the shared-space vectors of every fashion photo (default bundle, ../shared/data/fashion),
  grown to the size by perturbed copies (each copy's nearest-neighbour cosine is close to the real
  data's); queries are the shared-space vectors of real fashion *titles* (text -> photo search);
- ``synthetic``: a seeded Gaussian mixture (1,000 clusters); queries are perturbed cluster members.
Categories: each product gets a code 0..9999 spread uniformly, written as the path "3/31/314/3141", so
the filter "category = 3" passes 10 %, "3/31" 1 %, "3/31/314" 0.1 %, "3/31/314/3141" 0.01 %.

Methods, each asked for the filtered top-10 of every query:
- ``ours``: ``AttributeTable.mask`` (the filter) + ``planner.retrieve`` (plan chosen per query) +
  exact rescoring, exactly as ``SearchEngine.search`` runs them (after the query vector exists); with
  ``--devices cuda`` also ours with the index on the GPU, once per ``--gpu-backends`` (faiss-gpu, torch);
- ``numpy exact``: one masked matrix-vector product over all rows (mask given);
- ``faiss HNSW``: IndexHNSWFlat M=32, efSearch=128, an IDSelectorBitmap built from the mask;
- ``lancedb flat`` / ``lancedb IVF_HNSW_SQ``: LanceDB with a SQL prefilter on the category columns.
Printed per size and selectivity: p50/p99 latency (ms, batch-1, one thread), recall@10 against the exact
filtered top-10, fill (results / min(10, matching)); per method build time and memory. Also written to
<out>/scale_bench.json. Without ../shared/data, ``real`` is skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig, RerankConfig
from engine.engine import limit_blas_threads
from engine.index.product_index import ProductIndex
from engine.index.vectors import exact_topk
from engine.planner import QueryVectors, retrieve
from engine.types import Filters, Product

log = logging.getLogger("eval.scale_bench")
DIM = 256
K = 10
SELECTIVITIES = (1.0, 0.1, 0.01, 0.001, 0.0001)


# -- catalogues ------------------------------------------------------------------------------
def real_base() -> tuple[np.ndarray, np.ndarray] | None:
    """(photo vectors, title query vectors) of the fashion set in the default bundle's space."""
    from engine.encoders.bundle import ModelBundle, default_bundle_path
    from engine.encoders.embedder import Embedder
    from engine.features import FeatureCache
    from eval.datasets import DATA, fashion_rows

    if not (DATA / "fashion").exists():
        return None
    cache = Path("out/figures/features.db")
    cache.parent.mkdir(parents=True, exist_ok=True)
    emb = Embedder(ModelBundle.load(default_bundle_path()), FeatureCache(cache))
    rows = fashion_rows()
    photos = emb.embed_image_files([str(DATA / "fashion" / r["image"]) for r in rows], progress=True)["shared"]
    pick = np.random.default_rng(1).permutation(len(rows))[:2000]
    queries = emb.embed_texts([rows[i]["title"] for i in pick], "query")
    return photos.astype(np.float32), queries.astype(np.float32)


def grow(base: np.ndarray, n: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``base`` plus perturbed copies of random base rows up to ``n`` unit rows."""
    out = np.empty((n, base.shape[1]), np.float32)
    m = min(n, len(base))
    out[:m] = base[:m]
    for s in range(m, n, 100_000):
        e = min(n, s + 100_000)
        src = base[rng.integers(0, len(base), e - s)]
        x = src + sigma * rng.standard_normal(src.shape, dtype=np.float32) / math.sqrt(base.shape[1])
        out[s:e] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centers = rng.standard_normal((1000, DIM), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    x = grow(centers, n + 1000, 1.2, rng)[1000:]
    q = grow(centers, 1000 + 2000, 1.2, rng)[1000:]
    return x, q


def category_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 10_000, n)


def path_of(code: int, levels: int = 4) -> str:
    digits = f"{code:04d}"
    return "/".join(digits[: i + 1] for i in range(levels))


def filter_for(selectivity: float, code: int) -> Filters:
    levels = {1.0: 0, 0.1: 1, 0.01: 2, 0.001: 3, 0.0001: 4}[selectivity]
    return Filters(category=path_of(code, levels)) if levels else Filters()


def level_columns(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Integer columns c1..c4 = the first 1..4 digits of the code (LanceDB filters on them)."""
    return {f"c{i}": codes // 10 ** (4 - i) for i in range(1, 5)}


# -- methods ----------------------------------------------------------------------------------
class Ours:
    def __init__(self, x: np.ndarray, codes: np.ndarray, cfg: IndexConfig):
        t = time.perf_counter()
        self.index = ProductIndex(DIM, cfg, "bench")
        paths = {}
        for i, c in enumerate(codes.tolist()):
            self.index.table.add(Product(id=str(i), title="", category=paths.setdefault(c, path_of(c)),
                                         price=float(c % 500)))
        self.index.photos.add(x, np.arange(len(x)))
        self.index.build()
        self.build_s = time.perf_counter() - t
        gpu = self.index.photos.gpu_backend
        self.name = f"ours (GPU, {gpu})" if gpu else "ours (planner)"
        self.plans: dict[str, int] = {}
        self.cfg = cfg

    def memory(self) -> int:
        p = self.index.photos
        lists = p._ann
        extra = lists.nbytes() if hasattr(lists, "nbytes") else 0
        table = self.index.table
        return p.vectors.nbytes + p.owner.nbytes + p.alive.nbytes + extra + table.price.nbytes + table.category_code.nbytes

    def search(self, q: np.ndarray, filters: Filters) -> np.ndarray:
        mask = self.index.table.select(filters)
        got = retrieve(self.index, QueryVectors(shared=q), mask, max(RerankConfig().candidates, 4 * K), self.cfg)
        self.plans[got.plan] = self.plans.get(got.plan, 0) + 1
        best = got.candidates.top(K)
        return best.rows


class NumpyExact:
    name = "numpy exact"

    def __init__(self, x: np.ndarray):
        self.x, self.build_s = x, 0.0

    def memory(self) -> int:
        return self.x.nbytes

    def search(self, q: np.ndarray, mask: np.ndarray) -> np.ndarray:
        _, r = exact_topk(self.x, q, K, mask)
        return r[0][r[0] >= 0]


class FaissHNSW:
    name = "faiss HNSW+selector"

    def __init__(self, x: np.ndarray):
        import faiss

        self.faiss = faiss
        t = time.perf_counter()
        faiss.omp_set_num_threads(2)
        self.index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 64
        self.index.add(x)
        faiss.omp_set_num_threads(1)
        self.build_s = time.perf_counter() - t
        self.n = len(x)

    def memory(self) -> int:
        return self.n * (DIM * 4 + 2 * 32 * 4)

    def search(self, q: np.ndarray, mask: np.ndarray) -> np.ndarray:
        faiss = self.faiss
        bits = np.packbits(mask.view(np.uint8), bitorder="little")
        sel = faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bits))
        _, r = self.index.search(q[None, :], K, params=faiss.SearchParametersHNSW(sel=sel, efSearch=128))
        return r[0][r[0] >= 0]


class Lance:
    def __init__(self, x: np.ndarray, codes: np.ndarray, folder: Path, indexed: bool):
        import lancedb
        import pyarrow as pa

        self.name = "lancedb IVF_HNSW_SQ" if indexed else "lancedb flat"
        self.folder = folder
        t = time.perf_counter()
        cols = {"id": pa.array(np.arange(len(x))),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), DIM)}
        cols.update({k: pa.array(v) for k, v in level_columns(codes).items()})
        db = lancedb.connect(str(folder))
        self.table = db.create_table("products", pa.table(cols), mode="overwrite")
        for c in ("c1", "c2", "c3", "c4"):
            self.table.create_scalar_index(c)
        if indexed:
            self.table.create_index(metric="dot", vector_column_name="vector", index_type="IVF_HNSW_SQ")
        self.build_s = time.perf_counter() - t

    def memory(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())

    def search(self, q: np.ndarray, code: int, selectivity: float) -> np.ndarray:
        levels = {1.0: 0, 0.1: 1, 0.01: 2, 0.001: 3, 0.0001: 4}[selectivity]
        query = self.table.search(q, vector_column_name="vector").distance_type("dot").limit(K).select(["id", "_distance"])
        if levels:
            query = query.where(f"c{levels} = {code // 10 ** (4 - levels)}", prefilter=True)
        return np.asarray(query.to_arrow()["id"].to_pylist(), np.int64)


# -- the run ----------------------------------------------------------------------------------
def run_size(name: str, x: np.ndarray, queries: np.ndarray, n_queries: int, skip_lance: bool,
             workdir: Path, cfgs: list[IndexConfig], only_ours: bool = False) -> dict:
    rng = np.random.default_rng(len(x))
    codes = category_codes(len(x), rng)
    q_idx = rng.permutation(len(queries))[:n_queries]
    methods: list = [Ours(x, codes, c) for c in cfgs] + ([] if only_ours else [NumpyExact(x), FaissHNSW(x)])
    if not skip_lance and not only_ours:
        for indexed in (False, True):
            try:
                methods.append(Lance(x, codes, workdir / f"lance-{len(x)}-{int(indexed)}", indexed))
            except Exception as exc:  # noqa: BLE001 - a baseline that cannot build is reported, not fatal
                log.warning("LanceDB (%s) failed: %s", "indexed" if indexed else "flat", exc)
    out = {"catalogue": name, "n": len(x), "methods": {}}
    for m in methods:
        out["methods"][m.name] = {"build_s": round(m.build_s, 2), "memory_bytes_per_product": round(m.memory() / len(x), 1)}
    for sel in SELECTIVITIES:
        # every query filters on the category of a random product, so "matching" is never planned around
        picks = [(queries[i], int(codes[rng.integers(0, len(x))])) for i in q_idx]
        truths, masks, filters = [], [], []
        ours = methods[0]
        for q, code in picks:
            f = filter_for(sel, code)
            mask = ours.index.table.mask(f)
            masks.append(mask)
            filters.append(f)
            _, r = exact_topk(x, q, K, mask)
            truths.append(r[0][r[0] >= 0])
        for m in methods:
            reps = len(picks) if not m.name.startswith("lancedb flat") or len(x) <= 100_000 else min(len(picks), 30)
            times, recalls, fills = [], [], []
            if isinstance(m, Ours):
                m.plans = {}
            for i in range(reps):
                q, code = picks[i]
                t = time.perf_counter()
                if isinstance(m, Ours):
                    got = m.search(q, filters[i])
                elif isinstance(m, Lance):
                    got = m.search(q, code, sel)
                else:
                    got = m.search(q, masks[i])
                times.append(time.perf_counter() - t)
                owed = len(truths[i])
                if owed:
                    recalls.append(len(set(got.tolist()) & set(truths[i].tolist())) / owed)
                    fills.append(min(len(got), owed) / owed)
            row = {"p50_ms": round(float(np.percentile(times, 50)) * 1e3, 3),
                   "p99_ms": round(float(np.percentile(times, 99)) * 1e3, 3),
                   "recall@10": round(float(np.mean(recalls)), 4) if recalls else None,
                   "fill": round(float(np.mean(fills)), 4) if fills else None, "queries": reps}
            if isinstance(m, Ours):
                row["plans"] = dict(m.plans)
            out["methods"][m.name][f"{sel:g}"] = row
            print(f"{name:9s} n={len(x):>9,d} sel={sel:<7g} {m.name:22s} p50 {row['p50_ms']:8.3f} ms  "
                  f"p99 {row['p99_ms']:8.3f} ms  recall@10 {row['recall@10']}  fill {row['fill']}"
                  + (f"  plans {row['plans']}" if "plans" in row else ""), flush=True)
    for m in methods:
        info = out["methods"][m.name]
        print(f"{name:9s} n={len(x):>9,d} {m.name:22s} build {info['build_s']:.1f} s  "
              f"memory {info['memory_bytes_per_product']:.0f} B/product", flush=True)
    return out


def markdown(results: list[dict]) -> str:
    """docs/figures.md's tables (p50 ms / recall@10 / fill per selectivity and method) from the JSON."""
    lines = []
    for res in results:
        names = list(res["methods"])
        lines += [f"**{res['catalogue']} vectors, n = {res['n']:,}**", "",
                  "| selectivity | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for sel in SELECTIVITIES:
            cells = []
            for m in names:
                x = res["methods"][m].get(f"{sel:g}")
                cells.append(f"{x['p50_ms']:.2f} / {x['recall@10']:.3f} / {x['fill']:.2f}" if x else "–")
            lines.append(f"| {sel * 100:g} % | " + " | ".join(cells) + " |")
        lines += ["| build s / bytes per product | " + " | ".join(
            f"{res['methods'][m]['build_s']:.1f} / {res['methods'][m]['memory_bytes_per_product']:.0f}" for m in names)
            + " |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--data", nargs="+", default=["real", "synthetic"], choices=["real", "synthetic"])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--skip-lancedb", action="store_true")
    ap.add_argument("--only-ours", action="store_true", help="only the engine (quick before/after checks)")
    ap.add_argument("--out", default="out/scale")
    ap.add_argument("--nprobe", type=int, default=IndexConfig().nprobe, help="IVF lists probed unfiltered")
    ap.add_argument("--exact-scan-below", type=int, default=IndexConfig().exact_scan_below)
    ap.add_argument("--sweep", action="store_true", help="only the unfiltered index-choice sweep")
    ap.add_argument("--markdown", metavar="JSON", help="print the tables of an earlier run's scale_bench.json")
    ap.add_argument("--devices", nargs="+", default=["cpu"], choices=["cpu", "cuda"], help="where our index runs")
    ap.add_argument("--gpu-backends", nargs="+", default=["auto"], choices=["auto", "faiss", "torch"],
                    help="with --devices cuda: one 'ours' per exact GPU backend")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    logging.basicConfig(level=logging.WARNING)
    limit_blas_threads()  # as SearchEngine does: one BLAS thread on 2 cores, for every method
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = IndexConfig(kind="auto", device="cpu", nprobe=args.nprobe, exact_scan_below=args.exact_scan_below)
    cfgs = [dataclasses.replace(cfg, device=d, gpu_backend=b) for d in args.devices
            for b in (args.gpu_backends if d == "cuda" else ["auto"])]
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    try:
        for data in args.data:
            if data == "real":
                base = real_base()
                if base is None:
                    print("../shared/data/fashion is absent: real-vector catalogue skipped")
                    continue
                photos, queries = base
            for n in args.sizes:
                rng = np.random.default_rng(n)
                if data == "real":
                    x = grow(photos, n, 0.7, rng)
                else:
                    x, queries = synthetic(n, rng)
                if args.sweep:
                    from eval.index_sweep import index_sweep

                    results.extend(index_sweep(data, x, queries, args.queries))
                else:
                    results.append(run_size(data, x, queries, args.queries, args.skip_lancedb, workdir, cfgs,
                                            args.only_ours))
                del x
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    name = "index_sweep.json" if args.sweep else "scale_bench.json"
    (out / name).write_text(json.dumps(results, indent=1))
    print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
