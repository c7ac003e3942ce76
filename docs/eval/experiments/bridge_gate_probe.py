"""Probe: gate between the ImageNet bridge and the fashion vocabulary by which one the query's words are nearer."""
import sys, collections
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.config import TextTowerSpec
from engine.encoders.bundle import ModelBundle
from eval import datasets, runner
from eval.__main__ import eval_config

def probe(label, task, bundle, cfg, idx):
    base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, base, Path(idx))
    f = base.fusion
    variants = {"ours": base,
                "bridge heavy": replace(base, fusion=replace(f, w_proto=0, w_bridge=f.w_bridge * 4)),
                "no proto": replace(base, fusion=replace(f, w_proto=0))}
    ranked = runner.variant_rankings(eng, task, variants)
    tt = eng.embedder.text_tower
    raws = tt.encode([q.text for q in task.queries], role="query")
    raws = raws / np.linalg.norm(raws, axis=1, keepdims=True)
    c = (raws @ bundle.bridge_classes.T).max(1)
    v = (raws @ bundle.prototypes.text.T).max(1)
    d = c - v
    cat = {p.id: p.category for p in task.products}
    per = collections.defaultdict(list)
    for q, x in zip(task.queries, d):
        per[cat[next(iter(q.relevant))].split("/")[-1]].append(x)
    print(label, "class-minus-vocab by category:", {k: (len(v_), round(float(np.mean(v_)), 3)) for k, v_ in sorted(per.items())})
    hits = {n: np.array([bool(set(ids[:10]) & set(q.relevant)) for ids, q in zip(r, task.queries)]) for n, (r, _) in ranked.items()}
    print(label, {n: round(float(h.mean()), 3) for n, h in hits.items()})
    for alt in ("bridge heavy", "no proto"):
        for tau in np.quantile(d, [0.0, 0.25, 0.5, 0.75, 0.9]).tolist() + [0.0, 0.05, 0.1]:
            g = np.where(d > tau, hits[alt], hits["ours"])
            print(f"  {label} gate -> {alt} when d > {tau:.3f} ({(d > tau).mean():.2f} of queries): R@10 {g.mean():.3f}")

cfg = eval_config(Path("out/probes/s25g"), "out/cold25/features.db")
cfg5 = replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
probe("newbee", datasets.newbee_tasks()[0], ModelBundle.load(Path("reports/full_cold25/bundle-e5")), cfg5, "out/probes/s25g/nb")
luma = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
probe("luma", luma, ModelBundle.load(Path("reports/full_cold25/bundle")), cfg, "out/probes/s25g/luma")
