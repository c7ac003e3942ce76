"""Check (twenty-fourth session): how well the report's type reader (fashion's 103 article types, learnt on
looks) reads luma's main photos, with luma's category leaves mapped by hand to the fashion kinds that name the
same thing (for this check only; the engine has no such map). Index-time looks: luma's own statistics, as an
index standardises them.

    .venv/bin/python docs/eval/experiments/type_reader_luma_accuracy.py   (from the project root)
"""
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402
import engine  # noqa: F401,E402
from engine.encoders.bundle import ModelBundle  # noqa: E402
from engine.encoders.embedder import Embedder, look_statistics  # noqa: E402
from eval import datasets  # noqa: E402
from eval.__main__ import eval_config  # noqa: E402

KINDS = {"Hoodies & Sweatshirts": {"Sweatshirts"}, "Jackets": {"Jackets", "Rain Jacket"},
         "Tees": {"Tshirts"}, "Tanks": {"Tops", "Innerwear Vests", "Tshirts"},
         "Pants": {"Track Pants", "Trousers", "Leggings", "Capris", "Tights"}, "Shorts": {"Shorts"},
         "Bras & Tanks": {"Bra", "Tops", "Camisoles"}, "Bags": {"Backpacks", "Duffel Bag", "Messenger Bag", "Handbags",
                                                               "Laptop Bag", "Rucksacks"},
         "Watches": {"Watches"}}
cfg = eval_config(Path("out/probes/type_luma"), "out/cold24/features.db")
bundle = ModelBundle.load(Path("reports/full_cold24/bundle"))
reader = bundle.types
emb = Embedder.for_config(bundle, cfg)
task = next(t for t in datasets.luma_tasks() if t.name == "luma text (name) → photo")
items = []
for p in task.products:
    parts = p.category.split("/")
    leaf = parts[-1] if not p.category.startswith("Gear") else parts[1]
    if leaf in KINDS:
        items.append((p, leaf))
feats = emb.image_features([p.images[0] for p, _ in items])
head = bundle.heads.image
emb.look_stats = look_statistics(feats, (head.mean.numpy(), head.std.numpy()))
emb.look_colour_weight = cfg.index.look_colour_weight
probs = reader.probabilities(emb.looks(feats))
names = np.array(reader.names)
by = collections.defaultdict(lambda: [0, 0, 0, collections.Counter()])
for (p, leaf), pr in zip(items, probs):
    order = np.argsort(-pr)
    ok = {i for i, n in enumerate(names) if n in KINDS[leaf]}
    row = by[leaf]
    row[0] += 1
    row[1] += order[0] in ok
    row[2] += bool(ok & set(order[:3].tolist()))
    row[3][names[order[0]]] += 1
print("luma category leaf | photos | top-1 right | top-3 right | what it reads first (most often)")
for leaf, (n, t1, t3, first) in sorted(by.items()):
    print(f"{leaf:22s} | {n:3d} | {t1 / n:.2f} | {t3 / n:.2f} | {', '.join(f'{k} {v}' for k, v in first.most_common(3))}")
n = sum(r[0] for r in by.values())
print(f"all | {n} | {sum(r[1] for r in by.values()) / n:.2f} | {sum(r[2] for r in by.values()) / n:.2f}")
