"""The photo-feature statistics (mean, std) an index standardises its look vectors with: the catalogue's own.

``look_statistics`` takes every photo's tower features at once; ``FeatureMoments`` gathers the same figures a
block of photos at a time (a full build reads the features of a large catalogue in blocks, never all at once).
"""

from __future__ import annotations

import numpy as np

MIN_PHOTOS_FOR_LOOK_STATS = 100
MIN_STD = 1e-3  # features that barely vary are divided by this, not by their near-zero spread


def look_statistics(feats: np.ndarray, fallback: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) that standardise a catalogue's photo features for its look vectors: the
    catalogue's own, or ``fallback`` (the bundle's training statistics) below
    ``MIN_PHOTOS_FOR_LOOK_STATS`` photos. Standardising with the shop's own statistics took luma
    photo -> product recall@1 from 0.506 (fashion statistics) to 0.693. Saved with the index, so its
    looks and its queries' looks always agree."""
    if len(feats) >= MIN_PHOTOS_FOR_LOOK_STATS:
        mean, std = feats.mean(0), np.maximum(feats.std(0), MIN_STD)
    else:
        mean, std = fallback
    return np.array(mean, dtype=np.float32), np.array(std, dtype=np.float32)


class FeatureMoments:
    """Mean and (population) standard deviation of feature rows added a block at a time: each block's own
    mean and sum of squared deviations, combined pairwise (Chan et al.), in float64, so the figures match
    ``look_statistics`` over all rows at once to float32 precision whatever the block sizes."""

    def __init__(self, dim: int):
        self.n = 0
        self.mean = np.zeros(dim, np.float64)
        self.m2 = np.zeros(dim, np.float64)  # sum of squared deviations from the mean

    def add(self, block: np.ndarray) -> None:
        if not len(block):
            return
        block = np.asarray(block, np.float64)
        nb, mean_b = len(block), block.mean(0)
        m2_b = ((block - mean_b) ** 2).sum(0)
        n = self.n + nb
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2_b + delta ** 2 * (self.n * nb / n)
        self.n = n

    def statistics(self, fallback: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``look_statistics`` of every row added."""
        if self.n >= MIN_PHOTOS_FOR_LOOK_STATS:
            mean, std = self.mean, np.maximum(np.sqrt(self.m2 / self.n), MIN_STD)
        else:
            mean, std = fallback
        return np.array(mean, dtype=np.float32), np.array(std, dtype=np.float32)
