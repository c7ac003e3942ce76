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


class HeadSets(nn.Module):
    """Several trained ``SharedSpace`` head sets used side by side as one space: a vector is the join of
    each set's unit vector divided by sqrt(k), so it is unit length and the cosine of two vectors is the
    mean of the sets' cosines (an ensemble of k models in one index, ``k * dim`` wide). The first set
    supplies the input statistics the look vectors fall back on (``.image`` / ``.text``)."""

    def __init__(self, members: list[SharedSpace]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("HeadSets needs at least two head sets; use the SharedSpace itself for one")
        self.members = nn.ModuleList(members)

    @property
    def image(self) -> ProjectionHead:
        return self.members[0].image

    @property
    def text(self) -> ProjectionHead:
        return self.members[0].text

    def project_images(self, feats: np.ndarray) -> np.ndarray:
        return self._join([m.project_images(feats) for m in self.members])

    def project_texts(self, feats: np.ndarray) -> np.ndarray:
        return self._join([m.project_texts(feats) for m in self.members])

    def _join(self, parts: list[np.ndarray]) -> np.ndarray:
        return (np.hstack(parts) / np.sqrt(len(parts))).astype(np.float32)


def head_sets(members: list[SharedSpace]) -> SharedSpace | HeadSets:
    """One set as itself (so its state and a bundle's fingerprint stay as they were), several joined."""
    return members[0] if len(members) == 1 else HeadSets(members)


def members_of(heads: SharedSpace | HeadSets) -> list[SharedSpace]:
    return list(heads.members) if isinstance(heads, HeadSets) else [heads]


def n_head_sets(heads: SharedSpace | HeadSets) -> int:
    return len(members_of(heads))
