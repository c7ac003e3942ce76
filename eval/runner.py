"""Run methods on tasks: our engine (and its ablations) against classic baselines, same run.

Methods:
- ``cnn-knn``: the classic pipeline (frozen EfficientNet-Lite0 pooled features, cosine k-NN, photo only);
- ``text-only``: text matching alone (text queries): the query against the only product text these tasks
  show, the category path, by cosine in the text tower's own space (no photos, no training);
- ``ours``: the engine: shared space + late fusion + re-ranking (``SearchEngine`` for real);
- ``ours − shared space``: the engine with the shared-space parts off (look vectors alone), photo only;
- ``ours − fusion``: visual similarity only (text, price and category weights 0);
- ``ours − re-ranking``: no re-ranking stage (no near-duplicate folding, no cells or palette re-scoring);
- ``ours − cells``: tasks with query photos, the re-scoring by the photos' cells off (w_local = w_local_text =
  w_same_shot = 0);
- ``ours − same shot``: photo tasks, the share of mutual cell matches not counted (w_same_shot = 0);
- ``ours − palette``: tasks with query photos, the photos' exact shades not compared (w_palette = 0; photo +
  text queries use it only to find their anchor);
- ``ours − anchor``: photo + text tasks, the query photo used as it is instead of the catalogue photo it
  shows (``rerank.anchor`` = 0, engine/anchor.py);
- ``ours − catalogue bridge``: text-only tasks with a bundle that has a vocabulary, w_proto = 0;
- ``ours − colour words``: tasks whose queries name colours the bundle knows, colour words not read.
Ablations that would equal ``ours`` on a task (e.g. fusion when product texts are hidden) are skipped.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.catalog import Catalog
from engine.config import EngineConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.embedder import Embedder
from engine.domain_fit import first_photo_rows, shared_space_fit
from engine.encoders.memo import QueryMemo
from engine.engine import SearchEngine
from engine.images import open_image
from engine.query_text import parse_price
from engine.types import Query

from . import metrics as M
from .datasets import Task

log = logging.getLogger(__name__)
KS = (1, 5, 10, 20)


@dataclass
class Outcome:
    task: str
    method: str
    scores: dict[str, float]
    recall_curve: list[float]
    latencies_ms: list[float] = field(default_factory=list)
    per_query: dict[str, list[float]] = field(default_factory=dict)  # metric -> its value for each query
    stages_ms: dict[str, list[float]] = field(default_factory=dict)  # search stage -> its ms per query (ours)


def evaluate(rankings: list[list[str]], task: Task) -> tuple[dict, list[float]]:
    """(mean of each metric over the task's queries, hit@k curve for k = 1..20)."""
    per_query, curve = evaluate_per_query(rankings, task)
    return _means(per_query), curve


def evaluate_per_query(rankings: list[list[str]], task: Task) -> tuple[dict[str, list[float]], list[float]]:
    out: dict[str, list[float]] = {k: [] for k in ("R@1", "R@10", "P@10", "MRR", "mAP", "nDCG@10", "hit@3")}
    curve = np.zeros(20)
    for ranked, q in zip(rankings, task.queries):
        rel = q.relevant
        out["R@1"].append(M.recall_at_k(ranked, rel, 1) if len(rel) == 1 else M.hit_at_k(ranked, rel, 1))
        out["R@10"].append(M.recall_at_k(ranked, rel, 10) if len(rel) == 1 else M.hit_at_k(ranked, rel, 10))
        out["hit@3"].append(M.hit_at_k(ranked, rel, 3))
        out["P@10"].append(M.precision_at_k(ranked, rel, 10))
        out["MRR"].append(M.reciprocal_rank(ranked, rel))
        out["mAP"].append(M.average_precision(ranked, rel))
        out["nDCG@10"].append(M.ndcg_at_k(ranked, rel, 10))
        curve += [M.hit_at_k(ranked, rel, k) for k in range(1, 21)]
    return out, (curve / max(1, len(task.queries))).tolist()


def build_engine(task: Task, bundle: ModelBundle, cfg: EngineConfig, folder: Path) -> tuple[SearchEngine, float]:
    """Index the task's catalogue with the real engine; returns it and photos/s of the build."""
    if folder.exists():
        shutil.rmtree(folder)
    catalog = Catalog(folder / "catalog.db")
    products = [p.with_(title="(hidden)", description="") if task.hide_titles else p for p in task.products]
    catalog.upsert(products)
    catalog.close()
    t = time.perf_counter()
    engine = SearchEngine.build(replace(cfg, data_dir=str(folder)), bundle)
    photos = sum(len(p.images) for p in products)
    rate = photos / (time.perf_counter() - t)
    if task.hide_titles:  # a shop has its titles: the shared-space fit is measured on them, scoring hides them
        engine.index.shared_fit = task_fit(engine, task)
    engine.warm()  # as each server worker does when it starts: latencies are a warm server's
    return engine, rate


def task_fit(engine: SearchEngine, task: Task) -> float | None:
    """``domain_fit.shared_space_fit`` of the task's catalogue with its real product texts."""
    row_of = engine.index.table.row_of
    products = [p for p in task.products if p.id in row_of]
    owners, photo_rows = first_photo_rows(engine.index, np.asarray([row_of[p.id] for p in products], np.int64))
    if len(owners) == 0:
        return None
    by_row = {row_of[p.id]: p for p in products}
    texts = engine.embedder.embed_texts([by_row[int(r)].text() for r in owners], "passage")
    return shared_space_fit(engine.index.photos.vectors[photo_rows], texts)


def engine_rankings(engine: SearchEngine, task: Task, k: int = 20, progress: bool = False
                    ) -> tuple[list[list[str]], list[float]]:
    return variant_rankings(engine, task, {"": engine.config}, k, progress)[""]


def variant_rankings(engine: SearchEngine, task: Task, variants: dict[str, EngineConfig], k: int = 20,
                     progress: bool = False, stages: dict[str, list[float]] | None = None
                     ) -> dict[str, tuple[list[list[str]], list[float]]]:
    """Each variant's rankings on the task's queries, and the first variant's latencies (ms, the
    engine's search alone, end to end). Every query photo is decoded once and searched with each
    variant's config in turn; the first variant encodes the query (tower passes, text, palette) and the
    others reuse what it computed (``encoders.memo.QueryMemo``: the same arrays a fresh encoding gives),
    so their searches are not timed (their latency list is empty). ``stages`` (when given) gets the
    first variant's ``timings_ms`` per stage, each a list over the queries that had the stage. The
    engine's config is restored after."""
    out = {name: ([], []) for name in variants}
    first = next(iter(variants), None)
    kept = engine.config
    try:
        for q in tqdm(task.queries, desc=task.name[:30], unit="q", leave=False, disable=not progress):
            exclude = (q.filters.get("exclude"),) if q.filters.get("exclude") else ()
            query = Query(image=open_image(q.image) if q.image else None, text=q.text, k=k, exclude_ids=exclude)
            engine.embedder.memo = QueryMemo()
            for name, variant in variants.items():
                engine.config = variant
                t = time.perf_counter()
                response = engine.search(query)
                if name == first:
                    out[name][1].append((time.perf_counter() - t) * 1000)
                    for stage, ms in (response.timings_ms.items() if stages is not None else ()):
                        stages.setdefault(stage, []).append(ms)
                out[name][0].append([r.product.id for r in response.results])
    finally:
        engine.config = kept
        engine.embedder.memo = None
    return out


TEXT_ONLY = "text-only (query vs category names)"


def text_rankings(embedder: Embedder, task: Task, k: int = 20, seed: int = 0) -> list[list[str]]:
    """The text-only baseline: each query's text-tower vector against each product's category path
    ("Men / Tops / Hoodies & Sweatshirts"), cosine; products sharing a category tie and are ordered by a
    seeded shuffle (never by id, which may follow the answer)."""
    ids = [p.id for p in task.products]
    names, of_product = np.unique([" / ".join(p.category.split("/")) if p.category else "" for p in task.products],
                                  return_inverse=True)
    vecs = embedder.text_features(list(names), "passage")
    gallery = (vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12))[of_product.reshape(-1)]
    queries = embedder.text_tower.encode([q.text for q in task.queries], role="query")
    queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    tie = np.random.default_rng(seed).random(len(ids))
    return [[ids[i] for i in np.lexsort((tie, -np.round(gallery @ q, 6)))[:k]] for q in queries]


