"""Adapters: build catalogues and labelled query sets with ground truth from ../shared/data.

No labels are written by hand: relevance comes from the data's own fields (product identity, article
type and colour, colour variants in file names, category paths). Every split is seeded.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.types import Product

from .queryset import LabelledQuery

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_missing() -> bool:
    """True (after saying so on stderr) when ../shared/data is absent: the figures need it."""
    if DATA.exists():
        return False
    import sys

    print(f"no shared data at {DATA}", file=sys.stderr)
    return True


@dataclass
class Task:
    """One evaluation task: a catalogue to index and queries with known relevant product ids."""

    name: str
    kind: str  # "text", "photo" or "photo+text"
    products: list[Product]
    queries: list[LabelledQuery]
    hide_titles: bool = True  # index photos only: product text is not searchable
    language: str = "en"
    notes: str = ""
    info: dict = field(default_factory=dict)


def _rows(name: str) -> list[dict]:
    with open(DATA / name / "products.csv", encoding="utf-8") as fp:
        return list(csv.DictReader(fp))


# -- fashion --------------------------------------------------------------------------------
def fashion_rows() -> list[dict]:
    return [r for r in _rows("fashion") if (DATA / "fashion" / r["image"]).exists()]


def fashion_split(n_gallery: int, n_train: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(held-out gallery rows, training rows), disjoint, seeded."""
    rows = fashion_rows()
    order = np.random.default_rng(seed).permutation(len(rows))
    return [rows[i] for i in order[:n_gallery]], [rows[i] for i in order[n_gallery:n_gallery + n_train]]


def fashion_product(r: dict) -> Product:
    return Product(id=r["id"], title=r["title"],
                   category=f"{r['master_category']}/{r['sub_category']}/{r['article_type']}",
                   attributes={"colour": r["base_colour"], "usage": r["usage"]},
                   images=(str(DATA / "fashion" / r["image"]),))


def fashion_tasks(gallery: list[dict], n_photo_queries: int = 500, seed: int = 1) -> list[Task]:
    products = [fashion_product(r) for r in gallery]
    text_q = [LabelledQuery(f"t{r['id']}", {r["id"]: 1.0}, text=r["title"]) for r in gallery]
    by_type_colour: dict[tuple, list[str]] = {}
    for r in gallery:
        by_type_colour.setdefault((r["article_type"], r["base_colour"]), []).append(r["id"])
    rng = np.random.default_rng(seed)
    photo_q = []
    for i in rng.permutation(len(gallery)):
        r = gallery[i]
        rel = [pid for pid in by_type_colour[(r["article_type"], r["base_colour"])] if pid != r["id"]]
        if rel:
            photo_q.append(LabelledQuery(f"p{r['id']}", {p: 1.0 for p in rel},
                                         image=str(DATA / "fashion" / r["image"]), filters={"exclude": r["id"]}))
        if len(photo_q) >= n_photo_queries:
            break
    type_colour_q = [LabelledQuery(f"tc{r['id']}", {p: 1.0 for p in by_type_colour[(r["article_type"], r["base_colour"])]},
                                   text=f"{r['base_colour']} {r['article_type']}") for r in gallery[:500]]
    return [
        Task("fashion text → photo (own product)", "text", products, text_q,
             info={"gallery": len(gallery)}),
        Task("fashion text → photo (same type + colour)", "text", products, type_colour_q,
             notes="query = '<colour> <article type>'; relevant = gallery items of that type and colour"),
        Task("fashion photo → same type + colour", "photo", products, photo_q),
    ]


# -- luma -----------------------------------------------------------------------------------
COLOUR_IN_NAME = re.compile(r"-([a-z]+)_")


