"""Checks on a query before it is searched: each problem is a ``BadInputError`` naming the field."""

from __future__ import annotations

import numpy as np

from .errors import BadInputError
from .paging import SORT_WINDOW, SORTS
from .types import Query

MAX_K = 1000


def validate_query(query: Query, browsing: bool = False) -> None:
    """``browsing`` (``engine/browse.py``): neither photo nor words are needed, and pages go as deep as the
    matches."""
    if not browsing and query.image is None and not (query.text and query.text.strip()):
        raise BadInputError("query", "give a photo, a text, or both (or filters or a price sort alone, to browse)")
    if not isinstance(query.k, int) or not 1 <= query.k <= MAX_K:
        raise BadInputError("k", f"{query.k!r} must be an integer from 1 to {MAX_K}")
    if query.sort not in SORTS:
        raise BadInputError("sort", f"{query.sort!r} is not one of {', '.join(SORTS)}")
    last = MAX_K if query.sort == "relevance" else SORT_WINDOW
    if browsing and (not isinstance(query.offset, int) or query.offset < 0):
        raise BadInputError("offset", f"{query.offset!r} must be a whole number >= 0")
    if not browsing and (not isinstance(query.offset, int) or not 0 <= query.offset <= last - query.k):
        raise BadInputError("offset", f"{query.offset!r}: a page ends by result {last}"
                            + ("" if query.sort == "relevance" else f" (a price order orders the relevant part of the {last} most relevant)"))
    f = query.filters
    for name in ("min_price", "max_price"):
        value = getattr(f, name)
        if value is not None and (not np.isfinite(value) or value < 0):
            raise BadInputError(name, f"{value!r} must be a finite number >= 0")
    if f.min_price is not None and f.max_price is not None and f.min_price > f.max_price:
        raise BadInputError("min_price", f"{f.min_price} is above max_price {f.max_price}")
    for name in ("image_weight", "text_weight"):
        value = getattr(query, name)
        if not np.isfinite(value) or value < 0:
            raise BadInputError(name, f"{value!r} must be a finite number >= 0")
