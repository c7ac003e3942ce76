"""Probe: photo-query latency with the query photo's palette computed in the query thread ("sequential", as first
built) or on a thread beside the tower pass ("beside", engine._BESIDE), 200 luma photo -> product queries, four
alternating rounds, median ms; the answers must be the same. Tuning bundle (reports/tune_local/bundle).

    .venv/bin/python docs/eval/experiments/palette_latency_probe.py   (needs ../shared/data; ~1 min)
"""
import sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
import engine.engine as E
from engine.encoders.bundle import ModelBundle
from engine.images import open_image
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
out = Path("out/probes/palette_latency"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load("reports/tune_local/bundle")
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
eng, _ = runner.build_engine(task, bundle, cfg, out / "photo")
imgs = [open_image(q.image) for q in task.queries[:200]]
class Now:  # the palette computed in the query thread, as before
    def submit(self, fn, *a):
        r = fn(*a)
        class F:
            def result(self): return r
        return F()
pools = {"sequential": Now(), "beside": E._BESIDE}
times = {k: [] for k in pools}
ids = {k: [] for k in pools}
for rnd in range(4):
    for name in (list(pools) if rnd % 2 else list(pools)[::-1]):
        E._BESIDE = pools[name]
        for img in imgs:
            t = time.perf_counter(); r = eng.search(Query(image=img, k=10)); times[name].append((time.perf_counter() - t) * 1000)
            if rnd == 0: ids[name].append([x.product.id for x in r.results])
print({k: round(float(np.median(v)), 2) for k, v in times.items()}, "same answers:", ids["sequential"] == ids["beside"])
