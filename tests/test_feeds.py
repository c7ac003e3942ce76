"""Shop platforms' exports (engine/feeds.py, the "shopify" preset): a product over several rows, options
named by the data, markup descriptions, products withdrawn from sale, prices by variant."""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image

from engine.catalog import Catalog
from engine.errors import RowError
from engine.feeds import grouped, merge, named_attributes, plain_text, withdrawn
from engine.ingest import PRESETS, import_file

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
          "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Variant SKU", "Variant Price",
          "Variant Compare At Price", "Image Src", "Image Position", "Variant Image", "Status"]


def _row(**cells) -> list[str]:
    return [cells.get(h.replace(" ", "_").replace("(", "").replace(")", "").lower(), "") for h in HEADER]


def _export(tmp_path, rows: list[list[str]]):
    for colour in ("red", "blue", "green", "grey"):
        Image.new("RGB", (24, 24), colour).save(tmp_path / f"{colour}.jpg")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / "products_export.csv"
    path.write_text(buf.getvalue())
    return path


def _shop(tmp_path):
    return _export(tmp_path, [
        _row(handle="tee", title="Organic Tee", body_html="<p>Soft <b>organic</b> cotton &amp; hemp.</p><ul><li>Unisex</li></ul>",
             vendor="Acme", product_category="Apparel & Accessories > Clothing > Shirts & Tops", type="T-Shirts",
             tags="cotton, summer", published="TRUE", option1_name="Color", option1_value="Red", option2_name="Size",
             option2_value="S", variant_sku="TEE-R-S", variant_price="25.00", image_src="red.jpg", image_position="1",
             status="active"),
        _row(handle="tee", option1_value="Red", option2_value="M", variant_sku="TEE-R-M", variant_price="27.00"),
        _row(handle="tee", option1_value="Blue", option2_value="S", variant_sku="TEE-B-S", variant_price="19.99",
             variant_image="blue.jpg"),
        _row(handle="tee", image_src="green.jpg", image_position="3"),
        _row(handle="mug", title="Stoneware Mug", body_html="Plain words, no markup < none here.", vendor="Clay Co",
             type="Mugs", published="TRUE", option1_name="Title", option1_value="Default Title", variant_price="12,50",
             image_src="grey.jpg", status="active"),
        _row(handle="old-cap", title="Old Cap", vendor="Acme", type="Caps", published="TRUE", variant_price="9",
             image_src="grey.jpg", status="archived"),
        _row(handle="draft-bag", title="Draft Bag", vendor="Acme", type="Bags", variant_price="40", status="draft"),
        _row(handle="tee", variant_sku="TEE-LATE", variant_price="1"),
    ])


def test_a_shopify_export_imports_one_product_per_handle(tmp_path):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    report = import_file(catalog, _shop(tmp_path), PRESETS["shopify"])
    assert (report.imported, report.withdrawn) == (2, 2)
    assert [(e.line, e.field) for e in report.errors] == [(9, "Handle")]  # a tee row after other products'
    assert "must follow each other (first at line 2)" in report.errors[0].message
    tee, mug = catalog.get("tee"), catalog.get("mug")
    assert tee.title == "Organic Tee" and tee.description == "Soft organic cotton & hemp.\nUnisex"
    assert (tee.price, tee.category) == (19.99, "Apparel & Accessories/Clothing/Shirts & Tops")  # the cheapest variant
    assert tee.attributes == {"color": "Red|Blue", "size": "S|M", "brand": "Acme", "type": "T-Shirts",
                              "tags": "cotton|summer", "sku": "TEE-R-S|TEE-R-M|TEE-B-S"}  # tags one by one
    assert [p.rsplit("/", 1)[1] for p in tee.images] == ["red.jpg", "green.jpg", "blue.jpg"]
    assert (mug.price, mug.category, mug.description) == (12.5, "Mugs", "Plain words, no markup < none here.")
    assert "color" not in mug.attributes and "title" not in mug.attributes  # Shopify's placeholder option


