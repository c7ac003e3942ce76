"""faiss-gpu flat variants vs torch at 1M x 256, batch-1 (why faiss-gpu is slower here)."""
import time, numpy as np, faiss, torch
rng = np.random.default_rng(0)
n, d = 1_000_000, 256
x = rng.standard_normal((n, d)).astype(np.float32); x /= np.linalg.norm(x, axis=1, keepdims=True)
q = x[:50] + 0.05
res = faiss.StandardGpuResources()
def bench(name, fn, reps=50):
    fn(0); ts = []
    for i in range(reps):
        t = time.perf_counter(); fn(i); ts.append(time.perf_counter() - t)
    print(f"{name:40s} p50 {1e3*np.median(ts):7.3f} ms")
for fp16 in (False, True):
    cfg = faiss.GpuIndexFlatConfig(); cfg.useFloat16 = fp16
    idx = faiss.GpuIndexFlatIP(res, d, cfg); idx.add(x)
    for k in (10, 100, 1500):
        bench(f"faiss fp16={fp16} k={k}", lambda i: idx.search(q[i:i+1], k))
    bench(f"faiss fp16={fp16} k=10 batch50", lambda i: idx.search(q, 10), 10)
    del idx
xt = torch.from_numpy(x).cuda()
for dt in (torch.float32, torch.float16):
    xv = xt.to(dt)
    def f(i, k=10):
        s = torch.from_numpy(q[i:i+1]).cuda().to(dt) @ xv.T
        v = torch.topk(s, k); return v.values.cpu(), v.indices.cpu()
    bench(f"torch {dt} k=10", f)
    bench(f"torch {dt} k=1500", lambda i: f(i, 1500))
