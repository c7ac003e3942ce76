"""Reading a photo's colour as a catalogue names it: a classifier from palettes to colour values.

Colour words' prototypes (``colour_words.py``) say what a colour looks like on average in the look's
8-hue block; a query's colour word is compared with each photo by cosine. That cannot tell a catalogue's
near colours apart ("Navy Blue" from "Blue", "Grey" from "Black", "Maroon" from "Red"), which is where
fashion's "<colour> <type>" answers go wrong most (``docs/eval/experiments/type_colour_breakdown.txt``).
The reader is a multinomial logistic regression from a photo's palette (24 hues x 3 x 3,
``palette.py``) to the catalogue's colour values, learned from the training catalogue's photos with
one stated colour (the same photos as the prototypes). For a query naming colours, a candidate photo
scores the mean over the named colours of its log-probability, floored at ``FLOOR`` and mapped to
[0, 1] (part ``colour_class``, ``rerank.rescore``). Found with
``docs/eval/experiments/colour_palette_probe.py``: on fashion "<colour> <type>" photos-only P@10 0.451 ->
0.466 (a reader on palettes alone; the look's blocks as well gave 0.472, but tie the reader to one
catalogue's statistics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

FLOOR = -10.0  # log-probabilities below this count as this (a colour the photo certainly is not)
L2 = 1e-4  # weight decay of the fit (probe: 1e-4 and 1e-5 alike)


@dataclass
class ColourReader:
    names: list[str]  # the colour values it tells apart ("navy blue")
    weight: np.ndarray  # (len(names), palette dim) float32
    bias: np.ndarray  # (len(names),) float32
    stored: dict | None = field(default=None, repr=False, compare=False)  # float16 tensors as loaded

    def __post_init__(self) -> None:
        self._index = {n: i for i, n in enumerate(self.names)}

    @property
    def dim(self) -> int:
        """The palette size it reads (``palette.DIM`` when it was fitted)."""
        return int(self.weight.shape[1])

    def knows(self, names: Sequence[str]) -> list[int]:
        """The reader's class ids of those ``names`` it tells apart."""
        return [self._index[n] for n in names if n in self._index]

    def read(self, palettes: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """(n,) in [0, 1]: mean over the classes ``ids`` of max(log p(class | palette), FLOOR) / -FLOOR + 1."""
        logits = np.asarray(palettes, np.float32) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return (np.maximum(log_p[:, list(ids)], FLOOR).mean(axis=1) / -FLOOR + 1.0).astype(np.float32)

    def tensors(self) -> dict[str, torch.Tensor]:
        if self.stored is not None:
            return dict(self.stored)
        return {"reader_weight": torch.from_numpy(np.ascontiguousarray(self.weight.astype(np.float16))),
                "reader_bias": torch.from_numpy(np.ascontiguousarray(self.bias.astype(np.float16)))}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], names: list[str]) -> "ColourReader":
        stored = {k: tensors[k] for k in ("reader_weight", "reader_bias")}
        return cls(list(names), tensors["reader_weight"].float().numpy(), tensors["reader_bias"].float().numpy(),
                   stored=stored)


def learn_reader(names: list[str], labels: np.ndarray, palettes: np.ndarray, max_iter: int = 200) -> ColourReader:
    """Fit the reader: ``labels[i]`` is photo i's index into ``names`` (-1: not a training photo),
    ``palettes`` (n, dim) their palettes. Full-batch L-BFGS from zero weights: no randomness, the same
    photos give the same reader. Its weights are rounded to float16, as a bundle stores them, so a
    freshly trained bundle answers as it will when loaded."""
    keep = np.asarray(labels) >= 0
    x = torch.from_numpy(np.asarray(palettes, np.float32)[keep])
    y = torch.from_numpy(np.asarray(labels, np.int64)[keep])
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
    as_stored = lambda t: t.detach().numpy().astype(np.float16).astype(np.float32)  # noqa: E731
    return ColourReader(list(names), as_stored(weight), as_stored(bias))  # reads as it will once saved
