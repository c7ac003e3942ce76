"""Projection heads: tower features -> the shared space (unit-norm float32).

Each head standardises its input with statistics measured on the training features, then applies a
linear map (plus a residual MLP for ``head="mlp"``), then L2-normalises: the one place where
shared-space vectors are normalised.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config import SpaceConfig


class ProjectionHead(nn.Module):
    """(n, d_in) features -> (n, dim) unit vectors."""

    def __init__(self, d_in: int, space: SpaceConfig):
        super().__init__()
        self.register_buffer("mean", torch.zeros(d_in))
        self.register_buffer("std", torch.ones(d_in))
        self.linear = nn.Linear(d_in, space.dim)
        self.mlp = None
        if space.head == "mlp":
            self.mlp = nn.Sequential(nn.Linear(d_in, space.hidden), nn.GELU(), nn.Dropout(0.1),
                                     nn.Linear(space.hidden, space.dim))
        elif space.head != "linear":
            raise ValueError(f"unknown head {space.head!r}; choose 'linear' or 'mlp'")

    def set_stats(self, feats: np.ndarray) -> None:
        x = torch.from_numpy(np.asarray(feats, np.float32))
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std
        out = self.linear(z)
        if self.mlp is not None:
            out = out + self.mlp(z)
        return F.normalize(out, dim=-1)


class SharedSpace(nn.Module):
    """The two heads and the contrastive temperature, saved together in a bundle."""

    def __init__(self, image_dim: int, text_dim: int, space: SpaceConfig):
        super().__init__()
        self.image = ProjectionHead(image_dim, space)
        self.text = ProjectionHead(text_dim, space)
        self.logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))

    @torch.inference_mode()
    def project_images(self, feats: np.ndarray) -> np.ndarray:
        return self._project(self.image, feats)

    @torch.inference_mode()
    def project_texts(self, feats: np.ndarray) -> np.ndarray:
        return self._project(self.text, feats)

    def _project(self, head: ProjectionHead, feats: np.ndarray) -> np.ndarray:
        was_training = self.training
        self.eval()
        out = head(torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))).numpy()
        self.train(was_training)
        return out.astype(np.float32)
