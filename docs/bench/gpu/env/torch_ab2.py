"""Same-process A/B on a CUDA device: the torch exact backend masking the full 1M scan for every filter
(before) against scoring only the allowed rows for filters passing <= 5 % (after; the filter's share
comes from the caller, as the planner passes it). 1M x 256 unit
vectors, batch-1, 4 alternating rounds of 100 queries per filter."""
import time
import numpy as np
import torch
from engine.index.backends import TorchExact


class Before(TorchExact):
    def search(self, q, k, allowed, cpu_vectors=None, share=None):
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        scores = torch.from_numpy(q).to(self.device) @ self.vectors.T
        if allowed is not None and not allowed[: self.n].all():
            scores.masked_fill_(~torch.from_numpy(np.ascontiguousarray(allowed[: self.n])).to(self.device), -torch.inf)
        top = torch.topk(scores, min(k, self.n), dim=1)
        return top.values.float().cpu().numpy(), top.indices.cpu().numpy()


rng = np.random.default_rng(0)
n, d = 1_000_000, 256
x = rng.standard_normal((n, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
qs = x[rng.integers(0, n, 100)] + 0.05
masks = {f"{s:g}": rng.random(n) < s for s in (0.1, 0.05, 0.01, 0.001)}
impls = {"before": Before(x, "cuda"), "after": TorchExact(x, "cuda")}
res = {(m, i): [] for m in masks for i in impls}
for rnd in range(4):
    for m, mask in masks.items():
        for name, be in impls.items():
            be.search(qs[:1], 10, mask)
            for j in range(100):
                t = time.perf_counter()
                s, r = be.search(qs[j:j + 1], 10, mask, None, float(m))  # the planner passes the share
                res[(m, name)].append(time.perf_counter() - t)
            if name == "after":
                ref = set(impls["before"].search(qs[j:j + 1], 10, mask)[1][0].tolist())
                assert set(r[0].tolist()) == ref, (m, r, ref)
for (m, name), ts in res.items():
    print(f"filter {m:6s} {name:7s} p50 {1e3 * np.median(ts):.3f} ms  p99 {1e3 * np.percentile(ts, 99):.3f} ms")
