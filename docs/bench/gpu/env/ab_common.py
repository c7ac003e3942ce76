"""Shared by torch_ab.py and torch_ab2.py: the 1M x 256 catalogue and the alternating A/B loop."""
import time

import numpy as np


def catalogue(n: int = 1_000_000, d: int = 256, n_queries: int = 100):
    """(unit vectors, queries near some of them, rng), seeded."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, x[rng.integers(0, n, n_queries)] + 0.05, rng


def alternate(impls: dict, masks: dict, qs: np.ndarray, share=lambda m: None, rounds: int = 4) -> None:
    """Time every implementation on every mask in alternating rounds; "after" must return the rows
    "before" returns; prints p50 / p99 per (mask, implementation)."""
    res = {(m, i): [] for m in masks for i in impls}
    for _ in range(rounds):
        for m, mask in masks.items():
            for name, be in impls.items():
                be.search(qs[:1], 10, mask)
                for j in range(len(qs)):
                    t = time.perf_counter()
                    s, r = be.search(qs[j:j + 1], 10, mask, None, share(m))
                    res[(m, name)].append(time.perf_counter() - t)
                    if name == "after":
                        ref = set(impls["before"].search(qs[j:j + 1], 10, mask)[1][0].tolist())
                        assert set(r[0].tolist()) == ref, (m, r, ref)
    for (m, name), ts in res.items():
        print(f"{m:30s} {name:7s} p50 {1e3 * np.median(ts):.3f} ms  p99 {1e3 * np.percentile(ts, 99):.3f} ms")
