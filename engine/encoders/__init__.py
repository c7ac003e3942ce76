"""Frozen towers, projection heads and the model bundle.

``build_image_tower`` / ``build_text_tower`` turn a spec (data, see ``engine.config``) into a tower.
Towers return float32 feature arrays; the heads map them into the shared space and are the one
place where vectors are L2-normalised.
"""

from __future__ import annotations

from ..config import ImageTowerSpec, TextTowerSpec
from ..errors import UnknownComponentError


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise UnknownComponentError("device", device, ["auto", "cpu", "cuda"])
    return device


def build_image_tower(spec: ImageTowerSpec, device: str = "auto"):
    from .image import IMAGE_TOWERS

    if spec.kind not in IMAGE_TOWERS:
        raise UnknownComponentError("image tower kind", spec.kind, IMAGE_TOWERS)
    return IMAGE_TOWERS[spec.kind](spec, resolve_device(device))


def build_text_tower(spec: TextTowerSpec, device: str = "auto"):
    from .text import TEXT_TOWERS

    if spec.kind not in TEXT_TOWERS:
        raise UnknownComponentError("text tower kind", spec.kind, TEXT_TOWERS)
    return TEXT_TOWERS[spec.kind](spec, resolve_device(device))
