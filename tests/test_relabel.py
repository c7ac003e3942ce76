"""Products whose text and photo files are unchanged keep their vectors when their price, category or attributes
change (``ProductIndex.relabel``): a price feed re-embeds nothing and adds no vector rows."""

import os
import shutil
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine.catalog import Catalog
from engine.engine import SearchEngine
from engine.types import Filters, Query


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


def _sizes(engine):
    return {prefix: len(store) for prefix, store in engine.index.stores().items()}


def _feed(cfg, products):
    """Another process (a price feed) writes the catalogue."""
    Catalog(cfg.path / "catalog.db").upsert(products)


def test_a_price_feed_moves_prices_and_attributes_without_new_vectors(shop_copy, monkeypatch):
    engine = SearchEngine.open(shop_copy)
    sizes = _sizes(engine)
    old = list(engine.catalog)[:60]
    looks = {p.id: engine.index.looks.nth_of(engine.index.table.row_of[p.id], 0) for p in old}
    from engine import product_vectors

    monkeypatch.setattr(product_vectors, "vectors", lambda *a, **k: pytest.fail("re-embedded"))
    _feed(shop_copy, [p.with_(price=0.5 + i / 100, attributes={**p.attributes, "stock": "low"})
                      for i, p in enumerate(old)])
    rows = len(engine.index.table)
    assert engine.sync() == 60
    assert _sizes(engine) == sizes and len(engine.index.table) == rows  # no vector rows, no table rows added
    for p in old:
        row = engine.index.table.row_of[p.id]
        np.testing.assert_array_equal(engine.index.looks.nth_of(row, 0), looks[p.id])
        assert len(engine.index.photos.rows_of(row)) == len(p.images) and engine.index.texts.rows_of(row)
    hits = engine.search(Query(text=old[3].title, k=100, filters=Filters(max_price=1.0, attributes={"stock": "low"})))
    ids = [r.product.id for r in hits.results]
    assert old[3].id in ids and set(ids) <= {p.id for p in old}
    assert [r.product.price for r in hits.results if r.product.id == old[3].id] == [0.53]


def test_a_new_title_or_a_photo_replaced_in_place_is_embedded_again(shop_copy, tmp_path):
    engine = SearchEngine.open(shop_copy)
    retitled, rephotographed = [p for p in engine.catalog if p.images][:2]
    own = tmp_path / "own.png"  # a photo file of the shop's own (the sample photos are shared by other tests)
    shutil.copy(rephotographed.images[0], own)
    _feed(shop_copy, [rephotographed.with_(images=(str(own),))])
    engine.sync()
    sizes = _sizes(engine)
    before = engine.index.looks.nth_of(engine.index.table.row_of[rephotographed.id], 0)
    Image.new("RGB", (64, 64), (10, 200, 30)).save(own)
    stat = os.stat(own)
    os.utime(own, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later modification time, whatever the clock
    stored = engine.catalog.get(rephotographed.id)
    _feed(shop_copy, [retitled.with_(title="A wholly different title"), stored.with_(price=1.0)])
    engine.sync()
    grown = _sizes(engine)
    assert grown["texts"] == sizes["texts"] + 2
    assert grown["photos"] == sizes["photos"] + len(retitled.images) + 1
    after = engine.index.looks.nth_of(engine.index.table.row_of[rephotographed.id], 0)
    assert not np.allclose(after, before)


def test_what_vectors_were_computed_from_is_kept_with_the_snapshot(shop_copy):
    """Reopened from its snapshot, the index still knows its products' fingerprints; a snapshot saved without
    them (before the thirtieth session) embeds the products again, as it did."""
    engine = SearchEngine.open(shop_copy)
    engine.save()
    p = next(iter(engine.catalog))
    reopened = SearchEngine.open(shop_copy)
    sizes = _sizes(reopened)
    _feed(shop_copy, [p.with_(price=2.0)])
    reopened.sync()
    assert _sizes(reopened) == sizes
    reopened.save()
    folder = shop_copy.path / "index" / (shop_copy.path / "index" / "CURRENT").read_text().strip()
    (folder / "content.npy").unlink()
    older = SearchEngine.open(shop_copy)
    sizes = _sizes(older)
    _feed(shop_copy, [p.with_(price=3.0)])
    older.sync()
    assert _sizes(older)["texts"] == sizes["texts"] + 1
    assert older.catalog.get(p.id).price == 3.0
    assert [r.product.price for r in older.search(Query(text=p.title, k=50)).results if r.product.id == p.id] == [3.0]


def test_a_large_price_feed_is_in_place_after_one_search(shop_copy):
    """More changed products than a search applies itself (``backlog.INLINE``) would be warmed in the background
    and applied a step at a time; those whose vectors stay are all applied by the first search."""
    from engine import backlog

    engine = SearchEngine.open(shop_copy)
    sizes = _sizes(engine)
    feed = [p.with_(price=7.77) for p in list(engine.catalog)[:3 * backlog.INLINE]]
    _feed(shop_copy, feed)
    engine.search(Query(text="dress", k=3))
    assert engine.index.seq == engine.catalog.seq and _sizes(engine) == sizes
    cheap = engine.search(Query(text="dress", k=500, filters=Filters(min_price=7.77, max_price=7.77)))
    assert {r.product.id for r in cheap.results} <= {p.id for p in feed} and len(cheap.results) > 0


def test_a_moved_data_folder_keeps_its_products_fingerprints(tmp_path):
    """Photos inside the data folder count by their stored path, relative to it: the same folder moved or restored
    elsewhere (``shopsight backup``) still knows which products' vectors stay."""
    from engine.product_vectors import content
    from engine.types import Product

    roots = [tmp_path / "here", tmp_path / "there"]
    for root in roots:
        photo = root / "photos" / "x.png"
        photo.parent.mkdir(parents=True)
        Image.new("RGB", (8, 8), "red").save(photo)
        os.utime(photo, ns=(10**9, 2 * 10**9))
    products = [Product(id="1", title="t", images=(str(root / "photos" / "x.png"),)) for root in roots]
    assert content(products[0], roots[0].resolve()) == content(products[1], roots[1].resolve())
    assert content(products[0]) != content(products[1])  # without the folder: the absolute paths differ