def luma_tasks() -> list[Task]:
    rows = _rows("luma")
    products, photo_q, colour_q, text_q = [], [], [], []
    for r in rows:
        images = [str(DATA / "luma" / p) for p in r["images"].split("|") if p]
        if not images:
            continue
        products.append(Product(id=r["sku"], title=r["name"], category=r["category"],
                                price=float(r["price"]) if r["price"] else None,
                                attributes={"colour": r["colors"]}, images=(images[0],)))
        text_q.append(LabelledQuery(f"t{r['sku']}", {r["sku"]: 1.0}, text=r["name"]))
        for img in images[1:]:
            photo_q.append(LabelledQuery(f"p{Path(img).stem}", {r["sku"]: 1.0}, image=img))
    variants = _luma_variants(rows)
    price = {r["sku"]: float(r["price"]) for r in rows if r["price"]}
    variant_products = [Product(id=vid, title=vid, category=cat, price=price.get(vid.rsplit(":", 1)[0]),
                                attributes={"colour": vid.rsplit(":", 1)[1]}, images=(img,))
                        for vid, (img, cat) in variants.items()]
    by_product: dict[str, list[str]] = {}
    for vid in variants:
        by_product.setdefault(vid.rsplit(":", 1)[0], []).append(vid)
    for sku, vids in by_product.items():
        for a in vids:
            for b in vids:
                if a != b:
                    colour = b.rsplit(":", 1)[1]
                    colour_q.append(LabelledQuery(f"c{a}>{colour}", {b: 1.0}, text=colour,
                                                  image=variants[a][0]))
    other_view_q = _other_view_colour_queries(rows, variants, by_product)
    by_type_colour: dict[str, list[str]] = {}
    for vid, (_, cat) in variants.items():
        leaf = cat.split("/")[-1].lower()
        by_type_colour.setdefault(f"{vid.rsplit(':', 1)[1]} {leaf}", []).append(vid)
    type_colour_q = [LabelledQuery(f"tc{words}", {v: 1.0 for v in vids}, text=words)
                     for words, vids in sorted(by_type_colour.items())]
    priced_q = _under_price_queries(by_type_colour, {p.id: p.price for p in variant_products})
    return [
        Task("luma photo → product (other views)", "photo", products, photo_q,
             notes="index = one main photo per product; queries = the other photos"),
        Task("luma text (name) → photo", "text", products, text_q,
             notes="index = main photos only, titles hidden; query = product name"),
        Task("luma photo + colour word → colour variant", "photo+text", variant_products, colour_q,
             notes="index = one photo per (product, colour); query = photo of one variant + another colour's name"),
        Task("luma other-view photo + colour word → colour variant", "photo+text", variant_products, other_view_q,
             notes="index = one photo per (product, colour); query = another photo of one variant (its back, a "
             "close-up: not in the index, as a shopper's own photo is not) + another colour's name"),
        Task("luma \"⟨colour⟩ ⟨category⟩\" → photos of that category + colour", "text", variant_products,
             type_colour_q, notes="index = one photo per (product, colour), titles hidden; query = colour + "
             "leaf category words, e.g. 'gray hoodies & sweatshirts'; relevant = variants of both"),
        Task("luma \"⟨colour⟩ ⟨category⟩ under ⟨price⟩\" → that category + colour within the price", "text",
             variant_products, priced_q, notes="as above, plus 'under P' with P the median price of the "
             "category's variants; relevant = variants of both priced at most P"),
    ]


def _other_view_colour_queries(rows: list[dict], variants: dict[str, tuple[str, str]],
                               by_product: dict[str, list[str]]) -> list[LabelledQuery]:
    """"This, but in ⟨colour⟩" from a photo that is not in the index: every photo of a variant other than
    its indexed one, with each other photographed colour of the product as the words (``by_product``:
    SKU -> its variant ids)."""
    out = []
    for r in rows:
        colours = sorted(vid.rsplit(":", 1)[1] for vid in by_product.get(r["sku"], ()))
        for p in (p for p in r["images"].split("|") if p):
            m = COLOUR_IN_NAME.search(Path(p).name)
            path = str(DATA / "luma" / p)
            vid = f"{r['sku']}:{m.group(1)}" if m else None
            if vid not in variants or variants[vid][0] == path:
                continue
            out.extend(LabelledQuery(f"o{Path(p).stem}>{b}", {f"{r['sku']}:{b}": 1.0}, text=b, image=path)
                       for b in colours if b != m.group(1))
    return out


def _under_price_queries(by_type_colour: dict[str, list[str]], price: dict[str, float | None]
                         ) -> list[LabelledQuery]:
    """"⟨colour⟩ ⟨category⟩ under P" queries: P = the median price (whole units) of the category's
    variants, relevant = the colour's variants priced at most P; queries with none are left out."""
    by_leaf: dict[str, list[float]] = {}
    for words, vids in by_type_colour.items():
        by_leaf.setdefault(words.split(" ", 1)[1], []).extend(price[v] for v in vids if price[v] is not None)
    out = []
    for words, vids in sorted(by_type_colour.items()):
        prices = by_leaf[words.split(" ", 1)[1]]
        if not prices:
            continue
        limit = round(float(np.median(prices)))
        relevant = {v: 1.0 for v in vids if price[v] is not None and price[v] <= limit}
        if relevant:
            out.append(LabelledQuery(f"tp{words}<{limit}", relevant, text=f"{words} under {limit}"))
    return out


def _luma_variants(rows: list[dict]) -> dict[str, tuple[str, str]]:
    """'SKU:colour' -> (main photo of that colour, category), for products with 2+ colours photographed."""
    out = {}
    for r in rows:
        seen = {}
        for p in r["images"].split("|"):
            m = COLOUR_IN_NAME.search(Path(p).name)
            if m and m.group(1) not in seen and ("main" in p or m.group(1) not in seen):
                seen[m.group(1)] = str(DATA / "luma" / p)
        if len(seen) >= 2:
            for colour, img in seen.items():
                out[f"{r['sku']}:{colour}"] = (img, r["category"])
    return out


# -- newbee_zh ------------------------------------------------------------------------------
def newbee_tasks() -> list[Task]:
    rows = [r for r in _rows("newbee_zh") if r["image"] and (DATA / "newbee_zh" / r["image"]).exists()]
    products = [Product(id=r["goods_id"], title=r["goods_name"], description=r["goods_intro"],
                        category=r["category_name"] or "",
                        price=float(r["selling_price"]) if r["selling_price"] else None, currency="CNY",
                        images=(str(DATA / "newbee_zh" / r["image"]),)) for r in rows]
    text_q = [LabelledQuery(f"t{r['goods_id']}", {r["goods_id"]: 1.0}, text=r["goods_name"]) for r in rows]
    return [Task("newbee_zh Chinese name → photo", "text", products, text_q, language="zh",
                 notes="index = cover photos only, names hidden; query = Chinese product name")]
