"""Pages and price order of a search's results.

A page is ``k`` results from ``offset`` on. In relevance order the engine ranks the best ``offset + k``
and returns the last ``k`` of them. A price order ("price_asc", "price_desc") is for the *relevant*
matches: a vector search ranks every product of the catalogue, the irrelevant ones last, so it takes the
``SORT_WINDOW`` most relevant and keeps those scoring at least ``floor`` of the best one's score (a
shopper sorting "bag" by price wants the cheapest bags, not the cheapest products of a small shop);
the same ranking every time, so the pages of one query follow each other. Products without a price
come last; ties keep their relevance order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from .types import Query, SearchResult

SORTS = ("relevance", "price_asc", "price_desc")
SORT_WINDOW = 200  # the most relevant matches a price order re-orders


def depth(query: Query) -> int:
    """How many results the engine ranks for this page."""
    return query.offset + query.k if query.sort == "relevance" else SORT_WINDOW


def ranking_query(query: Query) -> Query:
    """The query the engine ranks: the whole depth, from the first result, by relevance."""
    return replace(query, k=depth(query), offset=0, sort="relevance")


def in_order(results: tuple[SearchResult, ...], sort: str, floor: float) -> tuple[SearchResult, ...]:
    """``results`` (ranked by relevance) in the ``sort`` order; a price order keeps the relevant ones."""
    if sort == "relevance" or not results:
        return results
    columns = {k: [r.why[k] for r in results] for k in (*CATEGORY_PARTS, WORDS_PART) if all(k in r.why for r in results)}
    kept = [r for r, keep in zip(results, relevant([r.score for r in results], floor, columns)) if keep]
    sign = -1.0 if sort == "price_desc" else 1.0
    return tuple(sorted(kept, key=lambda r: (r.product.price is None, sign * (r.product.price or 0.0))))


WHOLE = 1.0 - 1e-6  # a part this high: the product holds every word of the query, is in the category named
# the category a query prefers or its words name (engine/fusion.py); not the one predicted from its photo, which is
# wrong often enough where the shared space fits the catalogue poorly (luma top-1 0.56) to list the wrong kind
CATEGORY_PARTS = ("category_fit", "category_words_fit")
WORDS_PART = "all_words"  # 1: the product's title holds every word of the query (engine/lexicon.py held_parts)


def held_parts(parts: Mapping[str, Sequence[float]]) -> list[np.ndarray]:
    """Of a ranking's ``parts`` (name -> one value per result), those a price order narrows the floor's matches
    by, in turn: how far each result is in the category the query prefers or its words name (the best of
    ``CATEGORY_PARTS``), then whether it holds every word of the query (``all_words``); the ones the query has."""
    category = [np.asarray(parts[k], np.float64) for k in CATEGORY_PARTS if k in parts]
    return ([np.max(category, axis=0)] if category else []) + (
        [np.asarray(parts[WORDS_PART], np.float64)] if WORDS_PART in parts else [])


def relevant(scores: Sequence[float] | np.ndarray, floor: float, parts: Mapping[str, Sequence[float]] | None = None
             ) -> np.ndarray:
    """Which of a ranking's ``scores`` are relevant matches: those at least ``floor`` of the best one's
    (every one when the best is not positive); of those, when some are in the category the query prefers or
    its words name (``held_parts`` of ``parts``: 1), only those, and then, when some of those hold every word
    of the query (part ``all_words``: 1), only those: "red striped mug" by price lists red striped mugs, not every
    mug, bag and hat scoring within the floor (on the demo shop 1.6 % of such a list were what the words said
    before, ``docs/figures.md``). A price order keeps them, ``engine/refine.py`` counts them."""
    scores = np.asarray(scores, np.float64)
    best = scores.max() if len(scores) else 0.0
    keep = scores >= floor * best if best > 0 else np.ones(len(scores), bool)
    for held in held_parts(parts or {}) if len(scores) else ():
        whole = keep & (held >= WHOLE)
        if whole.any():
            keep = whole
    return keep


def cut(ordered: tuple[SearchResult, ...], query: Query) -> tuple[SearchResult, ...]:
    """The page of ``ordered`` (``in_order`` of the ranking of ``ranking_query(query)``) that ``query`` asks for."""
    return tuple(ordered[query.offset:query.offset + query.k])
