"""Which column of a catalogue file feeds which product field (``ColumnMap``), and the presets for the
shared data, the sample shop, Google Merchant Center feeds and Shopify product exports.

A ``ColumnMap`` comes from options, a JSON mapping file or a preset, so shop exports import without
editing; fields left unset are found by common column names (``SYNONYMS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import CatalogFormatError

SYNONYMS = {
    "id": ("id", "sku", "goods_id", "product_id", "item_id"),
    "title": ("title", "name", "goods_name", "product_name"),
    "description": ("description", "goods_intro", "desc", "body"),
    "category": ("category", "category_path", "category_name", "product_type"),
    "price": ("price", "selling_price", "sale_price"),
    "currency": ("currency",),
    "images": ("images", "image", "image_path", "photos", "photo", "image_link", "image_url"),
}


@dataclass(frozen=True)
class ColumnMap:
    """Which source column feeds which product field; ``None`` = auto-detect by common names."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | list[str] | None = None  # a list of columns is joined into a path with "/"
    category_sep: str = "/"  # separator between a category cell's levels ("Home > Women > Dresses": ">")
    price: str | list[str] | None = None  # a list: the first of these columns with a value ("sale_price", "price")
    currency: str | None = None
    images: str | list[str] | None = None  # paths (relative to image_root) or http(s) addresses; a list: all these columns'
    images_sep: str = "|"  # separator between several images in one cell
    attributes: dict[str, str] = field(default_factory=dict)  # attribute name -> source column
    default_currency: str = ""  # used when neither a currency column nor the price cell ("15.00 USD") names one
    image_root: str | None = None  # image paths are relative to this (default: the file's folder)
    category_else: str | None = None  # the category when the category column(s) are empty (Shopify: "Type")
    named_attributes: dict[str, str] = field(default_factory=dict)  # name column -> value column: the attribute is called what the name cell says ("Option1 Name": "Option1 Value")
    group_by: str | None = None  # rows with one value here, one after another, are one product (Shopify: "Handle"): each field's first value, every row's photos and attribute values, the lowest price
    withdraw_when: dict[str, list[str]] = field(default_factory=dict)  # column -> values (any case) marking a product not for sale: not imported, and removed if stored
    attribute_lists: dict[str, str] = field(default_factory=dict)  # attribute -> the separator between a cell's values (Shopify "Tags": ","): stored as "|"-separated values, each filtered and counted on its own
    headers: dict[str, str] = field(default_factory=dict)  # a header the file may use instead (any case) -> the column this mapping reads: Shopify's newer exports say "URL handle" for "Handle"; with any entry, the mapping's own columns match in any case too

    def collected(self) -> frozenset[str]:
        """The columns whose values a product's rows add up (``group_by``): photos, prices, attributes."""
        return frozenset([*columns(self.images), *columns(self.price), *self.attributes.values(),
                          *self.named_attributes.values(), *self.withdraw_when])

    @classmethod
    def from_file(cls, path: str | Path) -> "ColumnMap":
        data = json.loads(Path(path).read_text())
        valid = {f.name for f in fields(cls)}
        unknown = set(data) - valid
        if unknown:
            raise CatalogFormatError(f"unknown mapping keys {sorted(unknown)}; valid: {sorted(valid)}")
        return cls(**data)

    def resolve(self, columns: list[str]) -> "ColumnMap":
        """Fill unset fields from ``SYNONYMS``; raise if no id or title column can be found."""
        lower = {c.lower(): c for c in columns}
        resolved = {}
        for name, options in SYNONYMS.items():
            given = getattr(self, name)
            if given is None:
                given = next((lower[o] for o in options if o in lower), None)
            resolved[name] = given
        for required in ("id", "title"):
            if resolved[required] is None:
                raise CatalogFormatError(
                    f"no {required} column: map one with --map-{required}; columns are {columns}")
        return ColumnMap(**{**self.__dict__, **resolved})


# Shopify's product export since its 2025 column names (its help pages: "URL handle", "SKU", "Option1 name",
# "Inventory quantity"...) -> the names of the export before, which the preset reads
SHOPIFY_HEADERS = {"url handle": "Handle", "description": "Body (HTML)", "product category": "Product Category",
                   "sku": "Variant SKU", "price": "Variant Price", "compare-at price": "Variant Compare At Price",
                   "inventory quantity": "Variant Inventory Qty", "weight value (grams)": "Variant Grams",
                   "product image url": "Image Src", "image position": "Image Position",
                   "image alt text": "Image Alt Text", "variant image url": "Variant Image",
                   "published on online store": "Published"}

PRESETS = {
    "luma": ColumnMap(id="sku", title="name", attributes={"colour": "colors"}, default_currency="USD"),
    "fashion": ColumnMap(category=["master_category", "sub_category", "article_type"], images="image",
                         attributes={"colour": "base_colour", "usage": "usage"}),
    "newbee": ColumnMap(price="selling_price", default_currency="CNY"),
    "sample": ColumnMap(attributes={"colour": "colour", "pattern": "pattern", "title_zh": "title_zh"},
                        default_currency="EUR"),
    # Google Merchant Center product data (tab-separated .tsv or .csv): "15.00 USD" prices, the sale price
    # when there is one, "Home > Women > Dresses" product types, photos by address (engine/remote_photos.py)
    "google": ColumnMap(id="id", title="title", description="description", category="product_type", category_sep=">",
                        price=["sale_price", "price"], images=["image_link", "additional_image_link"], images_sep=",",
                        attributes={"brand": "brand", "colour": "color", "size": "size", "gender": "gender",
                                    "material": "material", "pattern": "pattern", "availability": "availability",
                                    "link": "link"}),
    # Shopify's product export: a product's variants and extra photos on rows under its Handle, options named
    # by the data ("Option1 Name" = "Color"), markup descriptions, drafts and archived products withdrawn
    "shopify": ColumnMap(id="Handle", title="Title", description="Body (HTML)", category="Product Category",
                         category_sep=">", category_else="Type", price="Variant Price", images=["Image Src", "Variant Image"],
                         attributes={"brand": "Vendor", "type": "Type", "tags": "Tags", "sku": "Variant SKU"},
                         named_attributes={f"Option{i} Name": f"Option{i} Value" for i in (1, 2, 3)}, group_by="Handle",
                         attribute_lists={"tags": ","}, headers=SHOPIFY_HEADERS,
                         withdraw_when={"Status": ["draft", "archived"], "Published": ["false"]}),
}


def header_names(cmap: ColumnMap) -> dict[str, str]:
    """A file header (lower case) -> the column ``cmap`` reads under that name: its ``headers``, and, when it has
    any, each column it names in another case ("Option1 name" for "Option1 Name")."""
    if not cmap.headers:
        return {}
    named = [*columns(cmap.id), *columns(cmap.title), *columns(cmap.description), *columns(cmap.category),
             *columns(cmap.price), *columns(cmap.images), *columns(cmap.category_else), *columns(cmap.group_by),
             *cmap.attributes.values(), *cmap.named_attributes, *cmap.named_attributes.values(), *cmap.withdraw_when]
    return {**{c.lower(): c for c in named}, **{k.lower(): v for k, v in cmap.headers.items()}}


def columns(spec: str | list[str] | None) -> list[str]:
    return spec if isinstance(spec, list) else [spec] if spec else []
