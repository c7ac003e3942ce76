import time, numpy as np, faiss
print("faiss", faiss.__version__, faiss.__file__, "gpus", faiss.get_num_gpus())
res = faiss.StandardGpuResources()
rng = np.random.default_rng(0)
for n in (1000, 1_000_000):
    x = rng.standard_normal((n, 256)).astype(np.float32); x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx = faiss.GpuIndexFlatIP(res, 256); idx.add(x)
    q = x[:8] + 0.05
    D, I = idx.search(q, 10)
    ref = np.argsort(-(q @ x.T), axis=1)[:, :10]
    print(n, "match", float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, ref)])),
          "maxdiff", float(np.abs(D - np.take_along_axis(q @ x.T, I, 1)).max()))
    ts = []
    for i in range(50):
        t = time.perf_counter(); idx.search(q[i % 8:i % 8 + 1], 10); ts.append(time.perf_counter() - t)
    print(n, "p50 ms", 1e3 * np.median(ts))
    D, I = idx.search(q[:1], 2048); print("k=2048 ok", I.shape)
