"""The columnar attribute table kept beside the index: one dense row per product.

Holds what filters and fusion need (price, category path, alive flag as numpy columns; the free attributes as
integer codes, ``attribute_pairs.PairCodes``), so a filter becomes a boolean mask in microseconds. Rows are
append-only; a deleted or replaced product's row is marked dead and stays (the next full ``shopsight index``
writes a table without them). Saved with each index snapshot (``save`` / ``restore``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .attribute_pairs import Growable, PairCodes
from .errors import BadInputError
from .types import Filters, Product

COLOUR_ATTRIBUTES = ("colour", "color")  # attributes naming a listing's colour(s), "|"-separated


def disjoint_colours(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both colour sets are stated (non-empty) and share no colour."""
    return bool(a) and bool(b) and not (a & b)


def prices_apart(low: float, high: float, gap: float) -> bool:
    """Both prices are known and the lower is more than ``gap`` (a share of the higher) below it: listings
    priced that far apart are variants (sizes, storage tiers), not one offer listed twice. In the data here a
    seller's re-listing of one photo is priced within 3 % of the first; sizes and storage tiers sharing a
    photo step by 12 % or more (luma's Sprite Stasis Ball 23 / 27 / 32, newbee_zh's MacBook configurations);
    a ``gap`` of 1 never keeps listings apart."""
    if np.isnan(low) or np.isnan(high):
        return False
    low, high = min(low, high), max(low, high)
    return high > 0 and high - low > gap * high


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
        self._n_alive = 0  # kept by add/kill, so counting never scans
        self._version = 0  # bumped by every add/kill/restate (cache key)
        self._facets: tuple[int, dict[str, int]] | None = None  # (version, counts over all live rows)
        self._subtree_rows: dict[str, Growable] = {}  # lower-cased path -> rows at or below it (dead included)
        self._subtree_codes: dict[str, list[int]] = {}  # lower-cased path -> category codes at or below it
        self.pairs = PairCodes()  # row -> its (attribute, value) pairs as codes ("color" as "colour"), code -> rows
        self._holding: dict[str, int] = {}  # attribute -> rows holding it (dead ones included)

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
        return self._n_alive

    def add(self, product: Product) -> int:
        """Append a row for ``product`` (the caller marks any older row of the same id dead)."""
        row = len(self.ids)
        self._grow(row + 1)
        self.ids.append(product.id)
        self.row_of[product.id] = row
        self._alive[row] = True
        self._n_alive += 1
        self._version += 1
        self._price[row] = np.nan if product.price is None else product.price
        self._cat[row] = self._category_code(product.category)
        for prefix in _prefixes(product.category):
            self._subtree_rows.setdefault(prefix, Growable(np.int64)).append(row)
        self._predicted[row] = product.category_predicted
        pairs = _pairs(product)
        self._count_holding(pairs, +1)
        self.pairs.add_row(pairs)
        return row

    def restate(self, product: Product) -> int:
        """The live row of ``product``'s id holds its price, category and attributes instead (a feed's changes for
        a product whose vectors stay: no row added, so the stores' rows stay theirs); returns the row."""
        row = self.row_of[product.id]
        self._version += 1
        self._price[row] = np.nan if product.price is None else product.price
        code = self._category_code(product.category)
        if code != self._cat[row]:
            self._cat[row] = code
            for prefix in _prefixes(product.category):  # the old subtrees' postings keep it: ``_category_mask``
                self._subtree_rows.setdefault(prefix, Growable(np.int64)).append(row)  # reads the row's code
        self._predicted[row] = product.category_predicted
        pairs = _pairs(product)
        self._count_holding([self.pairs.pair(code) for code in self.pairs.codes_of(row).tolist()], -1)
        self._count_holding(pairs, +1)
        self.pairs.restate(row, pairs)
        return row

    def _count_holding(self, pairs: list[tuple[str, str]], step: int) -> None:
        for key in {attribute for attribute, _ in pairs}:
            self._holding[key] = self._holding.get(key, 0) + step

    def kill(self, product_id: str) -> int | None:
        row = self.row_of.pop(product_id, None)
        if row is not None and self._alive[row]:
            self._alive[row] = False
            self._n_alive -= 1
            self._version += 1
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
            for prefix in _prefixes(path):
                self._subtree_codes.setdefault(prefix, []).append(self._cat_code[key])
        return self._cat_code[key]

    # -- saving -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the columns and the pairs beside an index snapshot (``table.npz``, ``table.json``); the ids
        and alive flags are the snapshot's own (meta.json)."""
        n = len(self.ids)
        np.savez(folder / "table.npz", price=self._price[:n], category=self._cat[:n], predicted=self._predicted[:n],
                 **self.pairs.arrays())
        words = {"categories": self.categories, "holding": self._holding, **self.pairs.words()}
        (folder / "table.json").write_text(json.dumps(words, ensure_ascii=False))

    @classmethod
    def restore(cls, folder: Path, ids: list[str], alive: list[bool]) -> "AttributeTable | None":
        """The table ``save`` wrote in ``folder`` for rows ``ids`` (``alive`` their flags); None when the folder
        has none (a snapshot written before tables were saved) or one of other rows."""
        if not (folder / "table.npz").exists():
            return None
        words = json.loads((folder / "table.json").read_text())
        with np.load(folder / "table.npz") as z:
            arrays = {k: z[k] for k in z.files}
        n = len(ids)
        if not (len(arrays["price"]) == len(arrays["category"]) == len(arrays["predicted"]) == len(alive) == n
                and len(arrays["pair_starts"]) == n + 1):
            return None
        return cls._from_arrays(arrays, words, ids, alive)

    def subset(self, rows) -> "AttributeTable":
        """A table of ``rows`` alone, renumbered 0, 1, ... in their order, all alive (``index/compact.py``)."""
        rows = np.asarray(rows, np.int64)
        arrays = {"price": self._price[rows], "category": self._cat[rows], "predicted": self._predicted[rows],
                  **self.pairs.arrays(rows)}
        words = {"categories": self.categories, "holding": self.pairs.attribute_counts(rows), **self.pairs.words()}
        return self._from_arrays(arrays, words, [self.ids[r] for r in rows.tolist()], [True] * len(rows))

    @classmethod
    def _from_arrays(cls, arrays: dict, words: dict, ids: list[str], alive: list[bool]) -> "AttributeTable":
        t = cls()
        t.ids = list(ids)
        t._alive = np.asarray(alive, bool)
        t._n_alive = int(t._alive.sum())
        t.row_of = {pid: r for r, pid in enumerate(t.ids) if alive[r]}
        t._price, t._cat = arrays["price"].astype(np.float64), arrays["category"].astype(np.int32)
        t._predicted = arrays["predicted"].astype(bool)
        for path in words["categories"]:
            t._category_code(path)
        by_code = np.argsort(t._cat, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(t._cat, minlength=len(t.categories)))])
        for prefix, codes in t._subtree_codes.items():
            rows = np.sort(np.concatenate([by_code[bounds[c]: bounds[c + 1]] for c in codes]))
            t._subtree_rows[prefix] = Growable(np.int64, rows)
        t._holding = dict(words["holding"])
        t.pairs = PairCodes.restore(arrays, words)
        return t

    # -- filters ----------------------------------------------------------------------------
    def select(self, filters: Filters) -> np.ndarray | None:
        """``mask(filters)``, or None for "every live row" when nothing filters (no O(n) pass)."""
        return None if filters.is_empty() else self.mask(filters)

    def mask(self, filters: Filters) -> np.ndarray:
        """Boolean (n,) mask of live rows that satisfy every hard filter."""
        m = self.alive.copy()
        if filters.min_price is not None:
            m &= self.price >= filters.min_price  # NaN (no price) fails price filters
        if filters.max_price is not None:
            m &= self.price <= filters.max_price
        if filters.category:
            m &= self._category_mask(filters.category)
        for name, value in filters.attributes.items():  # "colour" and "color" name one attribute
            allowed = np.zeros(len(self.ids), bool)
            allowed[self.pairs.rows_holding(self._code(name, value))] = True
            m &= allowed
        return m

    def _category_mask(self, category: str) -> np.ndarray:
        """Rows in the subtree of ``category``: from its postings when they are few (no pass over
        every row), else by a lookup table over the category-code column."""
        codes = self.subtree_codes(category)
        rows = self._subtree_rows[category.strip("/").lower()]
        lut = np.zeros(len(self.categories), bool)
        lut[codes] = True
        if len(rows) * 2 < len(self.ids):
            m = np.zeros(len(self.ids), bool)
            m[rows.view()] = lut[self._cat[rows.view()]]  # a row restated into another category is still listed
            return m
        return lut[self.category_code]

    def subtree_codes(self, category: str) -> np.ndarray:
        """Codes of every category path equal to or below ``category`` (case-insensitive)."""
        codes = self._subtree_codes.get(category.strip("/").lower())
        if not codes:
            tops = sorted({p.split("/")[0] for p in self.categories if p})
            raise BadInputError("category", f"unknown category {category!r}; top-level categories: {tops}")
        return np.asarray(codes, np.int32)

    def category_of(self, row: int) -> str:
        return self.categories[self._cat[row]]

    def _code(self, name: str, value) -> int:
        return self.pairs.lookup(_canonical(name.strip().lower()), str(value).strip())

    def colours_of(self, row: int) -> frozenset[str]:
        """The colours the listing states (attribute "colour" or "color", lower-cased); may be empty."""
        return self.pairs.values_of(row, COLOUR_ATTRIBUTES[0])

    def colours(self, rows) -> list[frozenset[str]]:
        """``colours_of`` each of ``rows``, in one pass."""
        return self.pairs.values(rows, COLOUR_ATTRIBUTES[0])

    def attributes_of(self, row: int) -> tuple[tuple[str, str], ...]:
        """The listing's (attribute, value) pairs, lower-cased, "|"-separated values apart, each once."""
        return tuple(self.pairs.pair(code) for code in self.pairs.codes_of(row).tolist())

    def shown(self, pair: tuple[str, str]) -> str:
        """The value of ``pair`` as the catalogue first wrote it ("Acme" for ("brand", "acme"))."""
        code = self._code(*pair)
        return pair[1] if code < 0 else self.pairs.shown(code)

    def holding(self, rows, wanted: list[tuple[str, str]]) -> np.ndarray:
        """(len(rows), len(wanted)) bool: whether each row holds each wanted (attribute, value), case-insensitively,
        "colour" and "color" as one attribute (the rows' own pairs: no pass over the table)."""
        return self.pairs.holding(rows, [self._code(n, v) for n, v in wanted])

    def held_values(self, rows, limits: dict[str, int | None]) -> list[tuple[str, str, int]]:
        """(attribute, value as first written, rows holding it) over ``rows`` for the attributes ``limits`` names
        (lower-cased; "colour" for colours), attribute by attribute, most held first, at most ``limits[name]``
        values of each (None: all)."""
        shown = self.pairs.shown
        return [(name, shown(code), n) for name, code, n in self.pairs.counts(rows, limits)]

    def facet_attributes(self) -> frozenset[str]:
        """Attributes to narrow by: those whose values repeat (at most half as many distinct values as rows
        holding the attribute), colours aside (their own facet). A link, a second title or a description
        held as an attribute has a value per product and is no facet."""
        return frozenset(name for name, n in self._holding.items()
                         if name not in COLOUR_ATTRIBUTES and self.pairs.distinct(name) * 2 <= n)

    def variants(self, a: int, b: int, price_gap: float, colours_of=None) -> bool:
        """Listings ``a`` and ``b`` are variants of a product, never near-duplicates: both state their colours
        and share none, or their prices are more than ``price_gap`` apart (``prices_apart``). ``colours_of``: how
        to read a row's colours (default ``self.colours_of``; a caller asking about the same rows many times
        passes a cached one)."""
        read = colours_of or self.colours_of
        return disjoint_colours(read(a), read(b)) or prices_apart(float(self._price[a]), float(self._price[b]), price_gap)

    def facet_counts(self, mask: np.ndarray | None = None) -> dict[str, int]:
        """Live products per category path (optionally within ``mask``); the unmasked counts are
        cached until the table changes (every search response carries them)."""
        if mask is None and self._facets is not None and self._facets[0] == self._version:
            return dict(self._facets[1])
        m = self.alive if mask is None else mask
        counts = np.bincount(self.category_code[m], minlength=len(self.categories))
        out = {self.categories[c]: int(n) for c, n in enumerate(counts) if n and self.categories[c]}
        if mask is None:
            self._facets = (self._version, out)
        return dict(out)


def _pairs(product: Product) -> list[tuple[str, str]]:
    """The product's (attribute lower-cased, value) pairs as ``PairCodes`` takes them ("|" separates values)."""
    return [(_canonical(name.lower()), v.strip()) for name, value in product.attributes.items()
            for v in str(value).split("|") if v.strip()]


def _canonical(name: str) -> str:
    return COLOUR_ATTRIBUTES[0] if name in COLOUR_ATTRIBUTES else name


def _prefixes(path: str) -> list[str]:
    """"A/B/C" -> ["a", "a/b", "a/b/c"] (lower-cased; empty for an empty path)."""
    parts = [p for p in path.strip("/").lower().split("/")]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))] if parts != [""] else []


def _resize(arr: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros(cap, arr.dtype)
    out[: len(arr)] = arr
    return out
