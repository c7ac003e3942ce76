"""The catalogue bridge: a product catalogue as a zero-shot vocabulary from words to photos.

The ImageNet bridge (``bridge.py``) mixes 1,000 class names. Here the "classes" are products of a broad
catalogue (the default bundle's training products): each carries its title in the text tower's own
space and its photo's standardised CNN features. A text query takes its ``k`` nearest titles
(softmax weights, ``temperature``) and mixes their photos' features into a visual prototype; a catalogue
photo is compared with it by cosine in the same CNN space. Nothing is trained, so product types no head
has seen still land near photos of their kind.

The vocabulary's photos are small (fashion's are 60 x 80 px), so catalogue photos are shrunk to at most
``side`` px before the tower for this channel (at full size the same prototypes find far less:
``docs/eval/experiments/prototype_bridge.txt``). The image side is reduced to ``dim`` dimensions by an
orthonormal PCA basis, and both sides are stored as int8 with a scale per row, to keep the bundle small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from .unit import unit

SIDE = 112  # catalogue photos are shrunk to at most this many pixels a side for this channel
K = 50  # nearest vocabulary titles mixed into a query's prototype
TEMPERATURE = 0.05  # softmax temperature over those titles' cosines


@dataclass
class Prototypes:
    text: np.ndarray  # (m, text_dim) unit: the vocabulary titles in the text tower's space
    image: np.ndarray  # (m, dim) unit: their photos' standardised tower features, projected
    mean: np.ndarray  # (feature_dim,) statistics that standardise tower features (CNN [+ colour])
    std: np.ndarray
    basis: np.ndarray  # (feature_dim, dim) orthonormal columns
    side: int = SIDE
    k: int = K
    temperature: float = TEMPERATURE
    stored: dict | None = field(default=None, repr=False, compare=False)  # the tensors as loaded from a bundle

    @property
    def dim(self) -> int:
        return self.image.shape[1]

    def query(self, text_vec: np.ndarray) -> np.ndarray:
        """(dim,) unit prototype for a query's text-tower vector."""
        sims = self.text @ unit(np.asarray(text_vec, np.float32))
        k = min(self.k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        weights = np.exp((sims[top] - sims[top].max()) / self.temperature)
        return unit(weights @ self.image[top])

    def photos(self, feats: np.ndarray) -> np.ndarray:
        """(n, dim) unit vectors for tower features of photos shrunk to ``side`` (the vocabulary's
        leading ``len(mean)`` feature dimensions are used)."""
        feats = np.asarray(feats, np.float32)[:, :len(self.mean)]
        return unit(((feats - self.mean) / self.std) @ self.basis)

    def meta(self) -> dict:
        return {"side": self.side, "k": self.k, "temperature": self.temperature, "size": len(self.text),
                "dim": self.dim}

    def tensors(self) -> dict[str, torch.Tensor]:
        """int8 rows with a float32 scale each (about a quarter of float32), statistics in float32; a
        vocabulary loaded from a bundle gives back the tensors it was loaded from, so saving it again and
        its fingerprint reproduce the file exactly."""
        if self.stored is not None:
            return dict(self.stored)
        out = {"mean": self.mean.astype(np.float32), "std": self.std.astype(np.float32),
               "basis": self.basis.astype(np.float16)}
        for name in ("text", "image"):
            out[name], out[f"{name}_scale"] = _quantise(getattr(self, name))
        return {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in out.items()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], meta: dict) -> "Prototypes":
        arrays = {name: t.float().numpy() if name not in ("text", "image") else t.numpy()
                  for name, t in tensors.items()}
        return cls(text=unit(arrays["text"].astype(np.float32) * arrays["text_scale"][:, None]),
                   image=unit(arrays["image"].astype(np.float32) * arrays["image_scale"][:, None]),
                   mean=arrays["mean"], std=arrays["std"], basis=arrays["basis"].astype(np.float32),
                   side=int(meta.get("side", SIDE)), k=int(meta.get("k", K)),
                   temperature=float(meta.get("temperature", TEMPERATURE)), stored=dict(tensors))

    def fingerprint_bytes(self) -> bytes:
        return b"".join(t.numpy().tobytes() for _, t in sorted(self.tensors().items())) + repr(self.meta()).encode()


