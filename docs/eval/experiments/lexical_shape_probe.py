"""Probe (twenty-sixth session): the shape of the lexical part. ``lexicon.POWER`` (the share of the query
words' weight a product holds, to this power: 1 gives partial matches linear credit, larger powers keep
the credit for products holding every word) x ``fusion.w_lexical``, on the three titles-only tasks of
``eval.lexical_bench`` (P@10; first half / second half of each task's queries).

    .venv/bin/python docs/eval/experiments/lexical_shape_probe.py   (reads out/cold26/features.db)
"""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: F401
from engine import lexicon
from engine.config import EngineConfig, TextTowerSpec
from engine.encoders.bundle import ModelBundle, default_bundle_path
from eval import runner
from eval.lexical_bench import fashion_task, luma_task, newbee_task, precision

cfg = EngineConfig(data_dir="out/probes/lexical_shape", feature_cache="out/cold26/features.db")
for make, name in ((fashion_task, "default"), (luma_task, "default"), (newbee_task, "default-e5")):
    task = make()
    c = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original")) if name == "default-e5" else cfg
    eng, _ = runner.build_engine(task, ModelBundle.load(default_bundle_path(name)), c,
                                 Path("out/probes/lexical_shape") / name)
    n = len(task.queries)
    for power in (1.0, 2.0, 4.0, 8.0):
        lexicon.POWER = power
        variants = {w: replace(c, fusion=replace(c.fusion, w_lexical=w)) for w in (0.0, 0.25, 0.5, 1.0, 2.0)}
        ranked = runner.variant_rankings(eng, task, variants)
        cells = [f"w {w}: {precision(r[0], task, range(n // 2)):.3f}/{precision(r[0], task, range(n // 2, n)):.3f}"
                 for w, r in ranked.items()]
        print(f"{task.name[:36]:36s} power {power:3.0f} | " + " | ".join(cells), flush=True)
