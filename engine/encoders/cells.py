"""Cells: the photo's local features, for matching a product's details rather than its whole look.

A pooled CNN vector describes a photo as a whole, so another view of the same product (its back, a
close-up of the collar, the same model in another colour) can look less like it than a different
product of the same kind and colour does. The last block of EfficientNet-Lite sees the photo as a
grid of cells (7 x 7 at 224 px, 320 channels each), every cell describing its neighbourhood. Each
cell is kept as a unit vector in int8 codes (``quantise``; 15.7 kB a photo at 224 px), and a query
photo is compared with a catalogue photo by

    local = mean over the query's cells of max over the photo's cells of cos(query cell, photo cell)

(a "MaxSim" score: every part of the query photo looks for its best match anywhere in the catalogue
photo, so a close-up's cells find the collar in a full view and a recoloured product's cells find its
own seams and shape). Found on luma photo -> product (``docs/eval/experiments/local_matching_probe.py``):
the local score of the raw cells plus 0.2 x the colour histograms' cosine took recall@1 from 0.742 /
0.715 (the look vectors) to 0.837 / 0.800 on two held-out halves of the products. In the engine it is
the part ``local`` that the re-ranking stage adds to the best fused candidates of a photo query
(``rerank.local_rerank``, weight ``w_local``): luma photo -> product R@1 0.715 -> 0.785 (full report).

The same comparison also counts how many of the query's cells and the photo's cells choose each other
(``mutual_share``): nearly all of them for the same product photographed the same way, a colour
variant's studio shot for instance, which the mean score (dominated by alike fabric and background)
does not single out; rerank's part ``same_shot`` (``docs/eval/experiments/cell_weighting_probe.py``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SCALE = 127.0  # int8 code = round(component * SCALE): components of a unit vector lie in [-1, 1]


def quantise(cells: np.ndarray) -> np.ndarray:
    """Unit cell vectors (n, cells * channels) float -> int8 codes (same shape)."""
    return np.clip(np.rint(np.asarray(cells, np.float32) * SCALE), -127, 127).astype(np.int8)


def decode(codes: np.ndarray, channels: int) -> np.ndarray:
    """int8 codes (n, cells * channels) -> (n, cells, channels) float32 cell vectors (near unit length)."""
    codes = np.asarray(codes)
    return codes.astype(np.float32).reshape(len(codes), -1, channels) / SCALE


def local_scores(query: np.ndarray, photos: np.ndarray) -> np.ndarray:
    """The local score of one query photo's cells (cq, channels) (``decode``-d) against each catalogue
    photo's int8 codes (m, cells * channels): mean over the query's cells of the best cosine among the
    photo's cells."""
    return best_local_scores((query,), photos)


def best_local_scores(queries: Sequence[np.ndarray], photos: np.ndarray) -> np.ndarray:
    """``local_scores`` of each catalogue photo, the best over the query's scales ``queries`` (each
    (cq, channels), ``decode``-d); the photos' codes are decoded once for all scales."""
    return cell_matches(queries, photos)[0]


def cell_matches(queries: Sequence[np.ndarray], photos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each catalogue photo (int8 codes, m rows): its ``local_scores`` (the best over the query's
    scales ``queries``) and its ``mutual_share`` with the first scale (the tower's own side)."""
    channels = queries[0].shape[1]
    if len(photos) == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    p = decode(photos, channels)  # (m, cp, c)
    flat = p.reshape(-1, channels)
    best, share = None, None
    for query in queries:
        q = np.asarray(query, np.float32)
        sims = (flat @ q.T).reshape(len(photos), p.shape[1], len(q))  # (m, cp, cq)
        score = sims.max(axis=1).mean(axis=1)
        best = score if best is None else np.maximum(best, score)
        share = mutual_share(sims) if share is None else share
    return best.astype(np.float32), share.astype(np.float32)


def mutual_share(sims: np.ndarray) -> np.ndarray:
    """Cosines (m photos, photo cells, query cells) -> per photo, the share of the query's cells whose
    best photo cell has them as its own best query cell (mutual nearest neighbours). A one-to-one match
    of most cells means the same object in the same pose: in a shop, the same product photographed the
    same way in another colour (luma: 0.95 median for the right product, 0.56 for the best other one)."""
    fwd = sims.argmax(axis=1)  # (m, cq): each query cell's best photo cell
    back = sims.argmax(axis=2)  # (m, cp): each photo cell's best query cell
    mutual = np.take_along_axis(back, fwd, axis=1) == np.arange(sims.shape[2])[None, :]
    return mutual.mean(axis=1)


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """int8 cell codes (n, w) -> (n, ceil(w / 4)) float32 rows holding the same bytes, so the float32
    feature cache stores them a quarter the size (bytes round-trip exactly: no arithmetic on them)."""
    codes = np.ascontiguousarray(codes, np.int8)
    pad = -codes.shape[1] % 4
    if pad:
        codes = np.hstack([codes, np.zeros((len(codes), pad), np.int8)])
    return codes.view(np.float32)


def unpack_codes(row: np.ndarray) -> np.ndarray:
    """One ``pack_codes``-ed row -> its int8 codes (with any padding; the caller knows the width)."""
    return np.ascontiguousarray(row, np.float32).view(np.int8)
