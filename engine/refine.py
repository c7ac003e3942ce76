"""What a query's relevant matches hold, to narrow it by ("refine by": category, colour, attributes, price).

The response's ``facets`` count the whole catalogue's categories (the web page's category list); a shopper
narrowing a search wants the categories, stated colours and price range of what the search found instead. The
relevant matches are the candidates the engine ranked (before the page is cut) scoring at least
``rerank.sort_floor`` of the best, the set a price order keeps (``engine/paging.py``). Attributes whose values
repeat (a brand, a size, a pattern: ``AttributeTable.facet_attributes``) are counted too, each attribute's
``VALUES`` most held values as the catalogue writes them; colours and attributes are read in one pass over the
rows' pair codes (``engine/attribute_pairs.py``): 60-70 µs p50 for 100-200 rows of the demo shop, 91-122 µs in a
100,000-product feed-shaped catalogue (``python -m eval.refine_bench``, 2026-11-27).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .attributes import COLOUR_ATTRIBUTES, AttributeTable
from .paging import relevant
from .types import Candidates

VALUES = 10  # values kept per attribute


def counts(table: AttributeTable, ranked: Candidates, floor: float) -> dict | None:
    """{"relevant": n, "categories": {path: n}, "colours": {colour: n}, "price": {"min", "max"} or None}
    (most frequent first here; JSON objects keep no order, so clients sort); None when nothing was ranked."""
    if len(ranked) == 0:
        return None
    rows = ranked.rows[relevant(ranked.scores, floor, ranked.parts)]
    categories = Counter(table.categories[c] for c in table.category_code[rows].tolist() if table.categories[c])
    colours, narrow = {}, {}
    for name, value, n in table.held_values(rows, {COLOUR_ATTRIBUTES[0]: None, **dict.fromkeys(table.facet_attributes(), VALUES)}):
        if name == COLOUR_ATTRIBUTES[0]:
            colours[value.lower()] = n
        else:
            narrow.setdefault(name, {})[value] = n
    prices = table.price[rows]
    prices = prices[np.isfinite(prices)]
    return {"relevant": int(len(rows)), "categories": dict(categories.most_common()),
            "colours": colours, "attributes": narrow,
            "price": {"min": float(prices.min()), "max": float(prices.max())} if len(prices) else None}


def words_outside(table: AttributeTable, mask: np.ndarray | None, words: list[str], word_fit: np.ndarray | None
                  ) -> list[str]:
    """The query's category words ("bag" in "bag under 50") when no product within the filters (``mask``) is
    in a category they name (``word_fit``: per category code, ``query_text.CategoryWords.match``): the
    shopper is then shown what comes closest, and the response says so. [] when something is."""
    if mask is None or word_fit is None or not words:
        return []
    named = np.zeros(len(table.categories), bool)
    named[: len(word_fit)] = word_fit[: len(named)] > 0
    return [] if named[table.category_code[: len(mask)][mask]].any() else list(words)


def attributes(table: AttributeTable, rows) -> dict[str, dict[str, int]]:
    """{attribute: {value: rows holding it}} over ``rows`` for the table's facet attributes (a row counts once
    per value), each attribute's ``VALUES`` most held values as the catalogue first wrote them (``counts`` reads
    them with the colours)."""
    out: dict[str, dict[str, int]] = {}
    for name, value, n in table.held_values(rows, dict.fromkeys(table.facet_attributes(), VALUES)):
        out.setdefault(name, {})[value] = n
    return out
