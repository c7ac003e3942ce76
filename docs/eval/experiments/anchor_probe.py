"""Probe: photo + colour word queries anchored on the catalogue photo the query photo shows (engine/anchor.py),
per query photo's view (main / alt1 = close-up / back / ...). BUNDLE: a bundle trained on the fashion training
split, e.g. the one `python -m eval.tune_fusion --weight w_local --out reports/tune_local` saves.

    .venv/bin/python docs/eval/experiments/anchor_probe.py [BUNDLE]   (needs ../shared/data; ~3 min)
"""
import sys
from dataclasses import replace
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.images import open_image
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
out = Path("out/probes/anchor"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(sys.argv[1] if len(sys.argv) > 1 else "reports/tune_local/bundle")
for task in [t for t in datasets.luma_tasks() if t.kind == "photo+text"]:
    eng, _ = runner.build_engine(task, bundle, cfg, out / task.name[:12].replace(" ", "_"))
    views = np.array([Path(q.image).stem.split("_")[-1] for q in task.queries])
    same_product = np.array([eng.search(Query(image=open_image(q.image), k=1)).results[0].product.id.split(":")[0]
                             == next(iter(q.relevant)).split(":")[0] for q in task.queries])
    for blend in (0.0, 0.5, 1.0):
        eng.config = replace(cfg, rerank=replace(cfg.rerank, anchor=blend))
        rankings, lat = runner.engine_rankings(eng, task)
        want = [next(iter(q.relevant)) for q in task.queries]
        r1 = np.array([r[0] == w for r, w in zip(rankings, want)])
        h3 = np.array([w in r[:3] for r, w in zip(rankings, want)])
        by = "  ".join(f"{v} {r1[views == v].mean():.3f}/{h3[views == v].mean():.3f} (n={int((views == v).sum())})"
                       for v in sorted(set(views), key=lambda v: -(views == v).sum()) if (views == v).sum() >= 8)
        print(f"{task.name[:45]:45s} anchor {blend:.1f}  R@1 {r1.mean():.3f} hit@3 {h3.mean():.3f}  p50 "
              f"{np.percentile(lat, 50):.1f} ms | by view R@1/hit@3: {by}", flush=True)
    print(f"  the photo-only search's first product is the query's own product: {same_product.mean():.3f}", flush=True)
