"""Vector indexes: one ``VectorIndex`` over FAISS (CPU or GPU) with an exact reference path."""

from .vectors import VectorIndex, exact_topk

__all__ = ["VectorIndex", "exact_topk"]
