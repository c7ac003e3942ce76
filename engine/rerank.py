"""Re-ranking: exact rescoring of candidates and near-duplicate collapse.

``rescore`` computes, for each candidate product row, the exact parts
``visual`` = max over the product's photos of cos(q, photo), ``text`` = cos(q, product text) and,
for photo queries, ``look`` = max over the product's photos of cos(query look, photo look), for
text queries ``bridge`` = max over the photos of cos(query text, photo's ImageNet-class mix), and for
photo + text queries ``shape`` (the looks' CNN blocks only: the words, not the photo, say the colour)
and ``text_photo`` = max over the photos of cos(query text alone, photo) in the shared space, and for
queries naming colours ``colour`` = max over the photos of cos(the colours' prototype histogram, the
looks' colour blocks) and ``colour_class`` = max over the photos of how surely the bundle's colour reader
takes the photo's palette for the named colours (encoders/colour_reader.py), for queries naming kinds of
product the bundle's type reader knows ``type_class`` = max over the photos of the probability it gave
their looks of those kinds when they were indexed (encoders/type_reader.py), and, for anchored photo +
text queries (engine/anchor.py), ``colour_shift`` = max
over the photos of cos(photo colour - anchor colour, prototype - anchor colour) x max(shape, 0): the
same shape in a colour moved from the anchor's the way the words ask; all from the stored vectors
(whatever approximate search found them).
``local_rerank`` re-scores the best fused candidates of a photo query by their photos' cells
(``encoders/cells.py``): part ``local`` = max over the product's photos of the query photo's local score,
part ``same_shot`` = how far the best photo's share of mutual cell matches lies above a threshold (the
same product photographed the same way, e.g. in another colour). ``collapse_duplicates`` walks
the fused ranking and folds a product into a better-ranked one when their first photos' look vectors
(text vectors for products without photos) have cosine above the threshold, or when their first
photos are the same picture by their signatures (``signatures.py``: re-uploaded, resized or
re-compressed copies, which the look vectors miss). Listings that state different colours are
colour variants and never fold into each other, whatever their photos.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from .index.product_index import ProductIndex
from .encoders.cells import cell_matches
from .encoders.unit import unit
from .index.vectors import VectorIndex
from .encoders.palette import overlap
from .signatures import coarse, same_photo_among
from .types import Candidate, Candidates


def rescore(index: ProductIndex, rows: np.ndarray, qv) -> Candidates:
    """Exact parts for product ``rows`` and query vectors ``qv`` (``planner.QueryVectors``);
    ``scores`` = the best part."""
    rows = np.asarray(rows, np.int64)
    if len(rows) == 0:
        return Candidates.empty()
    parts = {"visual": _max_by_owner(index.photos, rows, qv.shared),
             "text": _max_by_owner(index.texts, rows, qv.shared)}
    if qv.look is not None and index.looks is not None:
        parts["look"] = _max_by_owner(index.looks, rows, qv.look)
    if qv.bridge is not None and index.bridges is not None:
        parts["bridge"] = _max_by_owner(index.bridges, rows, qv.bridge)
    if qv.shape is not None and index.looks is not None:
        parts["shape"] = _max_by_owner(index.looks, rows, qv.shape, block="prefix")
    if qv.text is not None:
        parts["text_photo"] = _max_by_owner(index.photos, rows, qv.text)
    if qv.proto is not None and index.prototypes is not None:
        parts["proto"] = _max_by_owner(index.prototypes, rows, qv.proto)
    if qv.read_colour is not None and index.colour_reads is not None:
        parts["colour_class"] = _best_read(index.colour_reads, rows, qv.read_colour)
    if qv.read_type is not None and index.kinds is not None:
        parts["type_class"] = _best_read(index.kinds, rows, qv.read_type)
    if qv.colour is not None and index.looks is not None:
        parts["colour"] = _max_by_owner(index.looks, rows, qv.colour, block="suffix")
        if qv.anchor_colour is not None:
            parts["colour_shift"] = _shift_by_owner(index.looks, rows, qv.colour, qv.anchor_colour)
            if "shape" in parts:  # a colour move counts on the anchor's own kind: the same shape in another colour
                parts["colour_shift"] = parts["colour_shift"] * np.clip(parts["shape"], 0.0, 1.0)
    return Candidates(rows, np.max(np.stack(list(parts.values())), axis=0), parts)


def local_rerank(index: ProductIndex, ranked: Candidates, cells: Sequence[np.ndarray], weight: float, n: int,
                 same_shot: tuple[float, float] = (0.0, 1.0), palette: tuple[float, np.ndarray | None] = (0.0, None)
                 ) -> Candidates:
    """The first ``n`` of ``ranked`` (fused, best first) gain ``weight`` x their ``local`` part (the query
    photo's cells, at each of its scales in ``cells``, matched with their photos'; the best scale
    counts), ``same_shot[0]`` x their ``same_shot`` part (how far the best photo's share of mutual
    cell matches, ``cells.mutual_share``, lies above ``same_shot[1]``, scaled to [0, 1]) and
    ``palette[0]`` x their ``palette`` part (the best photo's ``encoders/palette.overlap`` with the query
    photo's palette ``palette[1]``) and are re-sorted; the rest follow in their order with the parts 0.
    Each part is one only where its weight is > 0 (and the query has ``cells``, the index its cells or
    palettes). Only ``n`` candidates are matched: the cells decide which of the likeliest products comes
    first, not which make the list."""
    head, tail = ranked.take(slice(0, n)), ranked.take(slice(n, None))
    w_shot, start = same_shot
    weights = {"local": weight, "same_shot": w_shot, "palette": palette[0]}
    added = {}
    if (weight > 0 or w_shot > 0) and cells and index.cells is not None:
        local, share = _local_by_owner(index.cells, head.rows, cells)
        if weight > 0:
            added["local"] = local
        if w_shot > 0:
            added["same_shot"] = (np.clip(share - start, 0.0, None) / max(1.0 - start, 1e-6)).astype(np.float32)
    if palette[0] > 0 and palette[1] is not None and index.palettes is not None:
        added["palette"] = _best_read(index.palettes, head.rows, lambda shades: overlap(palette[1], shades))
    scores = head.scores + sum(weights[name] * part for name, part in added.items())
    head = Candidates(head.rows, scores.astype(np.float32), {**head.parts, **added}).top(len(head))
    if len(tail) == 0:
        return head
    tail_parts = {**tail.parts, **{name: np.zeros(len(tail), np.float32) for name in added}}
    return Candidates(np.concatenate([head.rows, tail.rows]), np.concatenate([head.scores, tail.scores]),
                      {k: np.concatenate([head.parts[k], tail_parts[k]]) for k in head.parts})


def _local_by_owner(cells: VectorIndex, rows: np.ndarray, query: Sequence[np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For each row, max over its live photos of the local score of the query's cells (the best of
    its scales) and of their mutual share; 0 where it has none (a product without photos matches no detail)."""
    local, share = np.full(len(rows), -np.inf, np.float32), np.zeros(len(rows), np.float32)
    sel, which = cells.rows_of_owners(rows)
    if len(sel):
        scores, shares = cell_matches(query, cells.take(sel))
        np.maximum.at(local, which, scores)
        np.maximum.at(share, which, shares)
    local[~np.isfinite(local)] = 0.0
    return local, share


def _max_by_owner(vecs: VectorIndex, rows: np.ndarray, q: np.ndarray, block: str = "") -> np.ndarray:
    """For each row, max over its live vectors of cos(q, v); -1 where it has none. ``block`` "prefix"
    ("suffix"): compare the unit ``q`` (m,) with each vector's first (last) m dimensions, renormalised
    (the look's CNN block, its colour block)."""
    def sims(sel: np.ndarray) -> np.ndarray:
        if block:
            part = vecs.take(sel, slice(None, len(q)) if block == "prefix" else slice(-len(q), None))
            return part @ q / np.maximum(np.linalg.norm(part, axis=1), 1e-12)
        return vecs.dot(q)[sel] if len(sel) * 3 > len(vecs) else vecs.take(sel) @ q
    return _owner_max(vecs, rows, sims)


def _shift_by_owner(vecs: VectorIndex, rows: np.ndarray, target: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """For each row, max over its live photos of cos(photo colour - ``origin``, ``target`` - ``origin``)
    on the looks' unit colour blocks: how far a photo's colour moved from the anchor's the way the words
    ask; 0 for a photo of the anchor's own colour, -1 where the product has no photo."""
    wanted = unit(target) - origin
    wanted_norm = max(float(np.linalg.norm(wanted)), 1e-12)

    def sims(sel: np.ndarray) -> np.ndarray:
        moved = unit(vecs.take(sel, slice(-len(target), None))) - origin
        norms = np.linalg.norm(moved, axis=1) * wanted_norm
        return np.where(norms > 1e-6, moved @ wanted / np.maximum(norms, 1e-12), 0.0)
    return _owner_max(vecs, rows, sims)


def _best_read(channel: VectorIndex, rows: np.ndarray, score) -> np.ndarray:
    """For each row, the best ``score`` (an (m, channel dim) block -> (m,) scores >= 0) over its photos'
    vectors in ``channel`` (palettes, kind probabilities); 0 where it has none."""
    return np.maximum(_owner_max(channel, rows, lambda sel: score(channel.take(sel))), 0.0)


def pictured(index: ProductIndex, rows: np.ndarray) -> np.ndarray:
    """Per row, whether the product has a live photo (fusion scores the others' photo parts neutrally)."""
    out = np.zeros(len(rows), bool)
    out[index.photos.rows_of_owners(rows)[1]] = True
    return out


def _owner_max(vecs: VectorIndex, rows: np.ndarray, sims) -> np.ndarray:
    """For each row, the max of ``sims(sel)`` (scores of the vector rows ``sel``) over its live vectors;
    -1 where it has none."""
    out = np.full(len(rows), -1.0, np.float32)
    if len(vecs) == 0:
        return out
    sel, which = vecs.rows_of_owners(rows)
    if len(sel):
        np.maximum.at(out, which, sims(sel).astype(np.float32))
    return out


def representative_vector(index: ProductIndex, row: int) -> np.ndarray | None:
    """The vector near-duplicates are judged on: the first photo's look vector (it carries colour,
    so colour variants of one product are not folded), else its shared-space vector, else the text's.
    Vectors of different kinds differ in size or content, so only same-size vectors are compared."""
    if index.looks is not None and (look_rows := index.looks.rows_of(row)):
        return index.looks.take([look_rows[0]])[0]
    photo_rows = index.photos.rows_of(row)
    if photo_rows:
        return index.photos.take([photo_rows[0]])[0]
    text_rows = index.texts.rows_of(row)
    return index.texts.take([text_rows[0]])[0] if text_rows else None


def _first_rows(channel: VectorIndex | None, rows: Sequence[int]) -> dict[int, np.ndarray]:
    """Product row -> the channel's vector for its first photo, read in one ``take`` (the per-product
    ``representative_*`` calls cost a read each)."""
    if channel is None:
        return {}
    firsts = {row: got[0] for row in rows if (got := channel.rows_of(row))}
    return dict(zip(firsts, channel.take(list(firsts.values())))) if firsts else {}


def representative_signature(index: ProductIndex, row: int) -> np.ndarray | None:
    """The first photo's same-photo signature; None for products without photos and for indexes
    saved before signatures were kept."""
    sigs = index.channels.get("signature")
    if sigs is None or not (rows := sigs.rows_of(row)):
        return None
    return sigs.take([rows[0]])[0]


def collapse_duplicates(index: ProductIndex, ranked: list[Candidate], threshold: float, limit: int,
                        same_photo_distance: float = 0.0, price_gap: float = 1.0) -> list[Candidate]:
    """Keep at most ``limit`` candidates, folding near-duplicates into the better-ranked one: look
    cosine >= ``threshold``, or (``same_photo_distance`` > 0) first photos that are the same picture;
    variants (other stated colours, prices more than ``price_gap`` apart: ``AttributeTable.variants``) never fold.

    Folding never makes the list shorter than min(limit, len(ranked)): when there are not enough
    distinct products, the best-ranked folded ones are shown on their own again.
    """
    kept = _fold(index, ranked, threshold, limit, same_photo_distance, price_gap)
    missing = min(limit, len(ranked)) - len(kept)
    if missing <= 0:
        return kept
    shown = {c.row for c in kept}
    unfold = [c for c in ranked if c.row not in shown][:missing]
    back = {c.row for c in unfold}
    kept = [Candidate(c.row, c.score, c.parts, tuple(d for d in c.duplicates if d not in back)) for c in kept]
    return sorted(kept + unfold, key=lambda c: (-c.score, c.row))


def _fold(index: ProductIndex, ranked: list[Candidate], threshold: float, limit: int,
          same_photo_distance: float, price_gap: float) -> list[Candidate]:
    """Walk ``ranked``; a candidate that duplicates a kept one (nearest representative vector of its
    size with cosine >= ``threshold``, else the nearest same picture) folds into it, not into a variant
    (stated colours, price); stop at the first new product past ``limit``."""
    kept: list[Candidate] = []
    vecs: dict[int, _Rows] = {}  # vector size -> the kept products' representative vectors
    sigs, coarse_sigs = _Rows(), _Rows()  # same-photo signatures and their coarse grids (a shortlist)
    table = index.table
    looks: dict[int, np.ndarray] = {}  # the candidates' first photos' looks and signatures, read a block at a time:
    signed: dict[int, np.ndarray] = {}  # the first 2 * limit + 8 together, then twice as many each time the walk
    read, block = 0, 2 * limit + 8      # passes them (a catalogue of many same-photo listings folds deep)
    colours_of = functools.cache(table.colours_of)  # rows' stated colours, read once each
    for at, cand in enumerate(ranked):
        if at == read:
            rows = [c.row for c in ranked[read: read + block]]
            looks.update(_first_rows(index.looks, rows))
            if same_photo_distance > 0:
                signed.update(_first_rows(index.channels.get("signature"), rows))
            read, block = read + block, 2 * block
        vec = looks[cand.row] if cand.row in looks else representative_vector(index, cand.row)  # (no look: shared)
        sig = signed.get(cand.row) if same_photo_distance > 0 else None

        def differ(j: int) -> bool:  # variants never fold
            return table.variants(kept[j].row, cand.row, price_gap, colours_of)

        j = None
        if vec is not None and len(vec) in vecs:
            j = vecs[len(vec)].nearest(vecs[len(vec)].rows() @ vec, differ, lambda sim: sim >= threshold)
        sig_grid = coarse(sig[None])[0] if sig is not None and j is None else None  # for the check and the kept rows
        if sig_grid is not None and sigs.n:
            close, dist = same_photo_among(sigs.rows(), coarse_sigs.rows(), sig, sig_grid, same_photo_distance)
            j = next((sigs.owner[i] for i in close[np.argsort(dist, kind="stable")] if not differ(sigs.owner[i])), None)
        if j is not None:
            kept[j] = Candidate(kept[j].row, kept[j].score, kept[j].parts, kept[j].duplicates + (cand.row,))
            continue
        if len(kept) >= limit:
            break
        if vec is not None:
            vecs.setdefault(len(vec), _Rows()).add(vec, len(kept))
        if sig is not None:
            sigs.add(sig, len(kept))
            coarse_sigs.add(sig_grid, len(kept))
        kept.append(cand)
    return kept


class _Rows:
    """Kept products' vectors of one kind, grown in place (stacking them again for every candidate made
    a 200-result page cost 30 ms), with the kept position each row belongs to."""

    def __init__(self):
        self.mat: np.ndarray | None = None
        self.owner: list[int] = []

    @property
    def n(self) -> int:
        return len(self.owner)

    def rows(self) -> np.ndarray:
        return self.mat[: self.n]

    def add(self, vec: np.ndarray, owner: int) -> None:
        if self.mat is None or self.n == len(self.mat):
            grown = np.empty((max(16, 2 * self.n), len(vec)), np.float32)
            if self.mat is not None:
                grown[: self.n] = self.mat
            self.mat = grown
        self.mat[self.n] = vec
        self.owner.append(owner)

    def nearest(self, sims: np.ndarray, differ, passes) -> int | None:
        """The kept position of the most similar row that is not a colour variant, if it ``passes``."""
        order = np.argsort(-sims, kind="stable")
        for i in order:
            if not passes(sims[i]):
                return None
            if not differ(self.owner[i]):
                return self.owner[i]
        return None
