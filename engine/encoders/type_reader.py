"""Reading a photo's kind of product as the training catalogue names it: a classifier from look vectors
to category leaves ("Heels", "Tops", "Casual Shoes").

The shared space reads "Black Heels" and a photo of flats as close: both are black shoes for women, and
its contrastive training never asked it to tell the catalogue's neighbouring kinds apart. Fashion's
"<colour> <type>" answers miss the type in a quarter of their top 10 (Tops for Tshirts, Flats for Heels,
Casual for Sports Shoes: ``docs/eval/experiments/type_colour_breakdown.*``). The reader is a small MLP
(look -> ``HIDDEN`` -> one class per category leaf with at least ``MIN_PHOTOS`` photos) learnt with
cross-entropy from the training catalogue's photos, their looks standardised with that catalogue's own
statistics as an index standardises its own (``embedder.look_statistics``). A text query that names one of
its classes ("black heels", "heel" for "Heels") scores each candidate photo by the class probability
times the share of the query's words that name kinds or colours (part ``type_class``, ``rerank.rescore``):
a query that only names a kind wants that kind, while a whole title's other words single out one
product, which the reader must not outweigh. An index keeps each photo's probabilities (channel "kind",
4 bytes a kind: 412 B a photo for fashion's 103), computed from its look when it is embedded; running the
MLP over every candidate at query time had cost 100 ms a query on a 2,000-product catalogue. Found with ``docs/eval/experiments/type_reader_mlp_probe.py`` (held-out gallery top-1 0.863;
the fifteenth session's logistic regression on unstandardised looks, ``type_reader_probe.*``, read 0.73 right
and was not kept); its weight and trust in ``engine/trust.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from . import small_mlp

HIDDEN = 512  # the MLP's hidden width
MIN_PHOTOS = 10  # a category leaf with fewer training photos gets no class
EPOCHS = 15
WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
LINKS = frozenset("a an and at below by for from in of on or over than the to under up with".split())  # not counted


def _singular(word: str) -> str:
    """"heels" -> "heel", "dresses" -> "dress", "watches" -> "watch", "accessories" -> "accessory"; "dress"
    stays "dress"."""
    for tail, cut, add in (("ies", 3, "y"), ("sses", 2, ""), ("ches", 2, ""), ("shes", 2, ""), ("xes", 2, ""),
                           ("ss", 0, ""), ("s", 1, "")):
        if word.endswith(tail) and len(word) > len(tail) + 1:
            return word[: len(word) - cut] + add
    return word


def _words(text: str) -> tuple[str, ...]:
    return tuple(_singular(w) for w in WORD.findall(text.lower()))


@dataclass
class TypeReader:
    names: list[str]  # the category leaves it tells apart ("Casual Shoes")
    w1: np.ndarray  # (HIDDEN, look dim) float32
    b1: np.ndarray  # (HIDDEN,)
    w2: np.ndarray  # (len(names), HIDDEN)
    b2: np.ndarray  # (len(names),)
    colour_weight: float | None  # the looks' colour-block weight it was trained with (IndexConfig.look_colour_weight)
    stored: dict | None = field(default=None, repr=False, compare=False)  # the tensors as loaded (int8 first layer)

    def __post_init__(self) -> None:
        self._phrases = sorted(((_words(n), i) for i, n in enumerate(self.names)), key=lambda p: -len(p[0]))

    @property
    def dim(self) -> int:
        """The look-vector size it reads."""
        return int(self.w1.shape[1])

    def knows(self, text: str) -> list[int]:
        """The class ids whose names the text says, whole words, plural or singular ("heel" and "heels"
        for "Heels", "casual shoe" for "Casual Shoes"); a longer name wins over one inside it
        ("Sports Shoes" before "Shoes")."""
        return self._said(_words(text))[0]

    def share(self, text: str, colour_phrases: Sequence[str] = ()) -> tuple[list[int], float]:
        """(``knows(text)``, the share of the text's words that name those kinds or the ``colour_phrases``):
        1 for "black heels under 300" (numbers and linking words do not count), 2/7 for a whole title
        such as "Mother Earth Women Aug Bagru Red Kurtas", whose other words single out one product."""
        words = tuple(w for w in _words(text) if w not in LINKS)
        ids, used = self._said(words)
        colour = {w for phrase in colour_phrases for w in _words(phrase)}
        covered = len(used | {i for i, w in enumerate(words) if w in colour})
        return ids, covered / len(words) if words else 0.0

    def _said(self, words: tuple[str, ...]) -> tuple[list[int], set[int]]:
        found, used = [], set()
        for phrase, cls in self._phrases:
            n = len(phrase)
            for start in range(len(words) - n + 1):
                span = set(range(start, start + n))
                if words[start:start + n] == phrase and not span & used:
                    found.append(cls)
                    used |= span
                    break
        return found, used

    def reads(self, look_dim: int, colour_weight: float | None) -> bool:
        """Whether it reads looks of that size joined with that colour-block weight (as it was trained)."""
        return look_dim == self.dim and colour_weight == self.colour_weight

    def probabilities(self, looks: np.ndarray) -> np.ndarray:
        """(n, len(names)) float32: each look's probability of each kind. An index keeps them per photo
        (channel "kind"): the MLP costs 0.7 MFLOP a photo, too much to run over a whole catalogue per query."""
        logits = small_mlp.logits(looks, self.w1, self.b1, self.w2, self.b2)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def read(self, looks: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """(n,) in [0, 1]: the probability that each look shows one of the classes ``ids`` (``chance``)."""
        return chance(self.probabilities(looks), ids)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The first layer as int8 rows with a float32 scale each (0.7 MB for the fashion reader instead of
        1.4 in float16), the rest float16."""
        if self.stored is not None:
            return dict(self.stored)
        half = lambda a: torch.from_numpy(np.ascontiguousarray(a.astype(np.float16)))  # noqa: E731
        w1, scale = _quantise(self.w1)
        return {"w1": torch.from_numpy(w1), "w1_scale": torch.from_numpy(scale), "b1": half(self.b1),
                "w2": half(self.w2), "b2": half(self.b2)}

    def meta(self) -> dict:
        return {"names": list(self.names), "colour_weight": self.colour_weight}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], meta: dict) -> "TypeReader":
        stored = {k: tensors[k] for k in ("w1", "w1_scale", "b1", "w2", "b2")}
        w1 = tensors["w1"].numpy().astype(np.float32) * tensors["w1_scale"].numpy()[:, None]
        return cls(list(meta["names"]), w1, *(tensors[k].float().numpy() for k in ("b1", "w2", "b2")),
                   colour_weight=meta.get("colour_weight"), stored=stored)

    def fingerprint_bytes(self) -> bytes:
        return b"".join(t.numpy().tobytes() for t in self.tensors().values()) + "|".join(self.names).encode()


