"""Training the shared space: a symmetric contrastive (InfoNCE) loss over (photo, text) pairs.

Products are split into train and held-out sets; every epoch samples one photo and one text view
per product, and the held-out text -> photo recall is logged. A seed fixes everything: new heads are
initialised from it, so two runs of one configuration give identical heads. The best epoch is kept. When
training starts from an existing bundle, the fine-tuned heads are kept side by side with head sets trained
from scratch on the same split (``heads.HeadSets``), and the result is never worse than the start bundle
on the held-out split (the better of the two is kept and ``metrics["kept"]`` says which).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from .config import TrainConfig
from .encoders.bundle import ModelBundle
from .encoders.embedder import Embedder
from .encoders.heads import SharedSpace, head_sets, members_of, n_head_sets
from .errors import BadSettingError
from .types import Product

log = logging.getLogger(__name__)


@dataclass
class PairData:
    """Tower features for training: photos (with their product) and text views (with theirs)."""

    image_feats: np.ndarray  # (n_images, image_dim)
    image_product: np.ndarray  # (n_images,) product number
    text_feats: np.ndarray  # (n_texts, text_dim)
    text_product: np.ndarray  # (n_texts,) product number
    query_text: np.ndarray  # (n_products,) index into text_feats of the validation query view
    n_products: int


def text_views(p: Product, augment: bool) -> list[str]:
    """The texts a product is paired with: full text first (the validation query view is the title)."""
    views = [p.text()[:512], p.title]
    if augment:
        leaf = p.category.rsplit("/", 1)[-1] if p.category else ""
        colour = p.attributes.get("colour", "").split("|")[0]
        short = " ".join(w for w in (colour, leaf) if w)
        if short:
            views.append(short)
    return views


def collect_pairs(products: list[Product], embedder: Embedder, augment: bool = True,
                  progress: bool = False) -> PairData:
    products = [p for p in products if p.images]
    paths, img_prod, texts, txt_prod, query = [], [], [], [], []
    for i, p in enumerate(products):
        paths += list(p.images)
        img_prod += [i] * len(p.images)
        views = text_views(p, augment)
        query.append(len(texts) + 1)  # the title view
        texts += views
        txt_prod += [i] * len(views)
    return PairData(embedder.image_features(paths, progress), np.asarray(img_prod),
                    embedder.text_features(texts, "passage"), np.asarray(txt_prod),
                    np.asarray(query), len(products))


def split_products(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = int(round(n * holdout)) if n >= 20 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def title_photo_sims(heads, data: PairData, products: np.ndarray) -> np.ndarray:
    """(len(products), len(products)) cosines of each product's title (query view) with each one's first
    photo in the shared space of ``heads`` (one set or several side by side)."""
    first = {}
    for row, prod in enumerate(data.image_product):
        first.setdefault(int(prod), row)
    gallery = heads.project_images(data.image_feats[[first[int(p)] for p in products]])
    return heads.project_texts(data.text_feats[data.query_text[products]]) @ gallery.T


def heldout_recall(bundle: ModelBundle, data: PairData, products: np.ndarray) -> dict[str, float]:
    """Text (title) -> photo recall@1/@10 among ``products``; gallery = each product's first photo."""
    if len(products) == 0:
        return {}
    sims = title_photo_sims(bundle.heads, data, products)
    ranks = (sims > np.diag(sims)[:, None]).sum(1)
    return {"recall@1": float((ranks < 1).mean()), "recall@10": float((ranks < 10).mean()),
            "n": int(len(products))}


