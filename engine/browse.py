"""Browsing: a query with filters or a price order and neither words nor a photo ("Women/Tops", "under 30",
"cheapest").

A shop's category page and its price bands are searches with nothing to rank by relevance. The matching
products come in the catalogue's order (the index's rows: the order they were first stored in) or by price
(``price_asc`` / ``price_desc``: every match, products without a price last, ties in the catalogue's order),
and pages go as deep as the matches (a relevance ranking stops at ``validation.MAX_K``). The response is a
search response with plan "browse", scores 0 and no parts; its refine counts cover the first ``REFINE_ROWS``
matches in that order. Words that were only a price ("under 30") or an order ("cheapest") browse too: no word is
left to rank by (a price sort alone lists the whole catalogue by price).
"""

from __future__ import annotations

import time

import numpy as np

from . import refine
from .types import Candidates, Query, SearchResponse, SearchResult
from .validation import validate_query

REFINE_ROWS = 20_000  # the matches the refine counts read (the first in the page's order)


def wanted(query: Query, understood=None) -> bool:
    """A query to browse: filters or a price order, and neither a photo nor words (``understood``,
    ``query_text.understand``'s reading of the words: none left besides a price phrase or "cheapest")."""
    only_price = understood is not None and not understood.text.strip()
    return (query.image is None and (not query.filters.is_empty() or query.sort != "relevance")
            and (only_price or not (query.text and query.text.strip())))


def browse(engine, query: Query) -> SearchResponse:
    """The page ``query`` asks for of the products its filters match (``engine``: a ``SearchEngine``)."""
    t0 = time.perf_counter()
    validate_query(query, browsing=True)
    engine.sync(defer_large=True)
    with engine.index.lock:
        table = engine.index.table
        mask = table.mask(query.filters)  # (no filters: every live product)
        mask[[table.row_of[pid] for pid in query.exclude_ids if pid in table.row_of]] = False
        rows = ordered_rows(np.flatnonzero(mask), table.price, query.sort)
        page = rows[query.offset:query.offset + query.k]
        ids = [table.ids[r] for r in page.tolist()]
        narrow = refine.counts(table, Candidates(rows[:REFINE_ROWS], np.zeros(min(len(rows), REFINE_ROWS), np.float32),
                                                 {}), 0.0)
    products = engine.catalog.get_many(ids)
    results = tuple(SearchResult(products[pid], 0.0, {}, ()) for pid in ids if pid in products)
    timings = {"total": (time.perf_counter() - t0) * 1000.0}
    return SearchResponse(results, timings, "browse", int(len(rows)), refine=narrow,
                          ordered=None if query.sort == "relevance" else int(len(rows)))


def ordered_rows(rows: np.ndarray, price: np.ndarray, sort: str) -> np.ndarray:
    """``rows`` (ascending) in the ``sort`` order: as they are, or by price with no price last (stable)."""
    if sort == "relevance" or not len(rows):
        return rows
    prices = price[rows].astype(np.float64)
    key = np.where(np.isnan(prices), np.inf, prices if sort == "price_asc" else -prices)
    return rows[np.argsort(key, kind="stable")]
