"""A colour descriptor fused into the image features.

ImageNet CNN features carry colour poorly; product search needs it ("this bag, but in brown").
An HSV histogram over the product's pixels (near-white background excluded) fixes that cheaply.
"""

from __future__ import annotations

import numpy as np

SAT_BINS = 3
VAL_BINS = 3


def colour_dim(hue_bins: int) -> int:
    return 0 if hue_bins <= 0 else hue_bins * SAT_BINS * VAL_BINS


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 3) float32 HSV in [0, 1)."""
    x = rgb.astype(np.float32) / 255.0
    mx, mn = x.max(-1), x.min(-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    h = np.where(mx == r, (g - b) / safe % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = np.where(delta > 0, h / 6.0, 0.0) % 1.0
    s = np.where(mx > 0, delta / np.where(mx > 0, mx, 1.0), 0.0)
    return np.stack([h, s, mx], -1).astype(np.float32)


def colour_histograms(batch: np.ndarray, hue_bins: int, step: int = 2) -> np.ndarray:
    """(n, h, w, 3) uint8 -> (n, colour_dim) float32 square-rooted histograms (Hellinger) of every
    ``step``-th pixel in each direction."""
    n = batch.shape[0]
    hsv = rgb_to_hsv(batch[:, ::step, ::step]).reshape(n, -1, 3)
    background = (hsv[..., 1] < 0.08) & (hsv[..., 2] > 0.92)
    hb = np.minimum((hsv[..., 0] * hue_bins).astype(np.int64), hue_bins - 1)
    sb = np.minimum((hsv[..., 1] * SAT_BINS).astype(np.int64), SAT_BINS - 1)
    vb = np.minimum((hsv[..., 2] * VAL_BINS).astype(np.int64), VAL_BINS - 1)
    code = (hb * SAT_BINS + sb) * VAL_BINS + vb
    dim = colour_dim(hue_bins)
    out = np.zeros((n, dim), np.float32)
    for i in range(n):
        keep = ~background[i]
        if keep.sum() < 0.02 * keep.size:  # a white product on white: use every pixel
            keep = np.ones_like(keep)
        out[i] = np.bincount(code[i][keep], minlength=dim)
    out /= np.maximum(out.sum(1, keepdims=True), 1.0)
    return np.sqrt(out)