def train_space(bundle: ModelBundle, data: PairData, cfg: TrainConfig, progress: bool = True,
                from_existing: bool = False) -> ModelBundle:
    """Train ``bundle``'s heads on ``data`` and return the bundle that was kept.

    From scratch: ``cfg.scratch_sets`` new head sets (seeds ``seed``, ``seed + 1000``, ...), side by side
    when more than one. Fine-tuning (``from_existing``) with ``cfg.race_scratch`` also trains new heads from
    scratch on the same split: with ``cfg.head_sets`` > 1 the fine-tuned heads are kept side by side with
    ``head_sets - 1`` scratch sets (their mean similarity; choosing among single sets on the small
    held-out split lost to always keeping them together, docs/figures.md), with ``head_sets`` = 1 the best single
    set on the held-out split (ties to the fine-tuned). Either way the start bundle is kept when it does
    better on the held-out split, so training never ends below it. The bundle's other parts (bridges,
    colour words) stay, since they do not depend on the heads. ``metrics["kept"]`` says what was kept
    ("start", "trained", "scratch" or "side by side"), ``metrics["sets_heldout"]`` each set's recall."""
    if cfg.head_sets < 1 or cfg.scratch_sets < 1:
        raise BadSettingError("train.head_sets / train.scratch_sets", "must be at least 1")
    train_p, val_p = split_products(data.n_products, cfg.holdout, cfg.seed)
    sizes = {"train_products": int(len(train_p)), "heldout_products": int(len(val_p)), "epochs": cfg.epochs,
             "kept": "trained"}
    if not from_existing:
        sets = _scratch_sets(bundle, data, train_p, val_p, cfg, progress, cfg.scratch_sets)
        bundle.heads = head_sets(list(sets.values()))
        bundle.metrics = {"heldout": heldout_recall(bundle, data, val_p), **sizes}
        if len(sets) > 1:
            bundle.metrics.update(kept="side by side", sets_heldout=_sets_heldout(bundle, data, val_p, sets))
        return bundle
    start_metrics = heldout_recall(bundle, data, val_p)
    n_scratch = max(0, cfg.head_sets - n_head_sets(bundle.heads)) if cfg.race_scratch else 0
    scratch = _scratch_sets(bundle, data, train_p, val_p, cfg, progress, max(n_scratch, int(cfg.race_scratch)))
    torch.manual_seed(cfg.seed)  # fine-tuning draws the same numbers with or without the race
    sets = {**scratch, "trained": _fine_tuned(bundle, data, train_p, val_p, cfg, progress)}
    start = bundle.heads
    each = _sets_heldout(bundle, data, val_p, sets)
    metrics = {**sizes, "start_heldout": start_metrics, "sets_heldout": each}
    if "scratch" in each:
        metrics["scratch_heldout"] = each["scratch"]
    if n_scratch > 0:  # scratch first: the shop's own statistics for the look vectors' fallback
        bundle.heads = head_sets([*scratch.values(), *members_of(sets["trained"])])
        metrics["kept"] = "side by side"
    else:  # the best single set; ties go to the fine-tuned
        best = max(["trained", *scratch], key=lambda name: each[name].get("recall@10", 0))
        bundle.heads, metrics["kept"] = sets[best], best
        if best != "trained":
            log.info("training from scratch beat fine-tuning on the held-out split; keeping the scratch heads")
    metrics["heldout"] = heldout_recall(bundle, data, val_p)
    if start_metrics and start_metrics["recall@10"] > metrics["heldout"].get("recall@10", 0):
        log.info("training did not beat the starting bundle on the held-out split; keeping it")
        bundle.heads, metrics["heldout"], metrics["kept"] = start, start_metrics, "start"
    bundle.metrics = metrics
    return bundle


def _sets_heldout(bundle: ModelBundle, data: PairData, val_p, sets: dict) -> dict:
    return {name: heldout_recall(_with_heads(bundle, heads), data, val_p) for name, heads in sets.items()}


def _with_heads(bundle: ModelBundle, heads) -> ModelBundle:
    other = copy.copy(bundle)  # shares the bridges and vocabularies; only the heads are its own
    other.heads = heads
    return other


def _scratch_sets(bundle, data, train_p, val_p, cfg: TrainConfig, progress: bool, n: int) -> dict:
    """{"scratch": heads, "scratch 2": heads, ...}: ``n`` sets from scratch, seeds seed, seed + 1000, ..."""
    return {("scratch" if i == 0 else f"scratch {i + 1}"):
            _scratch_heads(bundle, data, train_p, val_p, cfg, progress, cfg.seed + 1000 * i) for i in range(n)}


def _fine_tuned(bundle: ModelBundle, data: PairData, train_p, val_p, cfg: TrainConfig, progress: bool):
    """A copy of ``bundle``'s heads fine-tuned on the split (each set of a side-by-side bundle on its own),
    each at its best epoch on the held-out split; ``bundle`` itself is left as it was."""
    tuned = []
    for member in members_of(bundle.heads):
        member = copy.deepcopy(member)
        if cfg.refit_stats:  # a shop's features are centred and scaled unlike fashion's
            member.image.set_stats(data.image_feats)
            member.text.set_stats(data.text_feats)
        state, _ = _fit(_with_heads(bundle, member), data, train_p, val_p, cfg, progress)
        member.load_state_dict(state)
        member.eval()
        tuned.append(member)
    return head_sets(tuned)


def _scratch_heads(bundle: ModelBundle, data: PairData, train_p, val_p, cfg: TrainConfig, progress: bool,
                   seed: int | None = None):
    """New heads trained from ``seed`` (default ``cfg.seed``) on the split: training from scratch, and the
    sets that fine-tuning races or keeps beside it. The seed fixes the initialisation and the batches,
    whatever drew from torch's random generator before; the split is the caller's."""
    seed = cfg.seed if seed is None else seed
    torch.manual_seed(seed)
    rival = _with_heads(bundle, SharedSpace(bundle.image_dim, bundle.text_dim, bundle.space))
    rival.heads.image.set_stats(data.image_feats)
    rival.heads.text.set_stats(data.text_feats)
    state, _ = _fit(rival, data, train_p, val_p, cfg, progress, seed)
    rival.heads.load_state_dict(state)
    rival.heads.eval()
    return rival.heads


