"""Catalogue import: bad rows are reported by line and field; good rows are stored; re-import upserts."""

import json

from PIL import Image

from engine.catalog import Catalog
from engine.ingest import PRESETS, ColumnMap, import_file


def _catalogue(tmp_path):
    Image.new("RGB", (20, 20), "red").save(tmp_path / "ok.png")
    (tmp_path / "broken.jpg").write_bytes(b"this is not a jpeg")
    rows = [
        b"sku,name,price,images,colors",
        b"A1,Good hoodie,52.0,ok.png,Black|Gray",
        b",No id,10,ok.png,Red",
        b"A3,Broken photo,10,broken.jpg,Red",
        b"A4,Negative,-3,ok.png,Red",
        b"A5,Not a number,abc,ok.png,Red",
        b"A6,Bad \xff\xfe utf8,10,ok.png,Red",
        b"A7,Missing photo,10,nothere.png,Red",
        b'A8,"Quoted, with comma",1.5,ok.png,Blue',
    ]
    path = tmp_path / "cat.csv"
    path.write_bytes(b"\n".join(rows) + b"\n")
    return path


def test_bad_rows_are_reported_by_line_and_field_and_the_rest_imports(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    report = import_file(catalog, _catalogue(tmp_path), PRESETS["luma"])
    errors = {(e.line, e.field) for e in report.errors}
    assert errors == {(3, "sku"), (4, "images"), (5, "price"), (6, "price"), (7, "name"), (8, "images")}
    assert report.imported == 2
    assert sorted(p.id for p in catalog) == ["A1", "A8"]
    a1 = catalog.get("A1")
    assert a1.price == 52.0 and a1.currency == "USD" and a1.attributes == {"colour": "Black|Gray"}
    assert a1.images[0].endswith("ok.png")


def test_reimport_upserts_by_id(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    path = _catalogue(tmp_path)
    import_file(catalog, path, PRESETS["luma"])
    path.write_text("sku,name,price\nA1,Renamed hoodie,60\n")  # a price feed: no images column
    import_file(catalog, path, PRESETS["luma"])
    assert len(catalog) == 2 and catalog.get("A1").title == "Renamed hoodie"
    assert catalog.get("A1").price == 60.0 and catalog.get("A1").images[0].endswith("ok.png")  # photos kept
    path.write_text("sku,name,price,images\nA8,Quoted,2.5,\nB1,New without photos,3,\n")  # empty cells
    import_file(catalog, path, PRESETS["luma"])
    assert catalog.get("A8").images[0].endswith("ok.png") and catalog.get("B1").images == ()


def test_jsonl_with_mapping_file(tmp_path):
    Image.new("RGB", (20, 20), "blue").save(tmp_path / "b.png")
    lines = [json.dumps({"goods_id": 1, "goods_name": "蓝色杯子", "selling_price": 12, "image": "b.png",
                         "cat": ["Home", "Kitchen"]}, ensure_ascii=False).encode(),
             b"{not json", json.dumps({"goods_id": 2, "goods_name": "x", "selling_price": -1}).encode(),
             b'{"goods_id": 3, "goods_name": "\xff"}']
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\n".join(lines))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"category": ["cat"], "default_currency": "CNY"}))
    catalog = Catalog(tmp_path / "c.db")
    report = import_file(catalog, path, ColumnMap.from_file(mapping))
    assert report.imported == 1
    assert [(e.line, e.field) for e in report.errors] == [(2, "json"), (3, "selling_price"), (4, "encoding")]
    p = catalog.get("1")
    assert p.title == "蓝色杯子" and p.price == 12 and p.currency == "CNY" and p.category == "Home/Kitchen"


def test_predicted_category_never_overwrites_a_given_one(tmp_path):
    from engine.types import Product

    catalog = Catalog(tmp_path / "c.db")
    catalog.upsert([Product(id="p", title="t", category="Men/Tops")])
    catalog.upsert([Product(id="p", title="t2", category="Women/Bags", category_predicted=True)])
    p = catalog.get("p")
    assert p.category == "Men/Tops" and not p.category_predicted and p.title == "t2"
