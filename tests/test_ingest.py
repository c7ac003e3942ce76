"""Catalogue import: bad rows are reported by line and field; good rows are stored; re-import upserts."""

import json

import pytest

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
        b'A8,"Quoted, with comma, caf\xc3\xa9",1.5,ok.png,Blue',  # UTF-8 elsewhere: A6's bytes are a broken row
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


def test_a_windows_1252_csv_is_read_as_such_and_said_so(tmp_path):
    """Excel's "CSV" on a Western European Windows: every row with an accent was refused as invalid UTF-8."""
    catalog = Catalog(tmp_path / "c.db")
    path = tmp_path / "cat.csv"
    path.write_bytes("id;title;price\nW1;Café crème;12,50\nW2;Größe L;3\n".encode("cp1252"))
    report = import_file(catalog, path, ColumnMap(default_currency="EUR"))
    assert not report.errors and report.notes == ["read as cp1252 (Windows-1252): the file is not UTF-8"]
    assert (catalog.get("W1").title, catalog.get("W2").title) == ("Café crème", "Größe L")


def test_prices_in_no_currency_are_said(tmp_path):
    """A Shopify export has no currency column: its products were stored with prices in no currency, silently."""
    catalog = Catalog(tmp_path / "c.db")
    path = tmp_path / "cat.csv"
    path.write_text("id,title,price\nA,Mug,12.50\nB,Cup,3 EUR\nC,Bowl,\n", encoding="utf-8")
    report = import_file(catalog, path)
    assert report.imported == 3 and len(report.notes) == 1 and report.notes[0].startswith("1 product has a price in no")
    assert "--currency" in report.notes[0] and catalog.get("A").currency == ""
    assert not import_file(catalog, path, ColumnMap(default_currency="EUR")).notes


def test_text_decoding_rules():
    from engine.csv_text import decode

    assert decode("\ufeffid,Café".encode()) == ("id,Café", "utf-8")
    assert decode("id,Café".encode("cp1252")) == ("id,Café", "cp1252")
    text, encoding = decode("id,Café\n".encode() + b"x,\xff\n")  # UTF-8 with one broken byte: stays UTF-8
    assert encoding == "utf-8" and "\udcff" in text
    assert decode(b"id,\x81") == ("id,\udc81", "utf-8")  # a byte Windows-1252 leaves undefined


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


