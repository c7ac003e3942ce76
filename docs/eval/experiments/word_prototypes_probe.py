"""Probe: the catalogue bridge word by word, each word weighted by how much its photos say.

"Chaz Kangeroo Hoodie": the bridge now mixes the photos of the vocabulary titles nearest to the whole
name. Word by word, each word gets its own mix; a word whose nearest titles' photos are all alike
("hoodie") gives a long mean vector (the standardised photo features are centred), a word whose
nearest titles are anything ("chaz") a short one. Summing the unnormalised mixes weights each word by
that length (power p). Measured with the bridge alone (prototype channel, luma names, main photos
shrunk as in the engine), R@10 over all 199 names, and with the engine's other parts.

    .venv/bin/python docs/eval/experiments/word_prototypes_probe.py [bundle, default "default"]
"""
import re
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np
import engine  # noqa
from engine.encoders.bundle import ModelBundle, resolve_bundle_path
from eval import datasets, runner
from eval.__main__ import eval_config

out = Path("out/word_proto_probe")
cfg = eval_config(out, "out/figures/features.db")
bundle = ModelBundle.load(resolve_bundle_path(sys.argv[1] if len(sys.argv) > 1 else "default"))
photos_only = replace(cfg, read_categories=False, fusion=replace(cfg.fusion, w_text=0.0))
task = next(t for t in datasets.luma_tasks() if t.name.startswith("luma text (name)"))
eng, _ = runner.build_engine(task, bundle, photos_only, out / "idx")
P = bundle.prototypes
chan = eng.index.prototypes
ids = [p.id for p in task.products]
row_of = eng.index.table.row_of
vec_of = {int(o): chan.vectors[i] for i, o in enumerate(chan.owner)}
G = np.stack([vec_of[row_of[i]] for i in ids])


def mix(raw):
    """Unnormalised prototype: the softmax mix of the nearest titles' photos (as Prototypes.query)."""
    t = raw / np.linalg.norm(raw)
    sims = P.text @ t
    k = min(P.k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    w = np.exp((sims[top] - sims[top].max()) / P.temperature)
    return (w / w.sum()) @ P.image[top]


tower = eng.embedder.text_tower
whole = tower.encode([q.text for q in task.queries], role="query")
r10 = {}
variants = {"whole name (engine)": [], "words, equal": [], "words, p=1": [], "words, p=2": [], "words, p=4": []}
lengths = []
for qi, q in enumerate(task.queries):
    words = [w for w in re.findall(r"[^\W\d_]+", q.text) if len(w) >= 3] or [q.text]
    raws = tower.encode(words, role="query")
    mixes = [mix(r) for r in raws]
    lens = np.array([np.linalg.norm(m) for m in mixes])
    lengths.append(list(zip(words, np.round(lens, 3))))
    unit = [m / np.linalg.norm(m) for m in mixes]
    variants["whole name (engine)"].append(mix(whole[qi]))
    variants["words, equal"].append(np.sum(unit, 0))
    for p in (1, 2, 4):
        variants[f"words, p={p}"].append(np.sum([u * l ** p for u, l in zip(unit, lens)], 0))
for name, protos in variants.items():
    Q = np.stack(protos)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    S = Q @ G.T
    rankings = [[ids[j] for j in np.argsort(-S[i])[:20]] for i in range(len(task.queries))]
    scores = runner.evaluate(rankings, task)[0]
    print(f"bridge alone, {name}: R@10 {scores['R@10']:.3f} R@1 {scores['R@1']:.3f} MRR {scores['MRR']:.3f}", flush=True)
for example in lengths[:12]:
    print("  word lengths:", example)
