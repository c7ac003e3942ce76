"""Frozen value types that travel through the whole query flow.

``Candidates`` (columnar: rows, scores, named parts) is the one type that retrieval, fusion and
re-ranking all take and return, so every stage can be tested alone; ``Candidate`` is one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Product:
    """A catalogue product. ``images`` are local paths; ``category`` is a '/'-separated path."""

    id: str
    title: str
    description: str = ""
    category: str = ""
    price: float | None = None
    currency: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    category_predicted: bool = False  # True when ``category`` was predicted from the photo

    def with_(self, **changes) -> "Product":
        return replace(self, **changes)

    def text(self) -> str:
        """The text the text tower sees for this product (title, then description)."""
        return f"{self.title}. {self.description}".strip(" .") if self.description else self.title

    def as_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "category": self.category, "category_predicted": self.category_predicted,
            "price": self.price, "currency": self.currency,
            "attributes": dict(self.attributes), "images": list(self.images),
        }


@dataclass(frozen=True)
class Filters:
    """Hard filters: a product that fails one is never returned."""

    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None  # category subtree, e.g. "Women/Tops" matches "Women/Tops/Hoodies"
    attributes: Mapping[str, str] = field(default_factory=dict)  # exact, case-insensitive

    def is_empty(self) -> bool:
        return (self.min_price is None and self.max_price is None and not self.category
                and not self.attributes)


@dataclass(frozen=True)
class Preferences:
    """Soft preferences: they move products up or down, never remove them."""

    price_target: float | None = None  # products priced near this rank higher
    category: str | None = None  # products in this subtree rank higher
    attributes: Mapping[str, str] = field(default_factory=dict)  # products holding these values rank higher (brand: Acme)


@dataclass(frozen=True)
class Query:
    """One search. ``image`` is an RGB PIL image (decode at the edge); text is free text."""

    image: object | None = None
    text: str | None = None
    filters: Filters = field(default_factory=Filters)
    preferences: Preferences = field(default_factory=Preferences)
    image_weight: float = 1.0  # weight of the photo in the combined query vector
    text_weight: float = 1.0  # weight of the text in the combined query vector
    k: int = 10
    exclude_ids: tuple[str, ...] = ()  # e.g. the product itself in "more like this"
    read_words: bool = True  # read price phrases and category words out of the text (when the engine does)
    offset: int = 0  # the page starts after this many results (engine/paging.py)
    sort: str = "relevance"  # or "price_asc" / "price_desc": the most relevant matches by price

    @property
    def kind(self) -> str:
        """'photo', 'text' or 'photo+text' (used for metrics and timings)."""
        if self.image is not None and self.text:
            return "photo+text"
        return "photo" if self.image is not None else "text"


@dataclass(frozen=True)
class Candidate:
    """A product being considered for a query.

    ``row`` is the product's dense row in the index's attribute table; ``parts`` holds the named
    similarity/fit components, ``score`` the fused score (equal to the similarity before fusion).
    """

    row: int
    score: float
    parts: Mapping[str, float] = field(default_factory=dict)
    duplicates: tuple[int, ...] = ()  # rows collapsed into this one as near-duplicates


@dataclass(frozen=True)
class Candidates:
    """Columnar candidates: ``rows`` (n,) int64 product rows, ``scores`` (n,) float32, and ``parts``
    name -> (n,) float32 similarity/fit components."""

    rows: np.ndarray
    scores: np.ndarray
    parts: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def empty(cls) -> "Candidates":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32), {})

    def take(self, idx) -> "Candidates":
        return Candidates(self.rows[idx], self.scores[idx], {k: v[idx] for k, v in self.parts.items()})

    def top(self, n: int) -> "Candidates":
        """The ``n`` best by score, best first (ties broken by row for determinism)."""
        if n < len(self):
            keep = np.argpartition(-self.scores, n - 1)[:n]
        else:
            keep = np.arange(len(self))
        order = np.lexsort((self.rows[keep], -self.scores[keep]))
        return self.take(keep[order])

    def to_list(self) -> list[Candidate]:
        names = list(self.parts)
        cols = [self.parts[n].tolist() for n in names]
        return [Candidate(int(r), float(s), dict(zip(names, (c[i] for c in cols))))
                for i, (r, s) in enumerate(zip(self.rows.tolist(), self.scores.tolist()))]


@dataclass(frozen=True)
class SearchResult:
    """A product returned to the caller, with the score and its breakdown ("why")."""

    product: Product
    score: float
    why: Mapping[str, float]
    duplicates: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"product": self.product.as_dict(), "score": round(self.score, 6),
                "why": {k: round(v, 6) for k, v in self.why.items()},
                "duplicates": list(self.duplicates)}


@dataclass(frozen=True)
class SearchResponse:
    results: tuple[SearchResult, ...]
    timings_ms: Mapping[str, float]
    plan: str
    matching: int  # how many products satisfy the hard filters
    predicted_category: str | None = None
    understood: Mapping | None = None  # price phrases read out of the text (engine/query_text.py)
    ordered: int | None = None  # a price order: how many relevant matches it re-ordered (engine/paging.py)
    refine: Mapping | None = None  # the relevant matches' categories, colours, price range (engine/refine.py)

    def as_dict(self) -> dict:
        return {"results": [r.as_dict() for r in self.results],
                "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
                "plan": self.plan, "matching": self.matching,
                "predicted_category": self.predicted_category, "understood": self.understood,
                "refine": self.refine, **({} if self.ordered is None else {"ordered": self.ordered})}