def feature_rankings(embedder: Embedder, task: Task, k: int = 20) -> list[list[str]]:
    """The classic baseline: cosine k-NN over the frozen CNN features (no colour, no training; product =
    max over its photos); photo queries only."""
    paths = [p for prod in task.products for p in prod.images]
    owners = np.asarray([i for i, prod in enumerate(task.products) for _ in prod.images])
    cnn = embedder.image_tower.backbone_dim
    gallery = embedder.image_features(paths)[:, :cnn]
    queries = embedder.image_features([q.image for q in task.queries])[:, :cnn]
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = [p.id for p in task.products]
    out = []
    for qi, q in enumerate(task.queries):
        sims = gallery @ queries[qi]
        best = np.full(len(ids), -np.inf)
        np.maximum.at(best, owners, sims)
        exclude = q.filters.get("exclude")
        if exclude in ids:
            best[ids.index(exclude)] = -np.inf
        out.append([ids[i] for i in np.argsort(-best)[:k]])
    return out


def run_task(task: Task, bundle: ModelBundle, cfg: EngineConfig, folder: Path, progress: bool = False,
             seconds: dict[str, float] | None = None, ablations: bool = True) -> list[Outcome]:
    """Every method on ``task`` (``ablations`` False: ours alone, a reference row); ``seconds`` (when
    given) gets the wall time of the baselines, the engine's build and the queries (every variant's
    searches; each variant's own are its latencies), keyed "<task>: <stage>"."""
    seconds = {} if seconds is None else seconds
    t0 = time.perf_counter()
    embedder = Embedder.for_config(bundle, cfg)
    outcomes = []
    if task.kind == "photo" and ablations:
        per_query, curve = evaluate_per_query(feature_rankings(embedder, task), task)
        outcomes.append(Outcome(task.name, "cnn-knn (classic)", _means(per_query), curve, per_query=per_query))
    if task.kind == "text" and ablations:
        per_query, curve = evaluate_per_query(text_rankings(embedder, task), task)
        outcomes.append(Outcome(task.name, TEXT_ONLY, _means(per_query), curve, per_query=per_query))
    with_words = None
    if task.hide_titles:  # photos only: neither the titles nor the category names answer (or correct) the words
        with_words = replace(cfg, fusion=replace(cfg.fusion, w_text=0.0, w_lexical=0.0), read_typos=False)
        cfg = replace(with_words, read_categories=False)
    variants = _variants(task, bundle, cfg, with_words) if ablations else {"ours": cfg}
    seconds[f"{task.name}: baselines"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine, photos_per_s = build_engine(task, bundle, cfg, folder)
    seconds[f"{task.name}: index build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    stages: dict[str, list[float]] = {}
    ranked = variant_rankings(engine, task, variants, progress=progress, stages=stages)
    seconds[f"{task.name}: queries, every variant"] = time.perf_counter() - t0
    for name, (rankings, lat) in ranked.items():
        per_query, curve = evaluate_per_query(rankings, task)
        scores = _means(per_query)
        if name == "ours":
            scores["ingest photos/s"] = photos_per_s
        outcomes.append(Outcome(task.name, name, scores, curve, lat, per_query, stages if lat else {}))  # the timed one
    return outcomes


def _variants(task: Task, bundle: ModelBundle, cfg: EngineConfig, with_words: EngineConfig | None
              ) -> dict[str, EngineConfig]:
    """Ours and, one stage switched off (or the category names read) in each, its ablations for ``task``."""
    variants = {"ours": cfg}
    if task.kind == "photo":  # the engine with every shared-space part off: look vectors alone
        variants["ours − shared space"] = replace(cfg, fusion=replace(cfg.fusion, w_visual=0.0, w_predicted_category=0.0))
    if task.kind == "text" and with_words is not None:  # (photo + colour word queries name no category)
        variants["ours + the shop's category names"] = with_words
    if task.kind == "text" and bundle.prototypes is not None:  # the catalogue bridge's worth, same run
        variants["ours − catalogue bridge"] = replace(cfg, fusion=replace(cfg.fusion, w_proto=0.0))
    if bundle.colours is not None and any(q.text and bundle.colours.match(q.text)[0] for q in task.queries):
        variants["ours − colour words"] = replace(cfg, read_colours=False)
    if not task.hide_titles:
        variants["ours − fusion"] = replace(cfg, fusion=replace(cfg.fusion, w_text=0.0, w_price=0.0, w_category=0.0))
    no_cells = replace(cfg.fusion, w_local=0.0, w_local_text=0.0, w_same_shot=0.0)
    if task.kind in ("photo", "photo+text"):
        variants["ours − cells"] = replace(cfg, fusion=no_cells)
        variants["ours − palette"] = replace(cfg, fusion=replace(cfg.fusion, w_palette=0.0))
    if task.kind == "photo":  # (photo + text queries leave the part out; their anchor's search was unchanged by it)
        variants["ours − same shot"] = replace(cfg, fusion=replace(cfg.fusion, w_same_shot=0.0))
    if task.kind == "photo+text":
        variants["ours − anchor"] = replace(cfg, rerank=replace(cfg.rerank, anchor=0.0))
    variants["ours − re-ranking"] = replace(cfg, rerank=replace(cfg.rerank, collapse_duplicates=False),
                                            fusion=replace(no_cells, w_palette=0.0))
    if any(q.text and parse_price(q.text).phrases for q in task.queries):
        variants["ours − price words"] = replace(cfg, read_prices=False)
    return variants


def _means(per_query: dict[str, list[float]]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in per_query.items()}
