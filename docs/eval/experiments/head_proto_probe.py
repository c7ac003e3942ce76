"""Probe: the catalogue bridge's prototype mixed after the lookup: unit(P(text+w head) + lam * P(head))."""
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.encoders import embedder as emb_mod
from engine.encoders.bundle import ModelBundle
from engine.encoders.unit import unit
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config
from eval.tune_fusion import split_queries
cfg = eval_config(Path("out/probes/s25"), "out/cold25/features.db")
bundle = ModelBundle.load(Path("reports/full_cold25/bundle"))
tasks = {t.name: t for t in datasets.luma_tasks()}
LAM = [0.0]
state = {}
orig_embed = emb_mod.Embedder.embed_query_text
def embed_query_text(self, text, head=None, head_weight=0.0):
    state["head"] = self._heads(head) if head is not None and head_weight > 0 else None
    return orig_embed(self, text, head, head_weight)
emb_mod.Embedder.embed_query_text = embed_query_text
protos = bundle.prototypes
orig_query = type(protos).query
def query(self, raw):
    p = orig_query(self, raw)
    h = state.get("head")
    if h is None or LAM[0] == 0:
        return p
    return unit(p + LAM[0] * orig_query(self, h))
type(protos).query = query
for name in ["luma text (name) → photo", "luma \"⟨colour⟩ ⟨category⟩\" → photos of that category + colour"]:
    task = tasks[name]
    base = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
    eng, _ = runner.build_engine(task, bundle, base, Path("out/probes/s25/idx" + str(len(name))))
    halves = split_queries(task)
    for lam in (0.0, 0.5, 1.0, 2.0, 4.0):
        LAM[0] = lam
        res = []
        for h in halves:
            r, _ = runner.variant_rankings(eng, h, {"ours": base})["ours"]
            rec = np.mean([len(set(ids[:10]) & set(q.relevant)) / 10 if "name" not in name else float(bool(set(ids[:10]) & set(q.relevant))) for ids, q in zip(r, h.queries)])
            res.append(round(float(rec), 3))
        print(name[:22], "lam", lam, "halves (tune, held-out)", res, flush=True)
