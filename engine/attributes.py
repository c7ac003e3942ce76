"""The columnar attribute table kept beside the index: one dense row per product.

Holds what filters and fusion need (price, category path, free attributes, alive flag) as numpy
columns, so a filter becomes a boolean mask in microseconds. Rows are append-only; a deleted
product's row is marked dead until the next compaction.
"""

from __future__ import annotations

import numpy as np

from .errors import BadInputError
from .types import Filters, Product


class AttributeTable:
    def __init__(self):
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self._alive = np.zeros(0, bool)
        self._price = np.zeros(0, np.float64)
        self._cat = np.zeros(0, np.int32)
        self._predicted = np.zeros(0, bool)  # category was predicted from the photo
        self.categories: list[str] = []  # code -> category path as given
        self._cat_code: dict[str, int] = {}  # lower-cased path -> code
        self._postings: dict[str, dict[str, list[int]]] = {}  # attr -> value (lower) -> rows

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def alive(self) -> np.ndarray:
        return self._alive[: len(self.ids)]

    @property
    def price(self) -> np.ndarray:
        return self._price[: len(self.ids)]

    @property
    def category_code(self) -> np.ndarray:
        return self._cat[: len(self.ids)]

    @property
    def predicted(self) -> np.ndarray:
        return self._predicted[: len(self.ids)]

    @property
    def n_alive(self) -> int:
        return int(self.alive.sum())

    def add(self, product: Product) -> int:
        """Append a row for ``product`` (the caller marks any older row of the same id dead)."""
        row = len(self.ids)
        self._grow(row + 1)
        self.ids.append(product.id)
        self.row_of[product.id] = row
        self._alive[row] = True
        self._price[row] = np.nan if product.price is None else product.price
        self._cat[row] = self._category_code(product.category)
        self._predicted[row] = product.category_predicted
        for name, value in product.attributes.items():
            for v in str(value).split("|"):
                self._postings.setdefault(name.lower(), {}).setdefault(v.strip().lower(), []).append(row)
        return row

    def kill(self, product_id: str) -> int | None:
        row = self.row_of.pop(product_id, None)
        if row is not None:
            self._alive[row] = False
        return row

    def _grow(self, n: int) -> None:
        if n <= len(self._alive):
            return
        cap = max(n, 2 * len(self._alive), 64)
        self._alive = _resize(self._alive, cap)
        self._price = _resize(self._price, cap)
        self._cat = _resize(self._cat, cap)
        self._predicted = _resize(self._predicted, cap)

    def _category_code(self, path: str) -> int:
        key = path.strip("/").lower()
        if key not in self._cat_code:
            self._cat_code[key] = len(self.categories)
            self.categories.append(path.strip("/"))
        return self._cat_code[key]

    # -- filters ----------------------------------------------------------------------------
    def mask(self, filters: Filters) -> np.ndarray:
        """Boolean (n,) mask of live rows that satisfy every hard filter."""
        m = self.alive.copy()
        if filters.min_price is not None:
            m &= self.price >= filters.min_price  # NaN (no price) fails price filters
        if filters.max_price is not None:
            m &= self.price <= filters.max_price
        if filters.category:
            m &= np.isin(self.category_code, self.subtree_codes(filters.category))
        for name, value in filters.attributes.items():
            rows = self._postings.get(name.lower(), {}).get(str(value).strip().lower(), [])
            allowed = np.zeros(len(self.ids), bool)
            allowed[rows] = True
            m &= allowed
        return m

    def subtree_codes(self, category: str) -> np.ndarray:
        """Codes of every category path equal to or below ``category`` (case-insensitive)."""
        key = category.strip("/").lower()
        codes = [c for path, c in self._cat_code.items() if path == key or path.startswith(key + "/")]
        if not codes:
            tops = sorted({p.split("/")[0] for p in self.categories if p})
            raise BadInputError("category", f"unknown category {category!r}; top-level categories: {tops}")
        return np.asarray(codes, np.int32)

    def category_of(self, row: int) -> str:
        return self.categories[self._cat[row]]

    def facet_counts(self, mask: np.ndarray | None = None) -> dict[str, int]:
        """Live products per category path (optionally within ``mask``)."""
        m = self.alive if mask is None else mask
        counts = np.bincount(self.category_code[m], minlength=len(self.categories))
        return {self.categories[c]: int(n) for c, n in enumerate(counts) if n and self.categories[c]}


def _resize(arr: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros(cap, arr.dtype)
    out[: len(arr)] = arr
    return out
