"""Probe: luma photo -> product with the local (cells) score taken at several query sides: a close-up
query view shows a detail that is small in the catalogue's full view, so the query's cells are also
computed from the photo shrunk to 96-160 px (catalogue cells at 224 px only). All 534 queries and two
halves split by product (the choice of side was made on all of them: upper bounds).

    .venv/bin/python docs/eval/experiments/query_scales_probe.py   (needs ../shared/data and the feature cache; ~2 min)
"""
import sys
from pathlib import Path
import numpy as np
import torch
from luma_probe import luma_photo_setup
from engine.encoders.cells import decode, local_scores
from engine.images import open_image

torch.set_num_threads(2)
s = luma_photo_setup()
task, emb, ids, main_paths, q_paths, want = s.task, s.emb, s.ids, s.main_paths, s.q_paths, s.want
look = emb.looks(emb.image_features(q_paths)) @ emb.looks(s.gal_feats).T
views = np.array([(lambda v: v if v in ("main", "alt1", "back") else "other")(Path(p).stem.rsplit("_", 1)[-1]) for p in q_paths])
half = np.random.default_rng(0).permutation(len(ids)) % 2
qh = half[want]
tower = emb.image_tower
channels = tower.cell_shape[1]
gallery_cells = emb.photo_cells(main_paths)


def query_local(side):
    out = []
    for path in q_paths:
        codes = tower.features_and_cells(tower.prepare([open_image(path)], side))[1]
        out.append(local_scores(decode(codes, channels)[0], gallery_cells))
    return np.stack(out)


def report(s, label):
    hit = s.argmax(1) == want
    print(f"{label:34s} all {hit.mean():.3f}  halves {hit[qh == 0].mean():.3f} / {hit[qh == 1].mean():.3f}   "
          + "  ".join(f"{v} {hit[views == v].mean():.3f}" for v in ("main", "back", "alt1", "other")), flush=True)


ms = {side: query_local(side) for side in (224, 160, 128, 96)}
report(look, "look")
for side in (224, 160, 128, 96):
    report(look + ms[side], f"look + local@{side}")
for combo in ((224, 160), (224, 128), (224, 96), (224, 128, 96)):
    report(look + np.max([ms[s] for s in combo], axis=0), f"look + max local over {combo}")
