"""Catalogue photos given as web addresses (engine/remote_photos.py), against a real HTTP server on loopback:
fetched once, checked, kept; a bad address refuses its row by line and column; re-imports reuse the files."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from engine.catalog import Catalog
from engine.config import FetchConfig
from engine.errors import RowError
from engine.ingest import PRESETS, ColumnMap, import_file
from engine.remote_photos import PhotoStore, is_address


def _jpeg(colour: str, size=(48, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), colour).save(buf, "PNG")
    return buf.getvalue()


PHOTOS = {"/red.jpg": _jpeg("red"), "/blue.jpg": _jpeg("blue"), "/green.png": _png("green"),
          "/also-red.jpg": _jpeg("red")}


class Shop(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    extra: dict = {}  # more files a test serves

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0]
        Shop.hits[path] += 1
        if path in PHOTOS:
            return self._send(200, PHOTOS[path], "image/jpeg")
        if path in Shop.extra:
            return self._send(200, Shop.extra[path], "text/plain")
        if path == "/flaky.jpg":  # down the first time
            return self._send(503, b"busy", "text/plain") if Shop.hits[path] == 1 else self._send(200, PHOTOS["/blue.jpg"], "image/jpeg")
        if path == "/page.jpg":
            return self._send(200, b"<html><body>not a photo</body></html>", "text/html")
        if path == "/huge.jpg":
            return self._send(200, b"\xff" * 5000, "image/jpeg")
        if path == "/slow.jpg":
            time.sleep(1.5)
            return self._send(200, PHOTOS["/red.jpg"], "image/jpeg")
        self._send(404, b"no such photo", "text/plain")

    def _send(self, status: int, body: bytes, kind: str):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="module")
def shop_url():
    server = QuietServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _fresh_hits():
    Shop.hits.clear()
    Shop.extra.clear()


def _feed(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _store(tmp_path: Path, **fetch) -> PhotoStore:
    return PhotoStore(tmp_path / "data" / "photos", FetchConfig(**{"retries": 0, "timeout_s": 5.0, **fetch}))


def test_addresses_are_fetched_kept_as_sent_and_named_by_content(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    feed = _feed(tmp_path, [
        {"id": "A", "title": "Red tee", "price": 10, "images": [f"{shop_url}/red.jpg", f"{shop_url}/green.png"]},
        {"id": "B", "title": "Same red tee, other address", "price": 10, "images": f"{shop_url}/also-red.jpg"},
    ])
    report = import_file(catalog, feed, photos=_store(tmp_path))
    assert report.errors == [] and report.imported == 2 and report.downloaded == 3 and report.reused == 0
    a, b = catalog.get("A"), catalog.get("B")
    assert [Path(p).read_bytes() for p in a.images] == [PHOTOS["/red.jpg"], PHOTOS["/green.png"]]
    assert Path(a.images[1]).suffix == ".png" and Path(a.images[0]).parent == (tmp_path / "data" / "photos").resolve()
    assert b.images == a.images[:1]  # one picture, one file
    assert not list((tmp_path / "data" / "photos").glob(".fetch-*"))


def test_a_bad_address_refuses_its_row_by_line_and_column_and_the_rest_imports(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    path = tmp_path / "feed.csv"
    path.write_text("sku,name,price,photo_main,photo_more\n"
                    f"G1,Good,5,{shop_url}/red.jpg,{shop_url}/blue.jpg\n"
                    f"G2,Gone,5,{shop_url}/red.jpg,{shop_url}/gone.jpg\n"
                    f"G3,Web page,5,{shop_url}/page.jpg,\n"
                    f"G4,Too big,5,{shop_url}/huge.jpg,\n"
                    f"G5,Slow,5,{shop_url}/slow.jpg,\n")
    cmap = ColumnMap(images=["photo_main", "photo_more"])
    report = import_file(catalog, path, cmap, photos=_store(tmp_path, max_bytes=4000, timeout_s=0.5))
    errors = {e.line: (e.field, e.message) for e in report.errors}
    assert set(errors) == {3, 4, 5, 6} and report.imported == 1
    assert errors[3] == ("photo_more", f"image {shop_url}/gone.jpg: HTTP 404")
    assert errors[4][0] == "photo_main" and "not a supported image" in errors[4][1]
    assert "limit of 4000" in errors[5][1]
    assert "timed out" in errors[6][1]
    assert [p.id for p in catalog] == ["G1"] and len(catalog.get("G1").images) == 2


def test_a_passing_failure_is_tried_again(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    feed = _feed(tmp_path, [{"id": "F", "title": "Flaky", "images": f"{shop_url}/flaky.jpg"},
                            {"id": "N", "title": "Not found", "images": f"{shop_url}/nothing.jpg"}])
    report = import_file(catalog, feed, photos=_store(tmp_path, retries=1))
    assert report.imported == 1 and [e.line for e in report.errors] == [2]
    assert Shop.hits["/flaky.jpg"] == 2  # 503, then the photo
    assert Shop.hits["/nothing.jpg"] == 1  # a 404 is not tried again
    assert Path(catalog.get("F").images[0]).read_bytes() == PHOTOS["/blue.jpg"]


def test_an_import_run_again_reuses_the_kept_photos_unless_told_to_refetch(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    feed = _feed(tmp_path, [{"id": "A", "title": "Red tee", "price": 10, "images": f"{shop_url}/red.jpg"}])
    first = import_file(catalog, feed, photos=_store(tmp_path))
    again = import_file(catalog, feed, photos=_store(tmp_path))
    assert (first.downloaded, again.downloaded, again.reused) == (1, 0, 1)
    assert Shop.hits["/red.jpg"] == 1
    refetched = import_file(catalog, feed, photos=_store(tmp_path, refetch=True))
    assert refetched.downloaded == 1 and Shop.hits["/red.jpg"] == 2
    kept = Path(catalog.get("A").images[0])
    kept.unlink()  # a kept file gone from disk is fetched again
    assert import_file(catalog, feed, photos=_store(tmp_path)).downloaded == 1 and kept.exists()


def test_a_refused_update_keeps_the_stored_product_as_it_was(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    import_file(catalog, _feed(tmp_path, [{"id": "A", "title": "Red tee", "price": 10, "images": f"{shop_url}/red.jpg"}]),
                photos=_store(tmp_path))
    before = catalog.get("A")
    report = import_file(catalog, _feed(tmp_path, [{"id": "A", "title": "Red tee", "price": 7,
                                                    "images": f"{shop_url}/moved.jpg"}]), photos=_store(tmp_path))
    assert report.imported == 0 and report.errors[0].field == "images"
    assert catalog.get("A") == before


def test_google_merchant_feed(tmp_path, shop_url):
    """Google Merchant Center's columns: "15.00 USD" prices, the sale price first, "A > B > C" product types,
    photos by address in image_link and (comma-separated) additional_image_link."""
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    path = tmp_path / "products.tsv"
    header = "id\ttitle\tdescription\tlink\timage_link\tadditional_image_link\tprice\tsale_price\tproduct_type\tbrand\tcolor\tavailability"
    rows = [f"D1\tSummer dress\tLight.\thttps://shop.example/d1\t{shop_url}/red.jpg\t{shop_url}/blue.jpg,{shop_url}/green.png"
            "\t49.90 USD\t39.90 USD\tHome > Women > Dresses\tAcme\tRed\tin stock",
            f"D2\tWinter coat\t\thttps://shop.example/d2\t{shop_url}/blue.jpg\t\t1.299,00 EUR\t\tHome > Women > Coats\t\tBlue\tout of stock",
            f"D3\tBroken price\t\t\t{shop_url}/blue.jpg\t\tfree\t\t\t\t\t"]
    path.write_text("\n".join([header, *rows]) + "\n")
    report = import_file(catalog, path, PRESETS["google"], photos=_store(tmp_path))
    assert report.imported == 2 and [(e.line, e.field) for e in report.errors] == [(4, "price")]
    d1, d2 = catalog.get("D1"), catalog.get("D2")
    assert (d1.price, d1.currency, d1.category) == (39.90, "USD", "Home/Women/Dresses")
    assert (d2.price, d2.currency, d2.category) == (1299.0, "EUR", "Home/Women/Coats")
    assert d1.attributes == {"brand": "Acme", "colour": "Red", "availability": "in stock", "link": "https://shop.example/d1"}
    assert [Path(p).read_bytes() for p in d1.images] == [PHOTOS["/red.jpg"], PHOTOS["/blue.jpg"], PHOTOS["/green.png"]]
    assert d2.images == d1.images[1:2]


@pytest.mark.parametrize("cell, price, currency", [
    ("15.00 USD", 15.0, "USD"), ("USD 15", 15.0, "USD"), ("15,00 eur", 15.0, "EUR"), ("1,299.50", 1299.5, ""),
    ("1.299,50 EUR", 1299.5, "EUR"), ("1 299,50", 1299.5, ""), ("12", 12.0, ""), ("1e3", 1000.0, ""),
    ("€ 9,99", 9.99, "EUR"), ("9,99€", 9.99, "EUR"), ("£1,299.00", 1299.0, "GBP"), ("$15.50", 15.5, "")])
def test_price_cells_with_currency_codes_and_decimal_commas(tmp_path, cell, price, currency):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "P", "title": "Thing", "price": cell}) + "\n")
    catalog = Catalog(tmp_path / "c.db")
    assert import_file(catalog, path).errors == []
    assert (catalog.get("P").price, catalog.get("P").currency) == (price, currency)


@pytest.mark.parametrize("cell, words", [("USD 15 EUR", "not a number"), ("-5", "negative"), ("nan", "finite"),
                                         ("€", "not a number"), ("€ 5 USD", "two currencies"),
                                         ("abc", "not a number"), (True, "not a number")])
def test_bad_price_cells_name_the_problem(tmp_path, cell, words):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "P", "title": "Thing", "price": cell}) + "\n")
    report = import_file(Catalog(tmp_path / "c.db"), path)
    assert [(e.field, words in e.message) for e in report.errors] == [("price", True)]


def test_a_stale_temporary_file_is_swept_and_a_fresh_one_kept(tmp_path, shop_url):
    folder = tmp_path / "data" / "photos"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".fetch-old.part", folder / ".fetch-new.part"
    stale.write_bytes(b"half a photo")
    fresh.write_bytes(b"another import's photo on its way")
    old = time.time() - 7200
    import os
    os.utime(stale, (old, old))
    got = _store(tmp_path).localise([f"{shop_url}/red.jpg"])
    assert len(got.files) == 1 and not stale.exists() and fresh.exists()


def test_only_http_addresses_are_fetched():
    assert is_address("https://cdn.example/a.jpg") and is_address("HTTP://x/y.png")
    assert not is_address("file:///etc/passwd") and not is_address("images/a.jpg") and not is_address("ftp://x/a.jpg")


def test_import_without_a_store_keeps_photos_beside_the_catalogue(tmp_path, shop_url):
    catalog = Catalog(tmp_path / "shop" / "catalog.db")
    feed = _feed(tmp_path, [{"id": "A", "title": "Red tee", "images": f"{shop_url}/red.jpg"}])
    assert import_file(catalog, feed).imported == 1
    assert Path(catalog.get("A").images[0]).parent == (tmp_path / "shop" / "photos").resolve()


def test_the_row_error_names_line_and_field():
    err = RowError(7, "image_link", "image https://x/a.jpg: HTTP 404")
    assert str(err) == "line 7: image_link: image https://x/a.jpg: HTTP 404"
    assert replace(FetchConfig(), workers=2).workers == 2


def test_the_command_line_import_fetches_into_the_data_folder_and_counts(tmp_path, shop_url, capsys):
    from engine.cli import main

    path = tmp_path / "products.tsv"
    path.write_text("id\ttitle\tprice\timage_link\n"
                    f"T1\tTee\t9.99 GBP\t{shop_url}/red.jpg\n"
                    f"T2\tGone tee\t9.99 GBP\t{shop_url}/gone.jpg\n")
    argv = ["--data-dir", str(tmp_path / "d"), "-q", "--set", "fetch.retries=0", "import", str(path), "--mapping", "google"]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert json.loads(out) == {"imported": 1, "refused": 1, "photos_downloaded": 1, "photos_reused": 0}
    assert f"line 3: image_link: image {shop_url}/gone.jpg: HTTP 404" in err
    assert main(argv) == 3
    assert json.loads(capsys.readouterr().out)["photos_reused"] == 1
    assert Shop.hits["/red.jpg"] == 1 and len(list((tmp_path / "d" / "photos").glob("*.jpg"))) == 1


def test_a_feed_published_at_an_address_imports_with_its_photo_paths_read_beside_it(tmp_path, shop_url, capsys):
    """`shopsight import https://shop/feeds/products.csv`: the file is downloaded, its photo paths become
    addresses beside it, and the temporary copy is gone afterwards; a name that does not say the format
    needs --format."""
    from engine.cli import main

    feed = "id,title,price,image\nF1,Feed tee,5 EUR,red.jpg\nF2,Feed mug,7 EUR,/blue.jpg\n"
    Shop.extra.update({"/feeds/products.csv": feed.encode(), "/feeds/products.txt": feed.replace(",", "\t").encode()})
    data = tmp_path / "d"
    argv = ["--data-dir", str(data), "-q", "--set", "fetch.retries=0", "import"]
    assert main([*argv, f"{shop_url}/feeds/products.csv"]) == 3  # red.jpg beside the feed: /feeds/red.jpg, a 404
    out, err = capsys.readouterr()
    assert json.loads(out)["imported"] == 1 and f"line 2: image: image {shop_url}/feeds/red.jpg: HTTP 404" in err
    catalog = Catalog(data / "catalog.db")
    assert [p.id for p in catalog] == ["F2"] and catalog.get("F2").currency == "EUR"
    assert Path(catalog.get("F2").images[0]).read_bytes() == PHOTOS["/blue.jpg"]
    assert not [f for f in (data / "feeds").iterdir()]  # the downloaded copy removed
    assert main([*argv, f"{shop_url}/feeds/products.txt", "--format", "tsv"]) == 3
    capsys.readouterr()
    assert main([*argv, f"{shop_url}/feeds/products.txt"]) == 1
    assert "cannot tell the file's format from '.txt'" in capsys.readouterr().err
    assert main([*argv, f"{shop_url}/feeds/gone.csv"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    Shop.extra["/feeds/google.xml"] = (  # a Google feed in XML (it was refused: "cannot tell the format")
        '<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>F3</g:id><g:title>Feed cap</g:title>'
        '<g:price>9 EUR</g:price><g:image_link>/blue.jpg</g:image_link></item></channel></rss>').encode()
    assert main([*argv, f"{shop_url}/feeds/google.xml", "--mapping", "google"]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 1 and Catalog(data / "catalog.db").get("F3").price == 9


def test_the_data_folder_can_move_with_its_photos(tmp_path, shop_url):
    """Photos kept in the data folder are stored relative to it: a restored backup or another mount point
    finds them; photos outside it keep their absolute paths."""
    import shutil

    outside = tmp_path / "elsewhere.jpg"
    outside.write_bytes(PHOTOS["/blue.jpg"])
    catalog = Catalog(tmp_path / "d" / "catalog.db")
    feed = _feed(tmp_path, [{"id": "A", "title": "Red tee", "images": [f"{shop_url}/red.jpg", str(outside)]}])
    assert import_file(catalog, feed).imported == 1
    stored = catalog._conn().execute("SELECT images FROM products").fetchone()[0]
    assert json.loads(stored)[0].startswith("photos/") and json.loads(stored)[1] == str(outside.resolve())
    catalog.close()
    shutil.move(tmp_path / "d", tmp_path / "moved")
    moved = Catalog(tmp_path / "moved" / "catalog.db")
    photo, other = moved.get("A").images
    assert Path(photo).parent == (tmp_path / "moved" / "photos").resolve() and Path(photo).read_bytes() == PHOTOS["/red.jpg"]
    assert other == str(outside.resolve())
    assert import_file(moved, feed).reused == 1  # the address book's files moved too


def test_partial_stores_a_row_with_the_photos_that_came_and_warns_for_the_others(tmp_path, shop_url, capsys):
    from engine.cli import main

    path = tmp_path / "p.tsv"
    path.write_text("id\ttitle\timage_link\tadditional_image_link\n"
                    f"P1\tTee\t{shop_url}/red.jpg\t{shop_url}/gone.jpg\n"
                    f"P2\tAll gone\t{shop_url}/gone2.jpg\t\n")
    argv = ["--data-dir", str(tmp_path / "d"), "-q", "--set", "fetch.retries=0", "--set", "fetch.partial=true",
            "import", str(path), "--mapping", "google"]
    assert main(argv) == 3  # P2 has no photo that came: refused still
    out, err = capsys.readouterr()
    counts = json.loads(out)
    assert (counts["imported"], counts["refused"], counts["photos_left_out"]) == (1, 1, 1)
    assert f"line 2: additional_image_link: image {shop_url}/gone.jpg: HTTP 404 (stored without it)" in err
    stored = Catalog(tmp_path / "d" / "catalog.db").get("P1")
    assert [Path(p).read_bytes() for p in stored.images] == [PHOTOS["/red.jpg"]]
