"""Index choice: unfiltered batch-1 search over one catalogue with each index kind and knob.

Run through ``python -m eval.scale_bench --sweep`` (same catalogues as the filtered benchmark): flat
numpy (and a batch of 64 through one BLAS matmul), our IVF lists at several nprobe, faiss HNSW at
several efSearch, faiss IVF-SQ8 with exact rescoring; p50, recall@10 against exact, build time and
bytes per product.
"""

from __future__ import annotations

import time

import numpy as np

from engine.index.ivf import ListIndex, train_fast, top_indices
from engine.index.vectors import exact_topk
from eval.scale_bench import DIM, K


def index_sweep(name: str, x: np.ndarray, queries: np.ndarray, n_queries: int) -> list[dict]:
    """Unfiltered batch-1 search over one catalogue with each index kind and knob: p50, recall@10
    against exact, build time, memory per product. Batched exact search (BLAS) for reference."""
    import faiss

    q = queries[np.random.default_rng(0).permutation(len(queries))[:n_queries]]
    truth = [set(r[r >= 0].tolist()) for r in exact_topk(x, q, K)[1]]
    rows = []

    def measure(kind: str, knob: str, fn, build_s: float, bytes_per: float) -> None:
        fn(q[0])
        times, recalls = [], []
        for i, qi in enumerate(q):
            t = time.perf_counter()
            got = fn(qi)
            times.append(time.perf_counter() - t)
            recalls.append(len(set(got.tolist()) & truth[i]) / K)
        row = {"catalogue": name, "n": len(x), "index": kind, "knob": knob, "build_s": round(build_s, 1),
               "bytes_per_product": round(bytes_per), "p50_ms": round(float(np.percentile(times, 50)) * 1e3, 3),
               "recall@10": round(float(np.mean(recalls)), 4)}
        rows.append(row)
        print(f"{name:9s} n={len(x):>9,d} {kind:14s} {knob:14s} p50 {row['p50_ms']:7.3f} ms  recall@10 "
              f"{row['recall@10']:.4f}  build {row['build_s']:6.1f} s  {row['bytes_per_product']} B/product", flush=True)

    measure("flat (numpy)", "-", lambda qi: exact_topk(x, qi, K)[1][0], 0.0, DIM * 4)
    batch_s = time.perf_counter()
    exact_topk(x, q[:64], K)
    batch_ms = (time.perf_counter() - batch_s) * 1e3 / 64
    print(f"{name:9s} n={len(x):>9,d} flat (numpy)   batch of 64    {batch_ms:7.3f} ms a query (one BLAS matmul)")
    rows.append({"catalogue": name, "n": len(x), "index": "flat (numpy)", "knob": "batch 64",
                 "ms_per_query": round(batch_ms, 3)})
    t = time.perf_counter()
    lists = ListIndex.train(x, pq_codes=False)
    build = time.perf_counter() - t
    per = lists.nbytes() / len(x) + DIM * 4
    for nprobe in (8, 16, 32, 64):
        measure(f"ivf{lists.nlist} (ours)", f"nprobe {nprobe}", lambda qi, p=nprobe: lists.search(qi, K, p, None, x)[1],
                build, per)
    t = time.perf_counter()
    lists.fast, lists.codes = train_fast(lists.centroids, x), None
    build += time.perf_counter() - t
    per = lists.nbytes() / len(x) + DIM * 4
    for nprobe in (16, 24, 32, 48):
        measure(f"ivf{lists.nlist}+pq4 (ours)", f"nprobe {nprobe}", lambda qi, p=nprobe: lists.search(qi, K, p, None, x)[1],
                build, per)
    lists.fast = None
    faiss.omp_set_num_threads(2)
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 64
    hnsw.add(x)
    build = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    for ef in (32, 64, 128, 256):
        measure("hnsw32 (faiss)", f"efSearch {ef}", lambda qi, e=ef: hnsw.search(
            qi[None], K, params=faiss.SearchParametersHNSW(efSearch=e))[1][0], build, DIM * 4 + 64 * 4)
    del hnsw
    faiss.omp_set_num_threads(2)
    t = time.perf_counter()
    sq = faiss.index_factory(DIM, f"IVF{lists.nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    sq.train(x[np.random.default_rng(0).permutation(len(x))[: lists.nlist * 64]])
    sq.add(x)
    build = time.perf_counter() - t
    faiss.omp_set_num_threads(1)

    def sq_rescored(qi, nprobe):
        _, cand = sq.search(qi[None], 4 * K, params=faiss.SearchParametersIVF(nprobe=nprobe))
        cand = cand[0][cand[0] >= 0]
        return cand[top_indices(x[cand] @ qi, K)]

    for nprobe in (16, 32, 64):
        measure("ivf-sq8 (faiss)", f"nprobe {nprobe}+rescore", lambda qi, p=nprobe: sq_rescored(qi, p),
                build, DIM + DIM * 4)
    return rows
