"""Old (08d3884) vs new duplicate folding (rerank._fold) on luma photo -> product and name -> photo, the
packaged default bundle, k=20 as in the report: the rankings of both, query by query.

    python docs/eval/experiments/fold_check.py   (needs ../shared/data and a git checkout)
"""
import importlib.util, subprocess, sys
from dataclasses import replace
from pathlib import Path
from eval import datasets, runner
from eval.__main__ import eval_config
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
import engine.rerank as rr
Path("out").mkdir(exist_ok=True)
Path("out/old_rerank.py").write_text(subprocess.run(["git", "show", "08d3884:engine/rerank.py"], capture_output=True,
                                                    text=True, check=True).stdout)
spec = importlib.util.spec_from_file_location("engine.old_rerank", "out/old_rerank.py")
old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
cfg = eval_config(Path("out/foldcheck"), "out/cold16/features.db")
bundle = ModelBundle.load(resolve_bundle_path("default"))
for task in datasets.luma_tasks():
    if not task.name.startswith(("luma text (name)", "luma photo → product")):
        continue
    engine, _ = runner.build_engine(task, bundle, cfg, Path("out/foldcheck") / task.name[:10].replace(" ", "_"))
    new_r = runner.engine_rankings(engine, task)[0]
    rr._fold, keep = old._fold, rr._fold
    old_r = runner.engine_rankings(engine, task)[0]
    rr._fold = keep
    diff = [i for i, (a, b) in enumerate(zip(new_r, old_r)) if a != b]
    print(task.name, len(task.queries), "queries; rankings differing:", len(diff))
    for i in diff[:3]:
        print("  new", new_r[i][:12]); print("  old", old_r[i][:12])
