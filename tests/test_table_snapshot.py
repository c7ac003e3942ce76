"""The attribute table saved with an index snapshot reads back as the table that was saved, without the catalogue."""

import random

import numpy as np
import pytest

from engine import refine
from engine.attributes import AttributeTable
from engine.config import IndexConfig
from engine.errors import BadInputError
from engine.index.product_index import ProductIndex
from engine.types import Candidates, Filters, Product


def _products(n: int, seed: int = 0) -> list[Product]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        attrs = {"Brand": rng.choice(["Acme", "Bolt", "Core"]), "color": rng.choice(["Red", "blue", "Red|Navy"]),
                 "link": f"https://x.example/{i}"}
        if i % 4 == 0:
            attrs["size"] = rng.choice(["S", "M"])
        out.append(Product(id=f"p{i % 40}", title="t", price=None if i % 9 == 0 else float(i),
                           category=rng.choice(["Women/Tops", "Women/Tops/Hoodies", "Men/Shoes", ""]),
                           attributes=attrs, category_predicted=i % 7 == 0))
    return out


def _mask(table: AttributeTable, f: Filters):
    try:
        return table.mask(f)
    except BadInputError as e:  # a category neither table knows
        return str(e)


def _same(a: AttributeTable, b: AttributeTable) -> None:
    n = len(a)
    assert b.ids == a.ids and b.row_of == a.row_of and b.n_alive == a.n_alive
    np.testing.assert_array_equal(b.alive, a.alive)
    np.testing.assert_array_equal(b.price, a.price)
    np.testing.assert_array_equal(b.predicted, a.predicted)
    assert [b.category_of(r) for r in range(n)] == [a.category_of(r) for r in range(n)]
    for f in [Filters(category="women"), Filters(category="Women/Tops/Hoodies"), Filters(category="men/shoes"),
              Filters(attributes={"colour": "red"}), Filters(attributes={"brand": "ACME", "size": "m"}),
              Filters(attributes={"link": "https://x.example/3"}), Filters(max_price=30, attributes={"color": "navy"})]:
        np.testing.assert_array_equal(_mask(b, f), _mask(a, f))
    for r in range(n):
        assert b.attributes_of(r) == a.attributes_of(r) and b.colours_of(r) == a.colours_of(r)
    rows = np.flatnonzero(a.alive)
    ranked = Candidates(rows, np.ones(len(rows), np.float32), {})
    assert refine.counts(b, ranked, 0.5) == refine.counts(a, ranked, 0.5)
    wanted = [("brand", "bolt"), ("colour", "Navy"), ("size", "L")]
    np.testing.assert_array_equal(b.holding(rows, wanted), a.holding(rows, wanted))
    assert b.facet_attributes() == a.facet_attributes() and b.facet_counts() == a.facet_counts()
    assert b.shown(("brand", "acme")) == a.shown(("brand", "acme")) and b._holding == a._holding


def test_a_saved_table_restores_whole_and_takes_more_rows(tmp_path):
    table = AttributeTable()
    for p in _products(97):  # 40 ids written again and again: dead rows in between
        table.kill(p.id)
        table.add(p)
    table.save(tmp_path)
    restored = AttributeTable.restore(tmp_path, table.ids, table.alive.tolist())
    _same(table, restored)
    assert restored.shown(("brand", "acme")) == "Acme" and restored.facet_attributes() == {"brand", "size"}
    for p in _products(60, seed=1):  # rows added after restoring go where the saved ones would have
        for t in (table, restored):
            t.kill(p.id)
            t.add(p)
    _same(table, restored)


@pytest.mark.parametrize("tail", [2, 4096])
def test_rows_stated_again_in_place_read_as_a_table_written_once(tmp_path, monkeypatch, tail):
    """A feed's new prices, categories and attributes restated in place (``AttributeTable.restate``: rows stay
    theirs) filter, refine, count and save as the same products added once do."""
    from engine import attribute_pairs

    monkeypatch.setattr(attribute_pairs, "TAIL", tail)  # 2: the inverted index rebuilt while restating
    table = AttributeTable()
    for p in _products(40):
        table.add(p)
    latest = {}
    for p in _products(150, seed=2):
        assert table.restate(p) == table.row_of[p.id]
        latest[p.id] = p
    assert len(table) == 40 and table.n_alive == 40
    fresh = AttributeTable()
    for pid in table.ids:
        fresh.add(latest[pid])
    _same(fresh, table)
    table.save(tmp_path)
    restored = AttributeTable.restore(tmp_path, table.ids, table.alive.tolist())
    _same(fresh, restored)
    for p in _products(45, seed=3)[40:]:  # and rows still come after them
        for t in (fresh, table):
            t.kill(p.id)
            t.add(p)
    _same(fresh, table)


def test_a_product_restated_into_another_category_leaves_the_old_one():
    table = AttributeTable()
    for i in range(10):
        table.add(Product(id=f"p{i}", title="t", category="Men/Shoes" if i == 9 else "Women/Tops"))
    table.restate(Product(id="p9", title="t", category="Women/Tops/Hoodies"))
    assert not table.mask(Filters(category="men")).any()  # its old subtree's few rows: read by their postings
    assert table.mask(Filters(category="women")).all()
    assert np.flatnonzero(table.mask(Filters(category="Women/Tops/Hoodies"))).tolist() == [9]


def test_a_table_of_other_rows_is_not_restored(tmp_path):
    table = AttributeTable()
    for p in _products(5):
        table.add(p)
    table.save(tmp_path)
    assert AttributeTable.restore(tmp_path, table.ids[:-1], table.alive.tolist()[:-1]) is None
    assert AttributeTable.restore(tmp_path / "absent", [], []) is None


def _index(tmp_path) -> ProductIndex:
    rng = np.random.default_rng(0)
    index = ProductIndex(8, IndexConfig(kind="flat", device="cpu"), "fp", {})
    for p in _products(50):
        index.upsert(p, {"shared": rng.standard_normal((1, 8)).astype(np.float32)}, rng.standard_normal(8).astype(np.float32))
    index.remove("p3")
    index.save(tmp_path)
    return index


def test_a_snapshot_opens_without_reading_the_catalogue(tmp_path):
    index = _index(tmp_path)

    def catalogue():
        raise AssertionError("the catalogue was read")

    loaded = ProductIndex.load(tmp_path, IndexConfig(kind="flat", device="cpu"), "fp", catalogue)
    _same(index.table, loaded.table)
    assert "p3" not in loaded.table.row_of and len(loaded) == len(index)


def test_an_older_snapshot_refills_its_table_from_the_catalogue(tmp_path):
    index = _index(tmp_path)
    folder = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    (folder / "table.npz").unlink()  # as snapshots were written before tables were saved with them
    (folder / "table.json").unlink()
    latest = {p.id: p for p in _products(50)}
    del latest["p7"]  # no longer in the catalogue: removed from the index too
    calls = []
    loaded = ProductIndex.load(tmp_path, IndexConfig(kind="flat", device="cpu"), "fp",
                               lambda: calls.append(1) or latest)
    assert calls == [1]
    assert "p7" not in loaded.table.row_of and "p3" not in loaded.table.row_of
    row = loaded.table.row_of["p8"]
    assert loaded.table.attributes_of(row) == index.table.attributes_of(index.table.row_of["p8"])


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_tables_round_trip(tmp_path, n):
    table = AttributeTable()
    for p in _products(n):
        table.add(p)
    table.save(tmp_path)
    _same(table, AttributeTable.restore(tmp_path, table.ids, table.alive.tolist()))
