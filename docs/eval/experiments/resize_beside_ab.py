"""A/B in one process: a query photo's second cell side resized on a thread beside the tower's first pass
(as the engine does) against resized in turn (a stand-in pool that runs it at once).

    .venv/bin/python docs/eval/experiments/resize_beside_ab.py [bundle] [feature cache]

Luma photo + colour word queries (150), 4 rounds alternating the order; asserts the rankings are equal.
"""
import sys, time
import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from concurrent.futures import Future
from pathlib import Path
import numpy as np
from engine.encoders import embedder as E
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.images import open_image
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

class Sync:
    def submit(self, fn, *a):
        f = Future(); f.set_result(fn(*a)); return f

bundle = sys.argv[1] if len(sys.argv) > 1 else "default"
cache = sys.argv[2] if len(sys.argv) > 2 else "out/figures/features.db"
cfg = eval_config(Path("out/probes/resize_ab"), cache)
task = next(t for t in datasets.luma_tasks() if t.kind == "photo+text")
eng, _ = runner.build_engine(task, ModelBundle.load(resolve_bundle_path(bundle)), cfg,
                           Path("out/probes/resize_ab/work"))
queries = [Query(image=open_image(q.image), text=q.text, k=20) for q in task.queries[:150]]
thread = E._RESIZE
for q in queries[:10]: eng.search(q)
res = {"sync": [], "thread": []}
same = None
for r in range(4):
    for mode in ("sync", "thread") if r % 2 == 0 else ("thread", "sync"):
        E._RESIZE = Sync() if mode == "sync" else thread
        ids = []
        for q in queries:
            t = time.perf_counter(); resp = eng.search(q); res[mode].append((time.perf_counter() - t) * 1e3)
            ids.append([x.product.id for x in resp.results])
        same = ids if same is None else same
        assert ids == same, "rankings differ"
for m, v in res.items():
    print(m, "p50 %.2f ms  mean %.2f ms  p99 %.2f (n=%d)" % (np.percentile(v, 50), np.mean(v), np.percentile(v, 99), len(v)))
print("p50 ratio sync/thread %.3f" % (np.percentile(res["sync"], 50) / np.percentile(res["thread"], 50)))