def test_an_id_repeated_in_one_file_is_reported_and_the_later_row_wins(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    path = tmp_path / "cat.csv"
    path.write_text("sku,name,price\nA1,Red mug,12\nA2,Blue mug,10\nA1,Red mug (new),9\n")
    report = import_file(catalog, path, PRESETS["luma"])
    assert len(catalog) == 2 and catalog.get("A1").title == "Red mug (new)" and not report.errors
    assert [(r.line, r.field) for r in report.repeated] == [(4, "id")] and "line 2" in report.repeated[0].message


def test_a_semicolon_csv_with_decimal_commas_imports(tmp_path):
    """What a spreadsheet saves as CSV where the decimal mark is a comma; a comma-separated file whose
    cells hold semicolons stays comma-separated."""
    catalog = Catalog(tmp_path / "c.db")
    path = tmp_path / "cat.csv"
    path.write_text("id;title;price;category\nE1;Rote Tasse;12,50;Küche/Tassen\nE2;Blaue Tasse;1.234,00 €;Küche\n",
                    encoding="utf-8")
    assert not import_file(catalog, path).errors
    assert [(p.price, p.currency) for p in (catalog.get("E1"), catalog.get("E2"))] == [(12.5, ""), (1234.0, "EUR")]
    path.write_text('id,title,price\nC1,"Mug; blue",3\n')
    assert not import_file(catalog, path).errors and catalog.get("C1").title == "Mug; blue"


def test_jsonl_rows_each_bring_their_own_fields(tmp_path):
    """Fields a JSONL row has that the first row left out are read (they were dropped: the columns were found
    from the first row only); a later row with no title is refused by line; objects in attributes flatten."""
    catalog = Catalog(tmp_path / "c.db")
    path = tmp_path / "cat.jsonl"
    rows = [{"id": "J1", "title": "Mug", "attributes": {"size": 3, "dims": {"h": 10, "w": 8}}},
            {"id": "J2", "title": "Board", "category": ["Home", "Boards"], "description": "Oak", "price": "4,50 EUR"},
            {"id": "J3", "name_of_it": "no title key"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = import_file(catalog, path)
    assert [(e.line, e.field) for e in report.errors] == [(3, "title")]
    j2 = catalog.get("J2")
    assert (j2.category, j2.description, j2.price, j2.currency) == ("Home/Boards", "Oak", 4.5, "EUR")
    assert catalog.get("J1").attributes == {"size": "3", "dims.h": "10", "dims.w": "8"}


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


def _rows_file(tmp_path, rows, name="full.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_full_import_removes_what_the_file_no_longer_names_and_keeps_refused_rows_products(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    import_file(catalog, _rows_file(tmp_path, [{"id": i, "title": f"Thing {i}", "price": 10} for i in "ABCD"]))
    seq = catalog.seq
    report = import_file(catalog, _rows_file(tmp_path, [{"id": "A", "title": "Thing A", "price": 8},
                                                        {"id": "B", "title": "Thing B", "price": "cheap"},
                                                        {"id": "C", "title": "Thing C", "price": 10}]), full=True)
    assert (report.imported, report.removed, report.removal_refused) == (2, 1, None)
    assert catalog.ids() == ["A", "B", "C"] and catalog.get("B").price == 10 and catalog.get("A").price == 8
    changed, deleted = catalog.changes_since(seq)
    assert deleted == ["D"]  # a serving engine drops it at its next sync


def test_a_full_import_that_would_empty_most_of_the_catalogue_removes_nothing_unless_allowed(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    import_file(catalog, _rows_file(tmp_path, [{"id": str(i), "title": f"Thing {i}"} for i in range(10)]))
    cut = _rows_file(tmp_path, [{"id": "0", "title": "Thing 0"}, {"id": "1", "title": "Thing 1"}], "cut.jsonl")
    report = import_file(catalog, cut, full=True)
    assert report.removed == 0 and "names 2 of the 10 stored products" in report.removal_refused and len(catalog) == 10
    assert import_file(catalog, cut, full=True, max_removed=1.0).removed == 8 and catalog.ids() == ["0", "1"]


def test_removing_many_is_all_or_nothing(tmp_path, monkeypatch):
    from engine import lexicon

    catalog = Catalog(tmp_path / "c.db")
    import_file(catalog, _rows_file(tmp_path, [{"id": str(i), "title": f"Thing {i}"} for i in range(5)]))
    calls = []

    def forget(conn, rowid):
        calls.append(rowid)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process stopped half-way through
    monkeypatch.setattr(lexicon, "forget", forget)
    with pytest.raises(KeyboardInterrupt):
        catalog.delete_many(["0", "1", "2", "3"])
    assert catalog.ids() == ["0", "1", "2", "3", "4"] and len(catalog) == 5


def test_the_command_line_full_import_prints_what_it_removed(tmp_path, capsys):
    from engine.cli import main

    data = ["--data-dir", str(tmp_path / "d"), "-q", "import"]
    assert main([*data, str(_rows_file(tmp_path, [{"id": i, "title": i} for i in "ABC"]))]) == 0
    capsys.readouterr()
    assert main([*data, str(_rows_file(tmp_path, [{"id": "A", "title": "A"}, {"id": "B", "title": "B"}], "b.jsonl")),
                 "--full"]) == 0
    assert json.loads(capsys.readouterr().out) == {"imported": 2, "refused": 0, "removed": 1}
    assert main([*data, str(_rows_file(tmp_path, [{"id": "A", "title": "A"}], "c.jsonl")), "--full",
                 "--max-removed", "0.2"]) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["removed"] == 0 and "none was removed" in err


def test_export_then_import_gives_the_same_catalogue(built_shop, tmp_path, capsys):
    """`shopsight export` writes JSONL that `shopsight import` reads back whole: attributes, predicted-category
    marks, prices, currencies, photos."""
    from dataclasses import replace

    from engine.cli import main
    from engine.config import config_to_dict

    source = Catalog(built_shop.path / "catalog.db")
    marked = source.get("S0002").with_(category="Apparel/Tops/Hoodies", category_predicted=True)
    copy_dir = tmp_path / "orig"
    import shutil
    shutil.copytree(built_shop.path, copy_dir)
    orig = Catalog(copy_dir / "catalog.db")
    orig.upsert([marked.with_(id="PRED1")])
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(config_to_dict(replace(built_shop, data_dir=str(copy_dir)))))
    assert main(["--config", str(cfg), "export", str(tmp_path / "all.jsonl")]) == 0
    assert json.loads(capsys.readouterr().out)["exported"] == len(orig)
    assert main(["--data-dir", str(tmp_path / "back"), "-q", "import", str(tmp_path / "all.jsonl")]) == 0
    back = Catalog(tmp_path / "back" / "catalog.db")
    assert {p.id: p for p in back} == {p.id: p for p in orig}
    assert back.get("PRED1").category_predicted and not back.get("S0002").category_predicted
