"""How well the bundle's shared space fits a catalogue, measured on the catalogue itself at index time.

A bundle trained on one shop's kind of products (fashion, say) pairs those photos with their words
well and another shop's (sportswear and gear, phones) poorly; where it pairs them poorly, its photo
similarities are noise beside the look vectors. The fit needs no labels: for a sample of products,
is the product's own text among the nearest 5 % of the sample's texts to its first photo? Fashion's
held-out products score 0.99 with the fashion-trained space, luma's 0.21 (docs/figures.md, "Shared-space fit").
Photo-only queries scale ``fusion.w_visual`` by it (``FusionConfig.visual_by_fit``); text queries
do not: colour words are read well by the shared space even on foreign products (docs/figures.md).
"""

from __future__ import annotations

import numpy as np

SAMPLE = 200  # products per sample: "nearest 5 %" is then the top 10, whatever the catalogue's size
SAMPLES = 5  # seeded samples averaged when the catalogue has more than SAMPLE products
MIN_PRODUCTS = 20  # below this there is no evidence either way: None (w_visual as configured)


def shared_space_fit(photos: np.ndarray, texts: np.ndarray, seed: int = 0) -> float | None:
    """Share of products whose own text ranks in the top 5 % of a sample's texts for their photo.

    ``photos`` and ``texts``: (n, dim) unit vectors of the same n products in the shared space. A tie
    counts for the product (identical texts, e.g. hidden titles, say nothing against the space)."""
    n = len(photos)
    if n < MIN_PRODUCTS:
        return None
    rng = np.random.default_rng(seed)
    hits = []
    for _ in range(SAMPLES if n > SAMPLE else 1):
        ix = rng.choice(n, SAMPLE, replace=False) if n > SAMPLE else np.arange(n)
        sims = photos[ix] @ texts[ix].T
        rank = (sims > np.diag(sims)[:, None] + 1e-6).sum(1)  # ties (same text) within rounding count for it
        hits.append(float(np.mean(rank < max(1, int(0.05 * len(ix))))))
    return float(np.mean(hits))


def first_photo_rows(index, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the owners among ``owners`` that have a live photo, the vector row of each one's first photo)."""
    rows, which = index.photos.rows_of_owners(owners)
    first = np.unique(which, return_index=True)[1]  # rows come grouped by owner, in photo order
    return np.asarray(owners)[which[first]], rows[first]


def catalogue_fit(index) -> float | None:
    """``shared_space_fit`` of a built ``ProductIndex``: each live product's first photo and its text."""
    owners, photo_rows = first_photo_rows(index, np.flatnonzero(index.table.alive))
    text_rows, which = index.texts.rows_of_owners(owners)
    if len(text_rows) == 0:
        return None
    return shared_space_fit(index.photos.take(photo_rows[which]), index.texts.take(text_rows))
