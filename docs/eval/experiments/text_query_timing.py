"""Fashion text -> own photo queries through SearchEngine.search on the report's 2,000-product gallery:
p50 / mean latency over 300 queries x 3 rounds and a hash of the rankings (to compare two commits).

    .venv/bin/python docs/eval/experiments/text_query_timing.py [bundle] [feature cache]
"""
import sys
import time
from pathlib import Path
import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.encoders.bundle import ModelBundle
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
bundle = sys.argv[1] if len(sys.argv) > 1 else "reports/latest/bundle"
cfg = eval_config(Path("out/probes/text_timing"), sys.argv[2] if len(sys.argv) > 2 else "out/features.db")
gallery, _ = datasets.fashion_split(2000, 42072)
task = datasets.fashion_tasks(gallery, 0)[0]
eng, _ = runner.build_engine(task, ModelBundle.load(bundle), cfg, Path("out/probes/text_timing/work"))
qs = [Query(text=q.text, k=20) for q in task.queries[:300]]
for q in qs[:20]: eng.search(q)
import numpy as np
lat=[]; ids=[]
for rnd in range(3):
    for q in qs:
        t=time.perf_counter(); r=eng.search(q); lat.append((time.perf_counter()-t)*1e3); ids.append([x.product.id for x in r.results])
print("p50 %.2f mean %.2f" % (np.percentile(lat,50), np.mean(lat)), "rankings", __import__("hashlib").sha1(str(ids).encode()).hexdigest()[:12])
