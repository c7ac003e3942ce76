"""Same-process A/B on a CUDA device: the torch exact backend masking the full 1M scan for every filter
(before) against scoring only the allowed rows for filters passing <= 5 % (after; the filter's share
comes from the caller, as the planner passes it). 1M x 256 unit
vectors, batch-1, 4 alternating rounds of 100 queries per filter."""
import numpy as np
import torch
from ab_common import alternate, catalogue
from engine.index.backends import TorchExact


class Before(TorchExact):
    def search(self, q, k, allowed, cpu_vectors=None, share=None):
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        scores = torch.from_numpy(q).to(self.device) @ self.vectors.T
        if allowed is not None and not allowed[: self.n].all():
            scores.masked_fill_(~torch.from_numpy(np.ascontiguousarray(allowed[: self.n])).to(self.device), -torch.inf)
        top = torch.topk(scores, min(k, self.n), dim=1)
        return top.values.float().cpu().numpy(), top.indices.cpu().numpy()


x, qs, rng = catalogue()
masks = {f"{s:g}": rng.random(len(x)) < s for s in (0.1, 0.05, 0.01, 0.001)}
alternate({"before": Before(x, "cuda"), "after": TorchExact(x, "cuda")}, masks, qs, share=float)  # the planner passes the share
