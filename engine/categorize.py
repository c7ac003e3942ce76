"""Category from the photo: predict a catalogue category path for a product or a query photo.

A photo is compared with the shop's own categories in the shared space in two ways: with their
names (through the text head) and with their products (a similarity-weighted vote of the k nearest
photos whose category was given, not predicted). Scores are
``name_weight * cos(photo, name) + (1 - name_weight) * vote share``. Used to fill missing categories
at import (marked as predicted, never overwriting a given one), as a soft preference in fusion, and
returned with photo searches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index.product_index import ProductIndex


@dataclass(frozen=True)
class CategoryModel:
    paths: list[str]  # category paths, one per row of ``names``
    names: np.ndarray  # (c, dim) unit text-head vectors of the category names
    photos: np.ndarray  # (m, dim) shared-space vectors of photos with a given category
    photo_category: np.ndarray  # (m,) index into ``paths``
    photo_owner: np.ndarray  # (m,) product row, so a product never votes for itself
    name_weight: float = 0.3
    k: int = 10

    def scores(self, photo_vecs: np.ndarray, exclude_rows: np.ndarray | None = None) -> np.ndarray:
        """(n, dim) unit shared-space photo vectors -> (n, c) category scores."""
        q = np.atleast_2d(photo_vecs)
        votes = np.zeros((len(q), len(self.paths)), np.float32)
        if len(self.photos):
            sims = q @ self.photos.T
            if exclude_rows is not None:
                sims[self.photo_owner[None, :] == np.asarray(exclude_rows)[:, None]] = -np.inf
            k = min(self.k, sims.shape[1])
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            for i, row in enumerate(top):
                w = np.maximum(sims[i, row], 0)
                np.add.at(votes[i], self.photo_category[row], w)
            votes /= np.maximum(votes.sum(1, keepdims=True), 1e-12)
        return self.name_weight * (q @ self.names.T) + (1 - self.name_weight) * votes

    def predict(self, photo_vecs: np.ndarray, top: int = 3, exclude_rows=None) -> list[list[tuple[str, float]]]:
        s = self.scores(photo_vecs, exclude_rows)
        order = np.argsort(-s, axis=1)[:, :top]
        return [[(self.paths[j], float(s[i, j])) for j in row] for i, row in enumerate(order)]


def category_words(path: str) -> str:
    """'Women/Tops/Hoodies & Sweatshirts' -> 'hoodies & sweatshirts, tops, women' (leaf first)."""
    return ", ".join(p.strip().lower() for p in reversed(path.split("/")) if p.strip())


def build_category_model(index: ProductIndex, embed_texts, name_weight: float = 0.3) -> CategoryModel | None:
    """From the index's live products with a given category; None when the shop has none."""
    table = index.table
    paths = [p for p in table.categories if p]
    if not paths:
        return None
    column = {c: paths.index(p) for c, p in enumerate(table.categories) if p}
    named = np.asarray(list(column), np.int32)
    given = table.alive & np.isin(table.category_code, named) & ~table.predicted
    photos = index.photos
    live = np.flatnonzero(photos.alive & given[photos.owner])
    owners = photos.owner[live]
    cats = np.asarray([column[int(c)] for c in table.category_code[owners]], np.int64)
    names = embed_texts([category_words(p) for p in paths])
    return CategoryModel(paths, names, photos.vectors[live], cats, owners, name_weight)
