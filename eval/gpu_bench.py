"""GPU figures: exact search on the GPU (faiss-gpu and torch) and image-tower throughput.

    python -m eval.gpu_bench [--sizes 100000 1000000] [--dim 256]

Compares, in the same run, the CPU exact scan (numpy, the engine's CPU path) with the GPU exact paths
(``VectorIndex(device="cuda")`` with ``gpu_backend`` "torch" and, where the installed faiss has GPU
support, "faiss") for batch-1 queries, unfiltered and at 10 %, 1 % and 0.1 % selectivity (recall@10
against the numpy answer is printed too), and the EfficientNet-Lite0 tower's photos/s on CPU vs GPU
(fp32 and bf16 autocast).
"""

from __future__ import annotations

import argparse
import json
import time

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
import numpy as np
import torch

from engine.config import ImageTowerSpec, IndexConfig
from engine.index import VectorIndex, backends


def search_bench(n: int, d: int, reps: int = 50) -> dict:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, d)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    q = vecs[rng.integers(0, n, reps)] + 0.1
    masks = {"unfiltered": None, **{f"{share:g}": rng.random(n) < share for share in (0.1, 0.01, 0.001)}}
    paths = [("cpu", "cpu", "auto"), ("cuda-torch", "cuda", "torch")]
    if backends.faiss_has_gpu():
        paths.append(("cuda-faiss", "cuda", "faiss"))
    res, truth = {"n": n, "d": d}, {}
    for label, device, backend in paths:
        index = VectorIndex(d, IndexConfig(kind="flat", device=device, gpu_backend=backend))
        index.add(vecs, np.arange(n))
        index.build()
        for name, mask in masks.items():
            index.search_exact(q[0], 10, mask)
            ms, hits = [], []
            for i in range(reps):
                t = time.perf_counter()
                _, rows = index.search_exact(q[i], 10, mask)
                ms.append((time.perf_counter() - t) * 1000)
                want = truth.setdefault((name, i), set(rows[0].tolist()))
                hits.append(len(want & set(rows[0].tolist())) / max(len(want), 1))
            res[f"{label}_{name}_p50_ms"] = round(float(np.percentile(ms, 50)), 3)
            res[f"{label}_{name}_p99_ms"] = round(float(np.percentile(ms, 99)), 3)
            res[f"{label}_{name}_recall@10"] = round(float(np.mean(hits)), 4)
    return res


def _photos_per_s(tower, x: np.ndarray, reps: int) -> float:
    tower.features(x)  # warm-up
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        tower.features(x)
    torch.cuda.synchronize()
    return reps * len(x) / (time.perf_counter() - t)


def tower_bench(batch: int = 64, reps: int = 10) -> dict:
    from engine.encoders import build_image_tower

    spec = ImageTowerSpec(pretrained=False)
    x = np.random.default_rng(0).integers(0, 255, (batch, 224, 224, 3), dtype=np.uint8)
    res = {"cpu_fp32_photos_per_s": _photos_per_s(build_image_tower(spec, "cpu"), x, 1)}
    gpu = build_image_tower(spec, "cuda")
    res["cuda_fp32_photos_per_s"] = _photos_per_s(gpu, x, reps)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        res["cuda_bf16_photos_per_s"] = _photos_per_s(gpu, x, reps)
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=256)
    args = parser.parse_args(argv)
    print(json.dumps({"device": torch.cuda.get_device_name(0)}))
    for n in args.sizes:
        print(json.dumps(search_bench(n, args.dim)), flush=True)
    print(json.dumps(tower_bench()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
