"""Probe: the report's shared space as two head sets side by side (two training seeds' heads, their
similarities summed) against each seed's heads alone, on the report's text tasks.

The five seeds' bundles of the twenty-first session's seed run are reused (seed 0 = the cold report's
bundle); a pair keeps the first seed's other parts (vocabulary, colour words) and joins the two
seeds' heads (``heads.head_sets``), as ``train.scratch_sets = 2`` would train them.

    .venv/bin/python docs/eval/experiments/seed_pairs_probe.py out/cold22/features.db \
        reports/full_cold22/bundle reports/seeds_s21/seed-{1,2,3,4}/bundle
    .venv/bin/python docs/eval/experiments/seed_pairs_probe.py --photo out/cold22/features.db \
        reports/full_cold22/bundle reports/seeds_s21/seed-{1,2}/bundle

``--photo``: the photo and photo + text tasks instead (R@1, P@10, hit@3), seeds 0, 1 and pairs 0+1, 1+2.
"""
import copy, json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa: F401
from engine.encoders.bundle import ModelBundle
from engine.encoders.heads import head_sets
from eval import datasets, runner
from eval.__main__ import eval_config

photo = "--photo" in sys.argv
args = [a for a in sys.argv[1:] if a != "--photo"]
cache, paths = args[0], args[1:]
cfg = eval_config(Path("out/probes/seed_pairs"), cache)
bundles = [ModelBundle.load(Path(p)) for p in paths]
gallery, _ = datasets.fashion_split(2000, 42072)
if photo:
    tasks = [t for t in datasets.fashion_tasks(gallery) if t.kind == "photo"]
    tasks += [t for t in datasets.luma_tasks() if t.kind in ("photo", "photo+text")]
else:
    tasks = [t for t in datasets.fashion_tasks(gallery) if t.kind == "text"]
    tasks += [t for t in datasets.luma_tasks() if t.kind == "text" and ("name" in t.name or "under" not in t.name)]
main = {t.name: ("P@10" if "type + colour" in t.name or "category" in t.name else "R@10") for t in tasks}


def pair(a: int, b: int) -> ModelBundle:
    out = copy.copy(bundles[a])
    out.heads = head_sets([bundles[a].heads, bundles[b].heads])
    return out


candidates = {f"seed {i}": bundles[i] for i in range(len(bundles))}
if photo:
    candidates = {"seed 0": bundles[0], "seed 1": bundles[1], "seeds 0+1": pair(0, 1), "seeds 1+2": pair(1, 2)}
else:
    candidates.update({f"seeds {i}+{(i + 1) % len(bundles)}": pair(i, (i + 1) % len(bundles))
                       for i in range(len(bundles))})
rows = {}
for name, bundle in candidates.items():
    t0 = time.time()
    rows[name] = {}
    for task in tasks:
        (ours,) = runner.run_task(task, bundle, cfg, Path("out/probes/seed_pairs/work"), ablations=False)
        rows[name][task.name] = ([round(ours.scores[m], 3) for m in ("R@1", "P@10", "hit@3")] if photo
                                 else round(ours.scores[main[task.name]], 4))
    print(name, f"{time.time() - t0:.0f} s", rows[name], flush=True)
if photo:
    sys.exit(0)
singles = [r for n, r in rows.items() if n.startswith("seed ")]
pairs = [r for n, r in rows.items() if n.startswith("seeds ")]
for task in tasks:
    s = [r[task.name] for r in singles]
    p = [r[task.name] for r in pairs]
    print(f"{task.name} {main[task.name]}: one set {np.mean(s):.3f} [{min(s):.3f}, {max(s):.3f}]  "
          f"two sets {np.mean(p):.3f} [{min(p):.3f}, {max(p):.3f}]")
Path("out/probes/seed_pairs/rows.json").write_text(json.dumps(rows, indent=1))
