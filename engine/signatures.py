"""Photo signatures: "is this the same photo?", for near-duplicate listings.

A shop's catalogue holds the same picture more than once: a listing re-uploaded by another seller, a
second-hand offer with the maker's stock photo, a copy resized or re-compressed on the way. Tower
features are a poor judge of that: JPEG quality 60 at 70 % size moves the look vector's cosine to 0.84
while two colour variants shot in one pose reach 0.99 (``docs/eval/experiments/duplicate_looks.txt``).

The signature is the photo shrunk to a ``SIZE`` x ``SIZE`` RGB thumbnail (box filter, 0..1). Two
photos are the same picture when no cell of their thumbnails differs by more than ``max_distance``
(Euclidean RGB distance of the cell): re-encoding and resizing move a cell by a few hundredths, a
garment in another colour moves the cells it covers by a tenth or more. Measured on luma and
newbee_zh by ``python -m eval.duplicates_bench`` (docs/figures.md, "Near-duplicate listings").
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .pair_search import candidate_pairs, checked_pairs

SIZE = 16
DIM = SIZE * SIZE * 3  # channel size in the index ("signature")


def photo_signature(img: Image.Image) -> np.ndarray:
    """(DIM,) float32 signature of a decoded RGB photo: box-filtered to 4 x SIZE pixels square, blurred
    by half a cell (so a copy resampled to another size lands on nearly the same cells), box-filtered
    to SIZE x SIZE and smoothed with a 3 x 3 binomial kernel."""
    work = img.convert("RGB").resize((4 * SIZE, 4 * SIZE), Image.BOX).filter(ImageFilter.GaussianBlur(2))
    cells = np.asarray(work.resize((SIZE, SIZE), Image.BOX), np.float32) / 255.0
    padded = np.pad(cells, ((1, 1), (1, 1), (0, 0)), mode="edge")
    cells = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    cells = 0.25 * cells[:, :-2] + 0.5 * cells[:, 1:-1] + 0.25 * cells[:, 2:]
    return np.ascontiguousarray(cells, np.float32).reshape(-1)


def cell_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest per-cell RGB distance between signatures ``a`` (..., DIM) and ``b`` (..., DIM)."""
    diff = np.asarray(a, np.float32) - np.asarray(b, np.float32)
    diff = diff.reshape(diff.shape[:-1] + (SIZE * SIZE, 3))
    return np.sqrt(np.max(np.sum(diff * diff, axis=-1), axis=-1))


COARSE = 4  # cells per side of the coarse grid that shortlists pairs


def coarse(sigs: np.ndarray) -> np.ndarray:
    """(n, COARSE * COARSE * 3): each coarse cell is the mean of the signature cells it covers."""
    grid = np.asarray(sigs, np.float32).reshape(len(sigs), COARSE, SIZE // COARSE, COARSE, SIZE // COARSE, 3)
    return grid.mean(axis=(2, 4)).reshape(len(sigs), -1)


def coarse_bound(max_distance: float) -> float:
    """Squared distance of two coarse grids above which their photos cannot be the same picture."""
    return COARSE * COARSE * max_distance ** 2 + 1e-6


def same_photo_among(sigs: np.ndarray, coarse_sigs: np.ndarray, sig: np.ndarray, small: np.ndarray,
                     max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of the rows of ``sigs`` that are the same picture as ``sig`` (coarse grid
    ``small``); rows are shortlisted on their coarse grids (``coarse_sigs``) first, as in ``same_photo_pairs``."""
    close = np.flatnonzero(np.sum((coarse_sigs - small) ** 2, axis=1) <= coarse_bound(max_distance))
    dist = cell_distance(sigs[close], sig) if len(close) else np.zeros(0, np.float32)
    keep = dist <= max_distance
    return close[keep], dist[keep]


def same_photo_pairs(sigs: np.ndarray, max_distance: float, block: int = 2048) -> list[tuple[int, int]]:
    """Index pairs (i < j) of ``sigs`` (n, DIM) that are the same picture.

    A coarse cell's difference is the mean of the differences of the cells it covers, so it is never
    larger than their largest, and the root mean square of the coarse cells' distances never exceeds
    their largest either: pairs are shortlisted on the coarse grid (``pair_search``: 48 dimensions
    instead of 768, |a - b|^2 <= bound written as 2 a . b - |a|^2 - |b|^2 >= -bound) and then checked
    cell by cell."""
    sigs = np.asarray(sigs, np.float32)
    small = coarse(sigs)
    bound = coarse_bound(max_distance)
    a, b = candidate_pairs(small, np.sum(small * small, axis=1), -bound, block)
    return checked_pairs(a, b, lambda ra, rb: cell_distance(sigs[ra], sigs[rb]) <= max_distance)
