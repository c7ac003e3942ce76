""""This, but cheaper": words that compare a price ("cheaper", "more expensive", "更便宜") beside a photo compare
it with the product the photo shows.

Without this, "cheaper" only ordered the photo's relevant matches by price: for a red bag of 95.88 on the demo
shop, a red mug of 9.74 came first and a green bag of 102.21 second; half of what was listed cost more than the
bag photographed (``python -m eval.cheaper_bench``). Now the product the photo shows (the photo-only search's
first result, as ``engine/anchor.py`` finds it) bounds the price: below its price for "cheaper", above for "more
expensive", within the product's category unless the request names one ("this bag, but cheaper" means bags: as
a soft preference the photo's red mugs still came first), and the matches come in relevance order (the closest
cheaper alternatives first; a price order the request asks for still applies). ``understood`` says which
product and price: ``"cheaper_than": {"id", "title", "price"}`` (``"pricier_than"``). A photo whose product has
no price, or an explicit bound the comparison would not tighten, leaves the words a price order as before.
``bounded`` is the bound itself, which ``engine/similar.py`` also applies to a stored product ("cheaper
alternatives" on its page).
"""

from __future__ import annotations

from dataclasses import replace

from .query_text import Understood
from .types import Filters, Product, Query


def relative(engine, page: Query, qv, understood: Understood | None, asked: str
             ) -> tuple[Query, Understood | None]:
    """``page`` bounded by the price of the product its photo shows when ``understood`` compares (``asked``: the
    sort the request itself gave), and ``understood`` saying so; both as they were otherwise."""
    if understood is None or not understood.compares or page.image is None or understood.sort is None:
        return page, understood
    shown = engine.shown_product(page, qv)
    if shown is None:
        return page, understood
    below = understood.sort == "price_asc"
    filters = bounded(page.filters, shown, below)
    if filters is None:
        return page, understood
    said = {"id": shown.id, "title": shown.title, "price": shown.price}
    return (replace(page, filters=filters, sort=asked),
            replace(understood, sort=None, compared={("cheaper_than" if below else "pricier_than"): said}))


def bounded(f: Filters, product: Product, below: bool) -> Filters | None:
    """``f`` narrowed to what is strictly cheaper (``below``) or dearer than ``product`` and in its category
    (unless ``f`` names one); None when the product has no price or ``f`` already bounds the price tighter."""
    if product.price is None:
        return None
    if below and not (f.max_price is None or f.max_price >= product.price):
        return None  # "cheaper than 50" beside it already asks for less
    if not below and not (f.min_price is None or f.min_price <= product.price):
        return None
    step = max(product.price * 1e-9, 1e-6)  # strictly: not the product itself at its price
    bound = {"max_price": product.price - step} if below else {"min_price": product.price + step}
    if product.category and not f.category:
        bound["category"] = product.category
    return replace(f, **bound)
