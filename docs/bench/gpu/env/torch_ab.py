"""Same-process A/B on a CUDA device: the torch exact backend before (boolean-index assignment of the
filter on every query, torch.cat on every append) and after (masked_fill only when the filter excludes
something, a doubling GPU buffer). 1M x 256 unit vectors, batch-1, alternating rounds."""
import time
import numpy as np
import torch
from ab_common import alternate, catalogue
from engine.index.backends import TorchExact


class Before:
    def __init__(self, vectors):
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors)).to("cuda")

    def append(self, vectors):
        self.vectors = torch.cat([self.vectors, torch.from_numpy(np.ascontiguousarray(vectors)).to("cuda")])

    def search(self, q, k, allowed, cpu_vectors=None, share=None):
        scores = torch.from_numpy(np.ascontiguousarray(q)).to("cuda") @ self.vectors.T
        if allowed is not None:
            scores[:, ~torch.from_numpy(allowed).to("cuda")] = -torch.inf
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
        return top.values.float().cpu().numpy(), top.indices.cpu().numpy()


x, qs, rng = catalogue()
n = len(x)
masks = {"unfiltered (alive, all True)": np.ones(n, bool), "10 %": rng.random(n) < 0.1, "1 %": rng.random(n) < 0.01}
impls = {"before": Before(x), "after": TorchExact(x, "cuda")}
alternate(impls, masks, qs)
for name, be in impls.items():
    ts = []
    for j in range(50):
        torch.cuda.synchronize()
        t = time.perf_counter()
        be.append(x[j:j + 1])
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    print(f"append one vector to 1M        {name:7s} p50 {1e3 * np.median(ts):.3f} ms")
