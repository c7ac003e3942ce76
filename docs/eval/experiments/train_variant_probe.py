"""Probe: the report's shared space trained with one training setting changed, against the report's own
bundle, on the report's text and photo tasks (``ours`` alone, main metrics).

Trains as ``python -m eval run`` does (fashion training split, 30 epochs, the given seed, its
vocabulary and colour words) with ``--set`` settings applied, saves the bundle under ``--out`` and
prints both rows.

    .venv/bin/python docs/eval/experiments/train_variant_probe.py --cache out/cold22/features.db \
        --base reports/full_cold22/bundle --out out/probes/stp --set train.shared_text_positives=true
"""
import argparse, json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: F401
from engine.config import EngineConfig, SpaceConfig, TrainConfig, with_settings
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import train_bundle

ap = argparse.ArgumentParser()
ap.add_argument("--cache", required=True)
ap.add_argument("--base", required=True, help="the bundle to compare with (the report's)")
ap.add_argument("--out", required=True)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--set", action="append", default=[], dest="settings")
args = ap.parse_args()
out = Path(args.out)
cfg = with_settings(EngineConfig(data_dir=str(out), feature_cache=args.cache, train=TrainConfig(epochs=30, seed=args.seed),
                                 space=SpaceConfig(dim=256, head="mlp")), args.settings)
if (out / "bundle" / "bundle.json").exists():
    trained = ModelBundle.load(out / "bundle")
else:
    t0 = time.time()
    trained = train_bundle(cfg, datasets.fashion_split(2000, 42072)[1], progress=False)
    trained.save(out / "bundle")
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
gallery, _ = datasets.fashion_split(2000, 42072)
tasks = datasets.fashion_tasks(gallery) + [t for t in datasets.luma_tasks() if "under" not in t.name]
rows = {}
for name, bundle in {"base": ModelBundle.load(Path(args.base)), "variant": trained}.items():
    rows[name] = {}
    for task in tasks:
        (ours,) = runner.run_task(task, bundle, cfg, out / "work", ablations=False)
        rows[name][task.name] = {m: round(ours.scores[m], 4) for m in ("R@1", "R@10", "P@10", "hit@3")}
    print(name, json.dumps(rows[name], ensure_ascii=False), flush=True)
for task in tasks:
    b, v = rows["base"][task.name], rows["variant"][task.name]
    print(f"{task.name[:60]:60s} " + "  ".join(f"{m} {b[m]:.3f} -> {v[m]:.3f}" for m in b))
(out / "rows.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
