"""Unit-length rows: the one L2 normalisation the vocabularies (catalogue bridge, colour words) share."""

from __future__ import annotations

import numpy as np


def unit(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to unit L2 norm along its last axis (zero rows stay zero), as float32."""
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)
