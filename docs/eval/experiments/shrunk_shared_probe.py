"""Catalogue photos' shared-space vectors from their 112 px pass (the catalogue bridge's shrunk photos, no
extra tower pass) instead of the full photo, or the mean of both: luma tasks, ours only.

    MODE=full|shrunk|mean .venv/bin/python docs/eval/experiments/shrunk_shared_probe.py [bundle] [feature cache]

The heads were trained on fashion's 60 x 80 photos; on luma's large photos the shared space alone finds a
name's photo better from the shrunk pass (R@10 0.241 -> 0.276 with the space alone, fit 0.21 -> 0.27), so
the question is whether the whole engine gains.
"""
import os, sys
from pathlib import Path
import numpy as np
import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import engine as E
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from engine.encoders.unit import unit
from eval import datasets, runner
from eval.__main__ import eval_config

MODE = os.environ.get("MODE", "full")
original = E.SearchEngine._embed_and_upsert


def embed_and_upsert(self, products, progress, feats=None, keys=None):
    emb, paths = self.embedder, [p for pr in products for p in pr.images]
    keys = keys if keys is not None else (emb.image_keys(paths) if paths else None)
    plain = emb.image_vectors

    def image_vectors(f, bridge=True):
        out = plain(f, bridge)
        if MODE != "full":
            small = emb.bundle.heads.project_images(emb.shrunk_features(paths, 112, False, f, keys))
            out["shared"] = small if MODE == "shrunk" else unit(out["shared"] + small).astype(np.float32)
        return out

    emb.image_vectors = image_vectors
    try:
        return original(self, products, progress, feats, keys)
    finally:
        emb.image_vectors = plain


E.SearchEngine._embed_and_upsert = embed_and_upsert
bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
cfg = eval_config(Path("out/probes/shrunk_shared"), sys.argv[2] if len(sys.argv) > 2 else "out/figures/features.db")
for task in datasets.luma_tasks():
    o = runner.run_task(task, bundle, cfg, Path("out/probes/shrunk_shared/work"), ablations=False)[0]
    s = o.scores
    print(f"MODE {MODE} {task.name[:50]:50s} R@1 {s['R@1']:.3f} R@10 {s['R@10']:.3f} P@10 {s['P@10']:.3f} "
          f"hit@3 {s['hit@3']:.3f} MRR {s['MRR']:.3f}", flush=True)
