"""Probe: what should a shipped catalogue-bridge vocabulary of a fixed size hold?

    .venv/bin/python docs/eval/experiments/vocabulary_compression.py  (needs ../shared/data and the feature cache)

The default bundle ships 6,000 fashion products drawn at random (``encoders/prototypes.py``). All 44,072
give better prototypes (``prototype_bridge.txt``), but weigh seven times as much. Variants at the same
stored size (m entries, image side PCA 128, CNN + colour features of photos at most 112 px):

- random: m products drawn at random (what ships);
- stratified: m products drawn evenly over fashion's article types (rare types kept);
- centroids: k-means (m clusters) of all titles in the text tower's space; an entry is a cluster's mean
  title vector and the mean of its products' standardised photo features (every product contributes).

Measured: issue 7's luma task (199 product names -> main photos, titles hidden), the prototypes alone and
in the engine's own text-query score (default bundle; 0.79 x prototypes, its luma weight), R@10 over all
199 names; and luma "<colour> <category>" -> photos of that category and colour, P@10 and R@1.
Nothing is tuned here: K and temperature are the shipped ones.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: E402,F401
from engine.encoders.bundle import ModelBundle, resolve_bundle_path  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.encoders.prototypes import Prototypes, build_prototypes  # noqa: E402
from engine.features import FeatureCache  # noqa: E402
from eval import datasets  # noqa: E402

SIZES = (6000,)
SEEDS = (0, 1, 2)
KS = (10, 25, 100)  # besides the shipped 50


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def centroids(text: np.ndarray, feats: np.ndarray, m: int, seed: int = 0) -> Prototypes:
    """What the engine builds (``build_prototypes``, title clusters)."""
    return build_prototypes(text, feats, size=m, dim=128, seed=seed, centroids=True)


def stratified(rows: list[dict], m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    by_type: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_type.setdefault(r["article_type"], []).append(i)
    groups = [rng.permutation(v) for v in by_type.values()]
    chosen, depth = [], 0
    while len(chosen) < m:  # round robin over types: every type gets its turn before any gets a second
        layer = [g[depth] for g in groups if depth < len(g)]
        chosen.extend(layer[: m - len(chosen)])
        depth += 1
    return np.sort(np.asarray(chosen))


def subset(full: Prototypes, text: np.ndarray, feats: np.ndarray, rows: np.ndarray) -> Prototypes:
    return Prototypes(text=text[rows], image=unit(((feats[rows] - full.mean) / full.std) @ full.basis),
                      mean=full.mean, std=full.std, basis=full.basis)


def main() -> int:
    if datasets.data_missing():
        return 1
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    emb = Embedder(bundle, FeatureCache("out/figures/features.db"))
    rows = datasets.fashion_rows()
    text = unit(emb.text_features([r["title"] for r in rows], "passage"))
    feats = emb.shrunk_features([str(datasets.DATA / "fashion" / r["image"]) for r in rows], 112, progress=True)
    full = build_prototypes(text, feats, size=len(rows), dim=128, seed=0, centroids=False)
    print(f"fashion vocabulary source: {len(rows)} products", flush=True)

    tasks = {t.name: t for t in datasets.luma_tasks()}
    names = next(t for n, t in tasks.items() if n.startswith("luma text (name)"))
    colour_cat = next(t for n, t in tasks.items() if "⟨colour⟩ ⟨category⟩" in n and "price" not in n)
    fit = 0.21  # the default bundle's shared-space fit to luma (README), as the engine weighs it
    galleries = {}

    def gallery(task):
        """(product ids, one per photo; shrunk features; shared-space and bridge vectors)."""
        if task.name not in galleries:
            owners = [p.id for p in task.products for _ in p.images]
            paths = [i for p in task.products for i in p.images]
            galleries[task.name] = (np.asarray(owners), emb.shrunk_features(paths, 112, progress=True),
                                    emb.image_vectors(emb.image_features(paths)))
        return galleries[task.name]

    def evaluate(protos: Prototypes | None, task, label: str) -> str:
        owners, shrunk, vecs = gallery(task)
        ids = sorted(set(owners))
        col = np.searchsorted(ids, owners)
        q_text = [q.text for q in task.queries]
        raw = unit(emb.text_tower.encode(q_text, role="query"))
        base = 1.0 * (bundle.heads.project_texts(raw) @ vecs["shared"].T) + 0.25 * (raw @ vecs["bridge"].T)
        if protos is not None:
            photos = protos.photos(shrunk)
            base = base + (1 - fit) * np.stack([protos.query(r) for r in raw]) @ photos.T
        best = np.full((len(base), len(ids)), -np.inf, np.float32)  # a product scores its best photo
        for j in range(base.shape[1]):
            best[:, col[j]] = np.maximum(best[:, col[j]], base[:, j])
        order = np.argsort(-best, axis=1)[:, :10]
        rel = [np.isin(ids, list(q.relevant)) for q in task.queries]
        r1 = np.mean([r[o[0]] for r, o in zip(rel, order)])
        p10 = np.mean([r[o].mean() for r, o in zip(rel, order)])
        r10 = np.mean([r[o].sum() / max(r.sum(), 1) for r, o in zip(rel, order)])
        return f"{label}: R@10 {r10:.3f} P@10 {p10:.3f} R@1 {r1:.3f}"

    variants = {"none": None, f"all {len(rows)}": full}
    for m in SIZES:
        for seed in SEEDS:
            variants[f"random {m} s{seed}"] = subset(full, text, feats, np.sort(
                np.random.default_rng(seed).choice(len(rows), m, replace=False)))
            variants[f"stratified {m} s{seed}"] = subset(full, text, feats, stratified(rows, m, seed))
            variants[f"centroids {m} s{seed}"] = centroids(text, feats, m, seed)
    for k in KS:
        for seed in SEEDS:
            for kind in ("random", "centroids"):
                base = variants[f"{kind} 6000 s{seed}"]
                variants[f"{kind} 6000 s{seed} K{k}"] = dataclasses.replace(base, k=k)
    for label, protos in variants.items():
        print(f"{label:>21} | {evaluate(protos, names, 'names')} | {evaluate(protos, colour_cat, 'colour + category')}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