NEWER_HEADERS = {"Handle": "URL handle", "Body (HTML)": "Description", "Product Category": "Product category",
                 "Option1 Name": "Option1 name", "Option1 Value": "Option1 value", "Option2 Name": "Option2 name",
                 "Option2 Value": "Option2 value", "Variant SKU": "SKU", "Variant Price": "Price",
                 "Variant Compare At Price": "Compare-at price", "Image Src": "Product image URL",
                 "Image Position": "Image position", "Variant Image": "Variant image URL",
                 "Published": "Published on online store"}


def test_a_shopify_export_with_the_newer_headers_imports_the_same(tmp_path):
    """Shopify's exports since 2025 name the columns differently ("URL handle", "SKU", "Option1 name"...): the
    preset refused such a file ("no id column"); it now reads both, to the same products."""
    old = _shop(tmp_path)
    lines = old.read_text().splitlines(keepends=True)
    newer = tmp_path / "products_export_2025.csv"
    newer.write_text(",".join(NEWER_HEADERS.get(h, h) for h in HEADER) + "\n" + "".join(lines[1:]))
    before, after = Catalog(tmp_path / "a" / "catalog.db"), Catalog(tmp_path / "b" / "catalog.db")
    a, b = import_file(before, old, PRESETS["shopify"]), import_file(after, newer, PRESETS["shopify"])
    assert (b.imported, b.withdrawn, [(e.line, e.field) for e in b.errors]) == (a.imported, a.withdrawn, [(9, "Handle")])
    for pid in ("tee", "mug"):
        x, y = before.get(pid), after.get(pid)
        assert (x.title, x.price, x.category, x.attributes, x.description) == (y.title, y.price, y.category, y.attributes,
                                                                              y.description)
        assert [p.rsplit("/", 1)[1] for p in x.images] == [p.rsplit("/", 1)[1] for p in y.images]


def test_a_product_archived_since_the_last_import_is_removed(tmp_path):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    path = _export(tmp_path, [_row(handle="old-cap", title="Old Cap", variant_price="9", status="active")])
    assert import_file(catalog, path, PRESETS["shopify"]).imported == 1
    seq = catalog.seq
    report = import_file(catalog, _shop(tmp_path), PRESETS["shopify"])
    assert report.withdrawn == 2 and "old-cap" not in {p.id for p in catalog} and catalog.seq > seq
    assert len(catalog) == 2  # the draft never stored: nothing to remove, no error


def test_grouped_merges_runs_and_keeps_errors_in_place():
    rows = [(2, {"h": "a", "t": "A", "img": "1"}), (3, {"h": "a", "t": "", "img": "2"}), (4, RowError(4, "row", "x")),
            (5, {"h": "", "t": "No handle"}), (6, {"h": "", "t": "Another"}), (7, {"h": "a", "t": "again"})]
    out = sorted(grouped(iter(rows), "h", frozenset({"img"})), key=lambda x: x[0])  # an unreadable row does not end a run
    assert [line for line, _ in out] == [2, 4, 5, 6, 7]
    assert out[0][1] == {"h": "a", "t": "A", "img": ["1", "2"]}
    assert isinstance(out[1][1], RowError) and isinstance(out[4][1], RowError)
    assert out[2][1]["t"] == "No handle" and out[3][1]["t"] == "Another"  # no handle: each row its own product


def test_merge_named_attributes_and_withdrawn():
    row = merge([{"n": "Color", "v": "Red", "s": "active"}, {"n": "", "v": "Blue"}, {"v": "Red"}], frozenset({"v"}))
    assert row == {"n": "Color", "v": ["Red", "Blue"], "s": "active"}
    assert named_attributes(row, {"n": "v"}) == {"color": "Red|Blue"}
    assert withdrawn(row, {"s": ["Archived"]}) is None and withdrawn({"s": "ARCHIVED"}, {"s": ["archived"]}) == "s=ARCHIVED"


