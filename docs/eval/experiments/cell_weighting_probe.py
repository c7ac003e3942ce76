"""Probe: luma photo -> product with other ways of turning cell matches into the local score (rerank's
``local`` part), in the engine (fused candidates, top 10 re-scored), per query view and on two halves
split by product (the variant is the local score's formula; same_shot is off in the variants, on in
the last row, "engine as configured"). BUNDLE: a bundle trained on the fashion training split (reports/tune_local/bundle).

    .venv/bin/python docs/eval/experiments/cell_weighting_probe.py [BUNDLE [VARIANT,... [with-same-shot]]]
    (needs ../shared/data; ~5 min; VARIANT: names' beginnings; with-same-shot: the engine's same_shot part
    counts beside each variant, as configured)
"""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine import rerank
from engine.encoders.bundle import ModelBundle
from engine.encoders.cells import decode
from eval import datasets, runner
from eval.__main__ import eval_config

out = Path("out/probes/cell_weighting"); cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(sys.argv[1] if len(sys.argv) > 1 else "reports/tune_local/bundle")
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma photo → product"))
eng, _ = runner.build_engine(task, bundle, cfg, out / "photo")
views = np.array([(lambda v: v if v in ("main", "alt1", "back") else "other")(Path(q.image).stem.rsplit("_", 1)[-1])
                  for q in task.queries])
skus = sorted({next(iter(q.relevant)) for q in task.queries})
half_of = dict(zip(skus, np.random.default_rng(0).permutation(len(skus)) % 2))
qh = np.array([half_of[next(iter(q.relevant))] for q in task.queries])


def sims_of(queries, photos):
    """(scale, photo, photo cell, query cell) cosines."""
    p = decode(photos, queries[0].shape[1])
    return [np.einsum("mpc,qc->mpq", p, np.asarray(q, np.float32)) for q in queries]


def mean_max(s, temp=None):
    if temp is None:
        return s.max(axis=1).mean(axis=1)
    w = np.exp(temp * (s - s.max(axis=1, keepdims=True)))
    return ((w * s).sum(axis=1) / w.sum(axis=1)).mean(axis=1)


def discriminative(s, power=1.0):
    best = s.max(axis=1)  # (m, q)
    if len(best) < 2:
        return best.mean(axis=1)
    w = best.std(axis=0) ** power + 1e-6  # query cells whose match differs between candidates
    return best @ w / w.sum()


def mutual(s):
    fwd = s.argmax(axis=1)  # (m, q): best photo cell per query cell
    back = s.argmax(axis=2)  # (m, p): best query cell per photo cell
    m_idx = np.arange(len(s))[:, None]
    mutual_ok = back[m_idx, fwd] == np.arange(s.shape[2])[None, :]
    return (s.max(axis=1) * mutual_ok).mean(axis=1)


def topfrac(s, frac=0.5):
    best = np.sort(s.max(axis=1), axis=1)[:, ::-1]
    return best[:, : max(1, int(best.shape[1] * frac))].mean(axis=1)


VARIANTS = {
    "mean max (engine before same_shot)": lambda ss: np.max([mean_max(s) for s in ss], axis=0),
    "soft-max t=10": lambda ss: np.max([mean_max(s, 10) for s in ss], axis=0),
    "soft-max t=20": lambda ss: np.max([mean_max(s, 20) for s in ss], axis=0),
    "soft-max t=40": lambda ss: np.max([mean_max(s, 40) for s in ss], axis=0),
    "discriminative std": lambda ss: np.max([discriminative(s) for s in ss], axis=0),
    "discriminative std^2": lambda ss: np.max([discriminative(s, 2) for s in ss], axis=0),
    "mutual NN": lambda ss: np.max([mutual(s) for s in ss], axis=0),
    "top half of query cells": lambda ss: np.max([topfrac(s) for s in ss], axis=0),
    "mean max + 0.5 mutual": lambda ss: np.max([mean_max(s) + 0.5 * mutual(s) for s in ss], axis=0),
    "mean max + 1 mutual": lambda ss: np.max([mean_max(s) + mutual(s) for s in ss], axis=0),
    "mean max + 2 mutual": lambda ss: np.max([mean_max(s) + 2 * mutual(s) for s in ss], axis=0),
    "2 x mutual": lambda ss: np.max([2 * mutual(s) for s in ss], axis=0),
    "mean max + 1 mutual@224 only": lambda ss: np.maximum(mean_max(ss[0]) + mutual(ss[0]), *[mean_max(s) for s in ss[1:]]),
}
for tau in (0.6, 0.7, 0.8):
    for w in (0.5, 1.0):
        VARIANTS[f"verified t={tau} w={w}"] = (lambda t, w_: lambda ss: np.max([mean_max(s) for s in ss], axis=0)
                                               + w_ * np.clip(mutual(ss[0]) - t, 0, None) / (1 - t))(tau, w)
ONLY = sys.argv[2].split(",") if len(sys.argv) > 2 else None
WITH_SHOT = len(sys.argv) > 3 and sys.argv[3] == "with-same-shot"  # the variants beside the engine's same_shot part
variant = "mean max (engine before same_shot)"


def local_by_owner(cells, rows, query):
    out_, share = np.full(len(rows), -np.inf, np.float32), np.zeros(len(rows), np.float32)
    sel, which = cells.rows_of_owners(rows)
    if len(sel):
        sims = sims_of(query, cells.vectors[sel])
        np.maximum.at(out_, which, VARIANTS[variant](sims).astype(np.float32))
        if WITH_SHOT:
            np.maximum.at(share, which, mutual(sims[0]).astype(np.float32))
    out_[~np.isfinite(out_)] = 0.0
    return out_, share


engine_local = rerank._local_by_owner
want = [next(iter(q.relevant)) for q in task.queries]
for variant in [v for v in VARIANTS if ONLY is None or any(v.startswith(o) for o in ONLY)] + ["engine as configured"]:
    rerank._local_by_owner = engine_local if variant == "engine as configured" else local_by_owner
    rankings, lat = runner.engine_rankings(eng, task)
    hit = np.array([r[0] == w for r, w in zip(rankings, want)])
    label = variant + (" + same_shot" if WITH_SHOT and variant != "engine as configured" else "")
    print(f"{label:26s} R@1 {hit.mean():.3f}  halves {hit[qh == 0].mean():.3f} / {hit[qh == 1].mean():.3f}  "
          + "  ".join(f"{v} {hit[views == v].mean():.3f}" for v in ("main", "back", "alt1", "other"))
          + f"  p50 {np.percentile(lat, 50):.1f} ms", flush=True)
