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
from functools import cached_property

import numpy as np

from .index.product_index import ProductIndex


@dataclass(frozen=True)
class CategoryModel:
    """Category names in the shared space plus the index's photos of products whose category was
    given: the vote searches the photo index itself (ANN with a filter at scale), so the model copies
    no vectors and costs one filtered search per photo."""

    paths: list[str]  # category paths, one per row of ``names``
    names: np.ndarray  # (c, dim) unit text-head vectors of the category names
    index: ProductIndex
    allowed: np.ndarray  # (photo vectors,) True for live photos of products with a given category
    column: np.ndarray  # category code -> row of ``paths`` (-1 for the empty category)
    name_weight: float = 0.3
    k: int = 10

    @cached_property
    def n_allowed(self) -> int:
        """Photos that may vote (counted once: ``allowed`` is fixed for the model's life)."""
        return int(np.count_nonzero(self.allowed))

    def scores(self, photo_vecs: np.ndarray, exclude_rows: np.ndarray | None = None) -> np.ndarray:
        """(n, dim) unit shared-space photo vectors -> (n, c) category scores; ``exclude_rows``
        (n,): for each photo, a product row (or a list of rows) whose photos must not vote."""
        q = np.atleast_2d(photo_vecs)
        votes = np.zeros((len(q), len(self.paths)), np.float32)
        photos = self.index.photos
        n_allowed = self.n_allowed
        for i, qi in enumerate(q if n_allowed else []):
            allowed = self.allowed
            if exclude_rows is not None:
                allowed = allowed.copy()
                for row in np.atleast_1d(exclude_rows[i]):
                    allowed[photos.rows_of(int(row))] = False
            sims, rows = photos.search_ann(qi[None, :], self.k, allowed, n_allowed / max(1, len(allowed)))
            found = rows[0] >= 0
            cats = self.column[self.index.table.category_code[photos.owner[rows[0][found]]]]
            np.add.at(votes[i], cats, np.maximum(sims[0][found], 0))
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
    column = np.full(len(table.categories), -1, np.int64)
    for code, path in enumerate(table.categories):
        if path:
            column[code] = paths.index(path)
    given = table.alive & (column[table.category_code] >= 0) & ~table.predicted
    names = embed_texts([category_words(p) for p in paths])
    return CategoryModel(paths, names, index, index.photos.allowed_vectors(given), column, name_weight)


def fill_missing(engine) -> int:
    """Predict a category for every product of ``engine`` with photos and none given; stored as predicted (a given
    category is never overwritten); how many were filled."""
    model = engine.category_model()
    table, photos = engine.index.table, engine.index.photos
    rows = [r for r in np.flatnonzero(table.alive) if not table.category_of(r) and photos.rows_of(int(r))]
    if model is None or not rows:
        return 0
    vecs = photos.take([photos.rows_of(int(r))[0] for r in rows])
    products = engine.catalog.get_many([table.ids[r] for r in rows])
    predictions = model.predict(vecs, top=1, exclude_rows=np.asarray(rows))
    updates = [products[table.ids[r]].with_(category=pred[0][0], category_predicted=True)
               for r, pred in zip(rows, predictions) if table.ids[r] in products]
    engine.catalog.upsert(updates)
    engine.sync()
    return len(updates)
