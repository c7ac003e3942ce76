"""Probe: how far can better colour (or type) reading lift fashion "<colour> <type>" -> photo, photos only?

The engine's photos-only answers (tuning bundle, K candidates, colour reader off) are re-scored outside
the engine: score + w x s(candidate), where s is
- ``reader``: the bundle's colour reader (what the engine adds, ``encoders/colour_reader.py``);
- ``oracle colour a``: 1 when the candidate's catalogue colour is the query's, kept for a share ``a`` of
  the gallery photos; the other photos get the colour of a random gallery photo (a reader right ``a`` of
  the time, wrong like the catalogue's colour mix);
- ``oracle type``: 1 when the candidate's article type is the query's.
Prints P@10 (mean over the queries) per scorer and weight: the ceiling on what reading colour better buys.

    .venv/bin/python docs/eval/experiments/colour_oracle_probe.py   (needs ../shared/data and a tuning bundle)
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour_words import words_of
from engine.types import Query
from eval import datasets, runner
from eval.__main__ import eval_config

K = 60
out = Path("out/probes/colour_oracle"); cfg = eval_config(out, sys.argv[2] if len(sys.argv) > 2 else "out/cold17b/features.db")
bundle = ModelBundle.load(sys.argv[1] if len(sys.argv) > 1 else "reports/tune_s16/bundle")
gallery, _ = datasets.fashion_split(2000, 42072)
row = {r["id"]: r for r in gallery}
task = next(t for t in datasets.fashion_tasks(gallery) if "type + colour" in t.name and t.kind == "text")
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0, w_colour_class=0.0))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
emb = eng.embedder
reader = bundle.colours.reader
colour = {i: " ".join(words_of(r["base_colour"])) for i, r in row.items()}
ids_all = sorted(row)
rng = np.random.default_rng(0)
res = []
for q in task.queries:
    r = eng.search(Query(text=q.text, k=K)).results
    ids = [x.product.id for x in r]; sc = np.array([x.score for x in r])
    first = row[next(iter(q.relevant))]
    want_c, want_t = colour[first["id"]], first["article_type"]
    P = emb.photo_extras("palette", [str(datasets.DATA / "fashion" / row[i]["image"]) for i in ids])
    known = reader.knows([want_c])
    s_lr = reader.read(P, known) if known else np.zeros(len(ids))
    rel = np.array([i in q.relevant for i in ids])
    res.append((ids, sc, s_lr, want_c, want_t, rel))
print(f"{len(res)} queries, K {K}; reader read {sum(1 for x in res if x[2].any())} of them")


def p10(score_of) -> float:
    return float(np.mean([rel[np.argsort(-(sc + score_of(ids, s_lr, c, t)), kind="stable")[:10]].mean()
                          for ids, sc, s_lr, c, t, rel in res]))


print("off  %.3f" % p10(lambda ids, s, c, t: 0.0))
for w in (0.1, 0.2, 0.4, 0.8):
    print(f"reader w {w}  %.3f" % p10(lambda ids, s, c, t: w * s))
for a in (0.55, 0.65, 0.75, 0.85, 1.0):
    keep = rng.random(len(ids_all)) < a
    seen = {i: (colour[i] if k else colour[ids_all[rng.integers(len(ids_all))]]) for i, k in zip(ids_all, keep)}
    line = [f"oracle colour a {a}:"]
    for w in (0.1, 0.2, 0.4, 0.8, 2.0):
        line.append(f"w {w} %.3f" % p10(lambda ids, s, c, t: w * np.array([seen[i] == c for i in ids], float)))
    print("  ".join(line))
for w in (0.1, 0.2, 0.4, 0.8):
    print(f"oracle type w {w}  %.3f" % p10(lambda ids, s, c, t: w * np.array([row[i]["article_type"] == t for i in ids], float)))
print("oracle type + colour (w 2 each)  %.3f" % p10(lambda ids, s, c, t: 2 * np.array(
    [(row[i]["article_type"] == t) + (colour[i] == c) for i in ids], float)))