def _fit(bundle, data, train_p, val_p, cfg, progress, seed: int | None = None):
    heads = bundle.heads
    opt = torch.optim.AdamW(heads.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _schedule(opt, cfg.lr, cfg.epochs * max(1, int(np.ceil(len(train_p) / cfg.batch_size))))
    rng = np.random.default_rng(cfg.seed if seed is None else seed)
    img_by_prod = _group(data.image_product, data.n_products)
    txt_by_prod = _group(data.text_product, data.n_products)
    views = _view_ids(data, txt_by_prod) if cfg.shared_text_positives else None
    pick_img, pick_txt = _sampler(img_by_prod), _sampler(txt_by_prod)
    best_state, best = copy.deepcopy(heads.state_dict()), -1.0
    bar = tqdm(range(cfg.epochs), desc="train", unit="epoch", disable=not progress)
    for epoch in bar:
        heads.train()
        loss = _epoch(heads, data, train_p, pick_img, pick_txt, cfg, rng, opt, sched, views)
        heads.eval()
        val = heldout_recall(bundle, data, val_p)
        score = val.get("recall@10", -loss)
        if score >= best:
            best, best_state = score, copy.deepcopy(heads.state_dict())
        bar.set_postfix(loss=f"{loss:.3f}", **{k: f"{v:.3f}" for k, v in val.items() if k != "n"})
        log.info("epoch %d loss %.4f held-out %s", epoch + 1, loss, val)
    return best_state, best


def _schedule(opt, lr: float, steps: int):
    """One-cycle learning rate over ``steps``, warming up for 10 % of them but at least two steps (torch's
    OneCycleLR divides by the warm-up length minus one); a constant rate for runs under 4 steps."""
    if steps < 4:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=max(0.1, 2.0 / steps))


def _group(owner: np.ndarray, n: int) -> list[np.ndarray]:
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(n)]


def _sampler(groups: list[np.ndarray]):
    """``pick(batch, rng)``: one member of each ``groups[p]`` for p in ``batch``, uniformly, in one draw
    (``rng.integers`` with per-product bounds: the same numbers ``rng.choice(groups[p])`` product by
    product gave, at a tenth of the time; a training is bit for bit what it was)."""
    sizes = np.array([len(g) for g in groups], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    flat = np.concatenate(groups) if groups else np.zeros(0, np.int64)
    return lambda batch, rng: flat[starts[batch] + rng.integers(0, sizes[batch])]


def _view_ids(data: PairData, txt_by_prod: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(text id per text row, (n_products, max views) text ids of each product's views, -1 padded):
    rows with identical features (the same string) share an id."""
    _, text_id = np.unique(data.text_feats, axis=0, return_inverse=True)
    text_id = text_id.reshape(-1)
    width = max((len(g) for g in txt_by_prod), default=1)
    per_product = np.full((len(txt_by_prod), width), -1, np.int64)
    for p, rows in enumerate(txt_by_prod):
        per_product[p, : len(rows)] = text_id[rows]
    return text_id, per_product


def _positives(views: tuple[np.ndarray, np.ndarray], batch: np.ndarray, txt_rows) -> np.ndarray:
    """(len(batch), len(batch)) bool: text i of the batch is true of photo j's product (one of its views)."""
    text_id, per_product = views
    return (per_product[batch][None, :, :] == text_id[np.asarray(txt_rows)][:, None, None]).any(-1)


def _epoch(heads, data, train_p, pick_img, pick_txt, cfg, rng, opt, sched, views=None) -> float:
    """One pass of symmetric InfoNCE over batches of products (one photo and one text view each,
    drawn by the ``_sampler``s ``pick_img`` and ``pick_txt``).
    With ``views`` (``cfg.shared_text_positives``) a text also counts as a positive for every photo in
    the batch whose product has that same text among its views ("Navy Blue Tshirts" is true of every
    navy t-shirt), instead of as a negative; the targets spread over the positives."""
    order = rng.permutation(train_p)
    losses = []
    for start in range(0, len(order), cfg.batch_size):
        batch = order[start:start + cfg.batch_size]
        if len(batch) < 2:
            continue
        img_rows, txt_rows = pick_img(batch, rng), pick_txt(batch, rng)
        zi = heads.image(torch.from_numpy(data.image_feats[img_rows]))
        zt = heads.text(torch.from_numpy(data.text_feats[txt_rows]))
        logits = heads.logit_scale.exp().clamp(max=100) * zi @ zt.T
        if views is None:
            target = torch.arange(len(batch))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        else:
            pos = torch.from_numpy(_positives(views, batch, txt_rows).astype(np.float32))
            loss = (F.cross_entropy(logits, pos.T / pos.T.sum(1, keepdim=True))
                    + F.cross_entropy(logits.T, pos / pos.sum(1, keepdim=True))) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else 0.0
