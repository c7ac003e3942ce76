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

import numpy as np
from PIL import Image

from . import comparative, photo_parts
from .encoders.cells import decode
from .errors import BadImageError, BadInputError
from .images import open_image
from .planner import QueryVectors
from .types import Filters, Query, SearchResponse

log = logging.getLogger(__name__)
MAX_K = 50


PRICES = ("cheaper", "dearer")


def similar(engine, product_id: str, k: int = 8, filters: Filters | None = None, price: str | None = None
            ) -> SearchResponse:
    """The ``k`` products most like ``product_id`` (``ProductNotFoundError`` when there is none), with
    ``understood`` = {"like": id, "like_title": title, "by": "photo" | "title"}. ``price`` "cheaper" / "dearer":
    only those strictly cheaper (dearer) than it, in its category unless ``filters`` name one (a product page's
    "cheaper alternatives"; ``engine/comparative.py``)."""
    if not 1 <= k <= MAX_K:
        raise BadInputError("k", f"{k} is out of range; use 1 to {MAX_K}")
    if price not in (None, *PRICES):
        raise BadInputError("price", f"{price!r} is not one of {', '.join(PRICES)}")
    product = engine.catalog.get(product_id)
    if price is not None:
        if product.price is None:
            raise BadInputError("price", f"product {product_id!r} has no price to compare with")
        filters = comparative.bounded(filters or Filters(), product, price == "cheaper") or filters
    engine.sync(defer_large=True)
    with engine.index.lock:  # (a write in another thread moves rows)
        stored = _stored(engine, product)
    if stored is not None:  # the photo's vectors as the index keeps them: no tower pass
        with stored[0]:
            found = engine.search(Query(image=stored[0], k=k + 1, filters=filters or Filters()), vectors=stored[1])
    else:
        photo = _photo(product)
        query = Query(image=photo, k=k + 1, filters=filters or Filters()) if photo is not None else Query(
            text=product.title, k=k + 1, filters=filters or Filters(), read_words=False)
        found = engine.search(query)
        stored = (photo, None) if photo is not None else None
    results = tuple(r for r in found.results if r.product.id != product_id and product_id not in r.duplicates)[:k]
    return replace(found, results=results, understood={"like": product_id, "like_title": product.title,
                                                       "by": "photo" if stored is not None else "title",
                                                       **({"price": price} if price else {})})


def _stored(engine, product) -> tuple[Image.Image, QueryVectors] | None:
    """(the product's first photo on disk, opened but not decoded, its size is all a search reads of it; the
    vectors a photo query of that photo would have, read from the index: the shared space, look, the cells at the
    tower's own side and the palette, as ``QueryEncoder.vectors`` would compute them), or None when the index holds
    no vectors for that photo (a product indexed before its photos, an index without looks)."""
    index = engine.index
    row = index.table.row_of.get(product.id)
    photos = index.photos.rows_of(row) if row is not None else []
    if index.looks is None or len(photos) != len(product.images):
        return None
    which = next((i for i, path in enumerate(product.images) if Path(path).exists()), None)
    if which is None:
        return None
    try:
        image = Image.open(product.images[which])
    except (OSError, ValueError):
        return None
    try:
        return image, _vectors(engine, row, which, Query(image=image))
    except BaseException:
        image.close()
        raise


def _vectors(engine, row: int, which: int, query: Query) -> QueryVectors:
    """Product ``row``'s photo number ``which`` as ``QueryEncoder.vectors`` makes a photo-only ``query`` of it."""
    index = engine.index
    shared = np.asarray(index.photos.nth_of(row, which), np.float32)
    shared = shared / max(float(np.linalg.norm(shared)), 1e-12)
    look = index.looks.nth_of(row, which)
    cells = None
    if photo_parts.cell_scales(engine.config, index, photo_parts.cell_weight(engine.config, query)) is not None:
        cells = (decode(index.cells.nth_of(row, which)[None], engine.embedder.image_tower.cell_shape[1])[0],)
    palette = None
    if photo_parts.wants_palette(engine.config, index, query, engine.embedder.bundle.colours):
        palette = index.palettes.nth_of(row, which)
    return QueryVectors(shared.astype(np.float32), look=look, photo=shared, cells=cells, palette=palette)


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
