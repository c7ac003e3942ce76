"""The small classifier MLP both photo readers are (``type_reader.py``: look -> kind of product,
``colour_reader.py``: palette -> colour value): input -> hidden (GELU, tanh form) -> one logit a class.

Learnt with cross-entropy (label smoothing 0.1), AdamW (lr 1e-3, weight decay 1e-2), dropout 0.2,
batches of 512, on inputs standardised with the training set's own mean and spread; the standardisation
is folded into the first layer, so a reader takes raw inputs (an input constant over the training rows,
such as a palette bin no training photo has, keeps its scale: dividing by its zero spread had made the
folded weights overflow float16, so a reader learnt from 500-5,000 photos read nothing). Seeded: the same
rows and seed give the same weights, and torch's global generator is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Learnt:
    """The first layer with the standardisation folded in: (W / s) x + (b - (W / s) m) = ``w1`` x +
    ``bias_for(w1)`` (the caller rounds ``w1`` as it stores it, then takes the bias from it); the
    output layer ``w2`` x + ``b2``."""
    w1: torch.Tensor
    bias1: torch.Tensor
    mean: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor

    def bias_for(self, w1: torch.Tensor) -> torch.Tensor:
        """The first layer's folded bias for ``w1`` as the caller stores it (rounded or not)."""
        return self.bias1 - w1 @ self.mean


def learn(x: np.ndarray, y: np.ndarray | torch.Tensor, n_classes: int, hidden: int, epochs: int, seed: int) -> Learnt:
    """Fit the MLP on rows ``x`` (n, dim) with class ids ``y`` (n,)."""
    x = torch.from_numpy(np.asarray(x, np.float32))
    y = torch.as_tensor(y, dtype=torch.int64)
    mean, std = x.mean(0), x.std(0)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))  # a constant input: not scaled up (1/0 overflows float16)
    x = (x - mean) / std
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(approximate="tanh"),
                                  torch.nn.Dropout(0.2), torch.nn.Linear(hidden, n_classes))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
        with torch.enable_grad():
            for _ in range(epochs):
                net.train()
                order = torch.randperm(len(y), generator=gen)
                for start in range(0, len(y), 512):
                    batch = order[start:start + 512]
                    loss = torch.nn.functional.cross_entropy(net(x[batch]), y[batch], label_smoothing=0.1)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
    first, last = net[0], net[3]
    return Learnt((first.weight / std).detach(), first.bias.detach(), mean, last.weight.detach(), last.bias.detach())


def logits(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """(n, classes) float32 logits of raw rows ``x`` through the folded weights."""
    hidden = np.asarray(x, np.float32) @ w1.T + b1
    hidden = 0.5 * hidden * (1.0 + np.tanh(0.7978845608 * (hidden + 0.044715 * hidden ** 3)))  # GELU (tanh)
    return hidden @ w2.T + b2


def rounded(t: torch.Tensor) -> np.ndarray:
    """A weight as a bundle stores it (float16), back as float32: a fresh reader answers as it will once loaded."""
    return t.detach().numpy().astype(np.float16).astype(np.float32)
