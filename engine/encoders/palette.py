"""Palettes: a photo's exact shades, for telling the same product from a look-alike in another colour.

The look's colour block (``colour.py``, 8 hues) is made for colour *words* and for the shared space:
it puts yellow and lime, orange and red in one bin, and its cosine (Bhattacharyya) counts how alike two
whole-photo mixes are, so a close-up (nearly all garment) and a full view of the same product (garment,
skin, trousers) compare poorly. A photo's palette is its histogram over 24 hues x 3 saturations x 3
values (near-white background left out), and a query photo is compared with a catalogue photo by
histogram intersection (sum over bins of the smaller share): every colour of a back view or a close-up
is present in the product's full view in the same shade, and a look-alike in another shade loses the
share it lacks. Found on luma photo -> product
(``docs/eval/experiments/palette_probe.*``, tuning bundle, the 10 best candidates re-scored): R@1 0.837 ->
0.861 with 0.4 x the intersection at 24 hues (8 hues 0.841, 16 hues 0.848; both halves of the products up
at 24 hues), close-ups 0.57 -> 0.65, backs 0.81 -> 0.85. In the engine it is the part ``palette`` of
photo-only queries' re-ranking (``rerank.local_rerank``, weight ``w_palette`` 0.75, chosen by
``eval.tune_fusion --weight w_palette``); photo + text queries whose words name a colour use it only
through their anchor, found by a photo-only search (``engine/anchor.py``), since their words ask for
another colour; those whose words name none weigh it too (``photo_parts.keeps_colour``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .colour import colour_dim, colour_histograms

HUE_BINS = 24
DIM = colour_dim(HUE_BINS)  # channel size in the index ("palette")
SIDE = 160  # photos are shrunk to at most this many pixels a side first (every pixel counts)


def photo_palette(img: Image.Image) -> np.ndarray:
    """(DIM,) float32 square-rooted palette (unit length) of a decoded RGB photo."""
    img = img if img.mode == "RGB" else img.convert("RGB")
    scale = min(1.0, SIDE / max(img.size))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    small = img if size == img.size else img.resize(size, Image.BICUBIC, reducing_gap=2.0)  # as thumbnail() does
    return colour_histograms(np.asarray(small)[None], HUE_BINS, step=1)[0]


def overlap(query: np.ndarray, photos: np.ndarray) -> np.ndarray:
    """Histogram intersection of the query's palette (DIM,) with each photo's (m, DIM), both square-rooted
    as ``photo_palette`` gives them: the share of the query's pixels in bins the photo has as much of."""
    q = np.square(np.asarray(query, np.float32))
    return np.minimum(np.square(np.asarray(photos, np.float32)), q[None, :]).sum(axis=1)