def chance(probabilities: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """(n,): the probability of any of the classes ``ids``, from kind probabilities (n, classes) as
    ``TypeReader.probabilities`` gives them and an index keeps them (channel "kind")."""
    return np.asarray(probabilities)[:, list(ids)].sum(axis=1)


def _quantise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and a float32 scale a row."""
    scale = (np.maximum(np.abs(x).max(axis=1), 1e-12) / 127.0).astype(np.float32)
    return np.round(x / scale[:, None]).astype(np.int8), scale


def _as_int8(x: np.ndarray) -> np.ndarray:
    q, scale = _quantise(x)
    return q.astype(np.float32) * scale[:, None]


def learn_type_reader(leaves: Sequence[str], looks: np.ndarray, colour_weight: float | None, seed: int = 0,
                      epochs: int = EPOCHS) -> TypeReader | None:
    """Fit the reader on photos' ``looks`` (n, dim) and their products' category ``leaves`` (n; "" for none).
    Seeded (the same photos give the same reader); weights rounded as a bundle stores them (``tensors``).
    None when fewer than two leaves have ``MIN_PHOTOS`` photos."""
    counts = Counter(leaf for leaf in leaves if leaf)
    names = sorted(leaf for leaf, n in counts.items() if n >= MIN_PHOTOS)
    if len(names) < 2:
        return None
    cls = {n: i for i, n in enumerate(names)}
    keep = np.asarray([leaf in cls for leaf in leaves])
    y = torch.tensor([cls[leaf] for leaf in leaves if leaf in cls])
    net = small_mlp.learn(np.asarray(looks, np.float32)[keep], y, len(names), HIDDEN, epochs, seed)
    rounded = small_mlp.rounded
    return TypeReader(names, _as_int8(net.w1.numpy()), rounded(net.bias_for(net.w1)), rounded(net.w2),
                      rounded(net.b2), colour_weight)


def type_reader_of(products: Sequence, embedder, colour_weight: float | None, seed: int = 0) -> TypeReader | None:
    """A reader learnt from ``products``' first photos (tower features from the feature cache when it has
    them) and their category leaves, the looks standardised with these photos' own statistics and joined
    with ``colour_weight`` as an index with that ``IndexConfig.look_colour_weight`` would; None when too
    few products have a photo and a category."""
    from .embedder import look_statistics

    items = [(p.category.rsplit("/", 1)[-1], p.images[0]) for p in products if p.images and p.category]
    if not items:
        return None
    feats = embedder.image_features([path for _, path in items])
    head = embedder.bundle.heads.image
    kept = embedder.look_stats, embedder.look_colour_weight
    try:
        embedder.look_stats = look_statistics(feats, (head.mean.numpy(), head.std.numpy()))
        embedder.look_colour_weight = colour_weight
        looks = embedder.looks(feats)
    finally:
        embedder.look_stats, embedder.look_colour_weight = kept
    return learn_type_reader([leaf for leaf, _ in items], looks, colour_weight, seed=seed)
