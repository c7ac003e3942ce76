""""This, but cheaper": words that compare a price ("cheaper", "more expensive", "更便宜") beside a photo compare
it with the product the photo shows.

Without this, "cheaper" only ordered the photo's relevant matches by price: for a red bag of 95.88 on the demo
shop, a red mug of 9.74 came first and a green bag of 102.21 second; half of what was listed cost more than the
bag photographed (``python -m eval.cheaper_bench``). Now the product the photo shows (the photo-only search's
first result, as ``engine/anchor.py`` finds it) bounds the price: below its price for "cheaper", above for "more
expensive", within the product's category unless the request names one ("this bag, but cheaper" means bags: as
a soft preference the photo's red mugs still came first), and the matches come in relevance order (the closest
cheaper alternatives first; a price order the request asks for still applies). ``understood`` says which product and price: ``"cheaper_than": {"id", "title",
"price"}`` (``"pricier_than"``). A photo whose product has no price, or an explicit bound the comparison would
not tighten, leaves the words a price order as before.
"""

from __future__ import annotations

from dataclasses import replace

from .query_text import Understood
from .types import Query


def relative(engine, page: Query, qv, understood: Understood | None, asked: str
             ) -> tuple[Query, Understood | None]:
    """``page`` bounded by the price of the product its photo shows when ``understood`` compares (``asked``: the
    sort the request itself gave), and ``understood`` saying so; both as they were otherwise."""
    if understood is None or not understood.compares or page.image is None or understood.sort is None:
        return page, understood
    shown = engine.shown_product(page, qv)
    if shown is None or shown.price is None:
        return page, understood
    below = understood.sort == "price_asc"
    f = page.filters
    if below and not (f.max_price is None or f.max_price >= shown.price):
        return page, understood  # "cheaper than 50" beside it already asks for less
    if not below and not (f.min_price is None or f.min_price <= shown.price):
        return page, understood
    step = max(shown.price * 1e-9, 1e-6)  # strictly cheaper (dearer): not the product itself at its price
    bound = {"max_price": shown.price - step} if below else {"min_price": shown.price + step}
    said = {"id": shown.id, "title": shown.title, "price": shown.price}
    if shown.category and not f.category:
        bound["category"] = shown.category
    return (replace(page, filters=replace(f, **bound), sort=asked),
            replace(understood, sort=None, compared={("cheaper_than" if below else "pricier_than"): said}))
