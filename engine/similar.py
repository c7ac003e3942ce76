"""Products like a stored one ("more like this" on a product page), from the product's id alone.

A client holding a product id should not have to download its photo and send it back to find similar
products: ``similar`` reads the product's first photo from the catalogue's files and searches with it as
a photo query (the same fusion and re-ranking a shopper's photo gets), then drops the product itself and
the listings folded into it as its near-duplicates (the same picture re-uploaded is not "similar", it is
the same offer). A product without a readable photo is searched by its title. Filters apply as in any
search.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from .errors import BadImageError, BadInputError
from .images import open_image
from .types import Filters, Query, SearchResponse

log = logging.getLogger(__name__)
MAX_K = 50


def similar(engine, product_id: str, k: int = 8, filters: Filters | None = None) -> SearchResponse:
    """The ``k`` products most like ``product_id`` (``ProductNotFoundError`` when there is none), with
    ``understood`` = {"like": id, "like_title": title, "by": "photo" | "title"}."""
    if not 1 <= k <= MAX_K:
        raise BadInputError("k", f"{k} is out of range; use 1 to {MAX_K}")
    product = engine.catalog.get(product_id)
    photo = _photo(product)
    query = Query(image=photo, k=k + 1, filters=filters or Filters()) if photo is not None else Query(
        text=product.title, k=k + 1, filters=filters or Filters(), read_words=False)
    found = engine.search(query)
    results = tuple(r for r in found.results if r.product.id != product_id and product_id not in r.duplicates)[:k]
    return replace(found, results=results, understood={"like": product_id, "like_title": product.title,
                                                       "by": "photo" if photo is not None else "title"})


def _photo(product):
    """The product's first photo that opens, or None (missing on disk, unreadable: logged)."""
    for path in product.images:
        if not Path(path).exists():  # (an address is no file either)
            continue
        try:
            return open_image(path)
        except BadImageError as err:
            log.warning("product %s: photo %s: %s", product.id, path, err)
    return None
