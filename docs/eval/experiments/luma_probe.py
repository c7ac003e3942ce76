"""Setup shared by the luma photo -> product probes (run as scripts from this folder's parent repo):
the task, the packaged default bundle's embedder with look vectors as the engine indexes them (colour
block weight 0.75, standardised by the catalogue's own photo statistics), and the query photos."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: E402,F401
from engine.encoders.bundle import ModelBundle, resolve_bundle_path  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.features import FeatureCache  # noqa: E402
from eval import datasets  # noqa: E402


def luma_photo_setup(cache: str = "out/figures/features.db") -> SimpleNamespace:
    """task, bundle, emb (look statistics set), ids, main_paths (one per product, the index), gal_feats
    (their tower features), mean / std (the catalogue's statistics), q_paths, want (index of each
    query's product)."""
    task = datasets.luma_tasks()[0]
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    emb = Embedder(bundle, FeatureCache(cache))
    emb.look_colour_weight = 0.75
    ids = [p.id for p in task.products]
    main_paths = [p.images[0] for p in task.products]
    gal_feats = emb.image_features(main_paths)
    mean, std = gal_feats.mean(0), gal_feats.std(0) + 1e-6  # the catalogue's own statistics (as look_stats)
    emb.look_stats = (mean, std)
    q_paths = [q.image for q in task.queries]
    want = np.array([ids.index(next(iter(q.relevant))) for q in task.queries])
    return SimpleNamespace(task=task, bundle=bundle, emb=emb, ids=ids, main_paths=main_paths, gal_feats=gal_feats,
                           mean=mean, std=std, q_paths=q_paths, want=want)
