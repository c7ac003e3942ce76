"""Reading a photo's colour as a catalogue names it: a classifier from palettes to colour values.

Colour words' prototypes (``colour_words.py``) say what a colour looks like on average in the look's
8-hue block; a query's colour word is compared with each photo by cosine. That cannot tell a catalogue's
near colours apart ("Navy Blue" from "Blue", "Grey" from "Black", "Maroon" from "Red"), which is where
fashion's "<colour> <type>" answers go wrong most (``docs/eval/experiments/type_colour_breakdown.txt``).
The reader maps a photo's palette (24 hues x 3 x 3, ``palette.py``) to the catalogue's colour values,
learned from the training catalogue's photos with one stated colour (the same photos as the
prototypes). For a query naming colours, a candidate photo scores the mean over the named colours of its
log-probability, floored at ``FLOOR`` and mapped to [0, 1] (part ``colour_class``, ``rerank.rescore``).

- Learned from fewer than ``MLP_MIN_PHOTOS`` photos (a shop's own training) it is a multinomial logistic
  regression. Found with ``docs/eval/experiments/colour_palette_probe.py``: on fashion "<colour> <type>"
  photos-only P@10 0.451 -> 0.466 (palettes alone; the look's blocks as well gave 0.472, but tie the reader
  to one catalogue's statistics).
- From more, a small MLP (palette -> ``HIDDEN`` -> colours, like the type reader): on fashion's 42,068
  training photos it reads the held-out gallery's colour right 0.590 of the time (the regression 0.549),
  and "<colour> <type>" photos-only P@10 goes 0.502 -> 0.512 at the engine's weight
  (``docs/eval/experiments/colour_reader_mlp_probe.*``; on look + palette it read 0.640 but ranked no
  better). Run over every candidate per query it would cost what the type reader's first form did, so an
  index keeps each photo's log-probabilities (channel "shade", ``log_probabilities``, for either form) and
  a query only scores them (``scores``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from . import small_mlp

FLOOR = -10.0  # log-probabilities below this count as this (a colour the photo certainly is not)
L2 = 1e-4  # weight decay of the regression (probe: 1e-4 and 1e-5 alike)
MLP_MIN_PHOTOS = 5000  # fewer labelled photos: the regression (colour_reader_size_probe.*: MLP ties at 2,500, leads from 5,000)
HIDDEN = 512  # the MLP's hidden width (probe: 1024 read as well, ranked no better)
EPOCHS = 15


@dataclass
class ColourReader:
    names: list[str]  # the colour values it tells apart ("navy blue")
    weight: np.ndarray  # (len(names), palette dim, or HIDDEN for the MLP) float32: the output layer
    bias: np.ndarray  # (len(names),) float32
    stored: dict | None = field(default=None, repr=False, compare=False)  # float16 tensors as loaded
    w1: np.ndarray | None = None  # (HIDDEN, palette dim): the MLP's hidden layer (None: the regression)
    b1: np.ndarray | None = None  # (HIDDEN,)

    def __post_init__(self) -> None:
        self._index = {n: i for i, n in enumerate(self.names)}

    @property
    def dim(self) -> int:
        """The palette size it reads (``palette.DIM`` when it was fitted)."""
        return int((self.w1 if self.w1 is not None else self.weight).shape[1])

    def knows(self, names: Sequence[str]) -> list[int]:
        """The reader's class ids of those ``names`` it tells apart."""
        return [self._index[n] for n in names if n in self._index]

    def log_probabilities(self, palettes: np.ndarray) -> np.ndarray:
        """(n, len(names)) float32: each palette's log-probability of each colour (an index keeps them per
        photo, channel "shade")."""
        if self.w1 is not None:
            logits = small_mlp.logits(palettes, self.w1, self.b1, self.weight, self.bias)
        else:
            logits = np.asarray(palettes, np.float32) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)

    def read(self, palettes: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """(n,) in [0, 1]: ``scores`` of the palettes' log-probabilities for the classes ``ids``."""
        return scores(self.log_probabilities(palettes), ids)

    def tensors(self) -> dict[str, torch.Tensor]:
        if self.stored is not None:
            return dict(self.stored)
        half = lambda a: torch.from_numpy(np.ascontiguousarray(a.astype(np.float16)))  # noqa: E731
        hidden = {"reader_w1": half(self.w1), "reader_b1": half(self.b1)} if self.w1 is not None else {}
        return {"reader_weight": half(self.weight), "reader_bias": half(self.bias), **hidden}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], names: list[str]) -> "ColourReader":
        stored = {k: tensors[k] for k in ("reader_weight", "reader_bias", "reader_w1", "reader_b1") if k in tensors}
        w1, b1 = (stored[k].float().numpy() if k in stored else None for k in ("reader_w1", "reader_b1"))
        return cls(list(names), stored["reader_weight"].float().numpy(), stored["reader_bias"].float().numpy(),
                   stored=stored, w1=w1, b1=b1)


def scores(log_p: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """(n,) in [0, 1]: mean over the classes ``ids`` of max(log p(class | palette), FLOOR) / -FLOOR + 1."""
    picked = np.maximum(np.asarray(log_p, np.float32)[:, list(ids)], FLOOR)
    return (picked.mean(axis=1) / -FLOOR + 1.0).astype(np.float32)


def learn_reader(names: list[str], labels: np.ndarray, palettes: np.ndarray, max_iter: int = 200,
                 seed: int = 0) -> ColourReader:
    """Fit the reader: ``labels[i]`` is photo i's index into ``names`` (-1: not a training photo),
    ``palettes`` (n, dim) their palettes; the MLP (seeded) from ``MLP_MIN_PHOTOS`` labelled photos on, else
    the regression. Weights rounded to float16 as a bundle stores them, so a freshly trained bundle
    answers as it will when loaded."""
    if int((np.asarray(labels) >= 0).sum()) >= MLP_MIN_PHOTOS:
        return _learn_mlp(names, labels, palettes, seed)
    return _learn_regression(names, labels, palettes, max_iter)


def _training_set(labels: np.ndarray, palettes: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    keep = np.asarray(labels) >= 0
    return (torch.from_numpy(np.asarray(palettes, np.float32)[keep]),
            torch.from_numpy(np.asarray(labels, np.int64)[keep]))


def _learn_regression(names: list[str], labels: np.ndarray, palettes: np.ndarray, max_iter: int) -> ColourReader:
    """Full-batch L-BFGS from zero weights: no randomness, the same photos give the same reader."""
    x, y = _training_set(labels, palettes)
    weight = torch.zeros(len(names), x.shape[1], requires_grad=True)
    bias = torch.zeros(len(names), requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        opt.zero_grad()
        value = torch.nn.functional.cross_entropy(x @ weight.T + bias, y) + L2 * weight.square().sum()
        value.backward()
        return value

    with torch.enable_grad():
        opt.step(loss)
    return ColourReader(list(names), small_mlp.rounded(weight), small_mlp.rounded(bias))


def _learn_mlp(names: list[str], labels: np.ndarray, palettes: np.ndarray, seed: int) -> ColourReader:
    """palette -> HIDDEN -> colours (``small_mlp``); the hidden layer's bias taken from its rounded weights."""
    x, y = _training_set(labels, palettes)
    net = small_mlp.learn(x.numpy(), y, len(names), HIDDEN, EPOCHS, seed)
    w1 = torch.from_numpy(small_mlp.rounded(net.w1))
    return ColourReader(list(names), small_mlp.rounded(net.w2), small_mlp.rounded(net.b2), w1=w1.numpy(),
                        b1=small_mlp.rounded(net.bias_for(w1)))
