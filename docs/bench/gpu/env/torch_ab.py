"""Same-process A/B on a CUDA device: the torch exact backend before (boolean-index assignment of the
filter on every query, torch.cat on every append) and after (masked_fill only when the filter excludes
something, a doubling GPU buffer). 1M x 256 unit vectors, batch-1, alternating rounds."""
import time
import numpy as np
import torch
from engine.index.backends import TorchExact


class Before:
    def __init__(self, vectors):
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors)).to("cuda")

    def append(self, vectors):
        self.vectors = torch.cat([self.vectors, torch.from_numpy(np.ascontiguousarray(vectors)).to("cuda")])

    def search(self, q, k, allowed, cpu_vectors=None):
        scores = torch.from_numpy(np.ascontiguousarray(q)).to("cuda") @ self.vectors.T
        if allowed is not None:
            scores[:, ~torch.from_numpy(allowed).to("cuda")] = -torch.inf
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
        return top.values.float().cpu().numpy(), top.indices.cpu().numpy()


rng = np.random.default_rng(0)
n, d = 1_000_000, 256
x = rng.standard_normal((n, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
qs = x[rng.integers(0, n, 100)] + 0.05
masks = {"unfiltered (alive, all True)": np.ones(n, bool), "10 %": rng.random(n) < 0.1, "1 %": rng.random(n) < 0.01}
impls = {"before": Before(x), "after": TorchExact(x, "cuda")}
res = {(m, i): [] for m in masks for i in impls}
for rnd in range(4):
    for m, mask in masks.items():
        for name, be in impls.items():
            be.search(qs[:1], 10, mask)
            for j in range(100):
                t = time.perf_counter()
                s, r = be.search(qs[j:j + 1], 10, mask)
                res[(m, name)].append(time.perf_counter() - t)
            if name == "after":
                assert set(r[0].tolist()) == set(impls["before"].search(qs[j:j + 1], 10, mask)[1][0].tolist())
for (m, name), ts in res.items():
    print(f"{m:30s} {name:7s} p50 {1e3 * np.median(ts):.3f} ms  p99 {1e3 * np.percentile(ts, 99):.3f} ms")
for name, be in impls.items():
    ts = []
    for j in range(50):
        torch.cuda.synchronize()
        t = time.perf_counter()
        be.append(x[j:j + 1])
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    print(f"append one vector to 1M        {name:7s} p50 {1e3 * np.median(ts):.3f} ms")