@pytest.mark.parametrize("text, plain", [
    ("<p>One</p><p>Two &amp; three</p>", "One\nTwo & three"),
    ("<div>Keep <script>alert(1)</script>this</div>", "Keep this"),
    ("Size < 10 and > 2", "Size < 10 and > 2"),
    ("a <br/>b", "a\nb"),
])
def test_plain_text_takes_markup_out_and_leaves_plain_text_alone(text, plain):
    assert plain_text(text) == plain


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Shop</title>
<item>
  <g:id>A1</g:id><title>Red Mug &amp; Saucer</title><description>Stoneware.</description>
  <g:price>12.50 EUR</g:price><g:sale_price>9.99 EUR</g:sale_price>
  <g:image_link>red.jpg</g:image_link>
  <g:additional_image_link>blue.jpg</g:additional_image_link><g:additional_image_link>green.jpg</g:additional_image_link>
  <g:product_type>Home &gt; Kitchen &gt; Mugs</g:product_type><g:brand>Clay Co</g:brand>
  <g:shipping><g:country>DE</g:country><g:price>4.95 EUR</g:price></g:shipping>
</item>
<item>
  <g:id>A2</g:id><title>Grey Bowl</title><g:price>20 EUR</g:price><g:image_link>grey.jpg</g:image_link>
</item>
<item>
  <g:id>A3</g:id><title>No price</title><g:price>lots</g:price>
</item>
</channel></rss>
"""


def test_a_google_rss_feed_imports_with_the_google_mapping(tmp_path):
    """Google Merchant Center feeds are most often XML (RSS 2.0 with g: elements); they were refused as an unknown
    format. The items import as the tab-separated feed's rows do; a bad item is reported by its line."""
    _export(tmp_path, [])
    (tmp_path / "feed.xml").write_text(RSS, encoding="utf-8")
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    report = import_file(catalog, tmp_path / "feed.xml", PRESETS["google"])
    assert report.imported == 2 and [(e.line, e.field) for e in report.errors] == [(14, "price")]
    mug = catalog.get("A1")
    assert (mug.title, mug.price, mug.currency, mug.category) == ("Red Mug & Saucer", 9.99, "EUR", "Home/Kitchen/Mugs")
    assert [p.rsplit("/", 1)[1] for p in mug.images] == ["red.jpg", "blue.jpg", "green.jpg"]
    assert mug.attributes["brand"] == "Clay Co" and "country" not in mug.attributes  # nested shipping left out


def test_an_atom_feed_and_a_broken_one(tmp_path):
    """Atom entries give their link as an href; a feed that breaks off keeps the items before the break and names
    the line; an entity-expansion bomb is refused by the parser, not expanded."""
    from engine.ingest import read_rows

    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>B1</id><title>Tee</title>'
            '<link href="https://shop.example/tee"/></entry>\n<entry><id>B2</id><title>Cap</title></entry>\n'
            '<entry><id>B3</id><title>Broken</title>\n</feed>')
    (tmp_path / "f.atom").write_text(atom, encoding="utf-8")
    rows = list(read_rows(tmp_path / "f.atom"))
    assert [r for _, r in rows[:2]] == [{"id": "B1", "title": "Tee", "link": "https://shop.example/tee"},
                                         {"id": "B2", "title": "Cap"}]
    line, error = rows[2]
    assert len(rows) == 3 and line == 4 and error.field == "xml" and "mismatched tag" in error.message
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi"))
            + ']><rss><channel><item><id>x</id><title>&i;</title></item></channel></rss>')
    (tmp_path / "bomb.xml").write_text(bomb, encoding="utf-8")
    rows = list(read_rows(tmp_path / "bomb.xml"))
    assert len(rows) == 1 and isinstance(rows[0][1], Exception) and rows[0][1].field == "xml"