def _quantise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.maximum(np.abs(x).max(axis=1), 1e-12) / 127.0
    return np.round(x / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def build_prototypes(text_vecs: np.ndarray, backbone_feats: np.ndarray, size: int = 8000, dim: int = 128,
                     seed: int = 0, centroids: bool = True, **meta) -> Prototypes:
    """A vocabulary of at most ``size`` entries from the given titles' text-tower vectors and their
    photos' CNN features (photos already at most ``side`` px); statistics and the PCA basis come from all
    of them (the basis from a sample of 4,096). With ``centroids`` (more products than ``size``) an entry
    is a k-means cluster of titles: its mean title and its products' mean photo features, so every
    product counts; otherwise ``size`` products drawn at random. At 6,000 entries from 44,072 fashion
    products centroids gave luma names -> photos R@10 0.39 against 0.35 for a random draw (3 seeds each;
    all 44,072 0.43; ``docs/eval/experiments/vocabulary_compression.*``)."""
    feats = np.asarray(backbone_feats, np.float32)
    text = unit(np.asarray(text_vecs, np.float32))
    mean, std = feats.mean(axis=0), feats.std(axis=0) + 1e-6
    standard = (feats - mean) / std
    rng = np.random.default_rng(seed)
    sample = standard[rng.choice(len(standard), min(len(standard), 4096), replace=False)]
    dim = min(dim, sample.shape[0], sample.shape[1])
    basis = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)[2][:dim].T.astype(np.float32)
    if centroids and len(feats) > size:
        text, standard = _title_clusters(text, standard, size, seed)
    elif len(feats) > size:
        chosen = np.sort(rng.choice(len(feats), size, replace=False))
        text, standard = text[chosen], standard[chosen]
    return Prototypes(text=unit(text), image=unit(standard @ basis), mean=mean, std=std, basis=basis, **meta)


def _title_clusters(text: np.ndarray, standard: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean title vector, mean standardised photo features) of each of ``size`` spherical k-means
    clusters of the titles (empty clusters dropped)."""
    import faiss

    km = faiss.Kmeans(text.shape[1], size, niter=20, seed=seed, spherical=True, verbose=False,
                      min_points_per_centroid=1)
    km.train(text)
    assign = km.index.search(text, 1)[1][:, 0]
    counts = np.bincount(assign, minlength=size)
    sums_text = np.zeros((size, text.shape[1]), np.float32)
    sums_image = np.zeros((size, standard.shape[1]), np.float32)
    np.add.at(sums_text, assign, text)
    np.add.at(sums_image, assign, standard)
    keep = counts > 0
    return sums_text[keep], sums_image[keep] / counts[keep, None]


def vocabulary_of(products, embedder, size: int = 6000, dim: int = 128, seed: int = 0, side: int = SIDE,
                  colour: bool = True) -> Prototypes:
    """The vocabulary of a catalogue: each product's title (text tower, passage role) and first photo
    (tower features at most ``side`` px: the CNN block, and the colour histogram with ``colour``)
    through ``build_prototypes`` (``size`` title clusters)."""
    items = [p for p in products if p.images and p.title]
    texts = embedder.text_features([p.title for p in items], "passage")
    feats = embedder.shrunk_features([p.images[0] for p in items], side, progress=True)
    if not colour:
        feats = feats[:, :embedder.image_tower.backbone_dim]
    return build_prototypes(texts, feats, size=size, dim=dim, seed=seed, side=side)


def shrink(img: Image.Image, side: int) -> Image.Image:
    """``img`` scaled down so its longer side is at most ``side`` px (never enlarged)."""
    if max(img.size) <= side:
        return img
    s = side / max(img.size)
    return img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BICUBIC)
