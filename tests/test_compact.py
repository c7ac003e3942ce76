"""Compaction (engine/index/compact.py, ``shopsight index --compact``): the index without the rows of deleted and
re-embedded products, from its own vectors, searching as before."""

import shutil
from collections import namedtuple
from dataclasses import replace

import numpy as np
import pytest

from engine import product_vectors, workflow
from engine.catalog import Catalog
from engine.engine import SearchEngine
from engine.errors import DiskFullError
from engine.images import open_image
from engine.index import compact
from engine.index.product_index import snapshot_seq
from engine.types import Filters, Query


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


def _churn(cfg) -> None:
    """Another process deletes 40 products and gives 30 new titles (re-embedded: their old rows die)."""
    catalog = Catalog(cfg.path / "catalog.db")
    ids = catalog.ids()
    catalog.delete_many(ids[:40])
    catalog.upsert([p.with_(title=f"{p.title} deluxe") for p in catalog.get_many(ids[40:70]).values()])


def _results(engine, path: str) -> list:
    photo = open_image(path)
    queries = [Query(text="red mug", k=20), Query(text="striped hoodie", k=20, filters=Filters(max_price=50)),
               Query(image=photo, k=20), Query(image=photo, text="in blue", k=20)]
    return [[(r.product.id, round(r.score, 4)) for r in engine.search(q).results] for q in queries]


def test_a_compacted_index_drops_dead_rows_and_searches_as_before(shop_copy, monkeypatch):
    monkeypatch.setattr(compact, "BLOCK", 7)  # products copied a few at a time
    _churn(shop_copy)
    engine = SearchEngine.open(shop_copy)
    held, live = len(engine.index.table), engine.index.table.n_alive
    assert held == live + 70 and compact.dead_share(engine.index) == pytest.approx(70 / held)
    photo = next(p for p in engine.catalog if p.images).images[0]
    before = _results(engine, photo)
    compacted, removed = workflow.compact_index(shop_copy)
    assert removed == 70 and len(compacted.index.table) == live == compacted.index.table.n_alive
    for store in compacted.index.stores().values():
        assert len(store) == store.n_alive  # no dead vector rows left
    assert compacted.index.build_id != engine.index.build_id  # serving workers open it (server/state.py)
    assert _results(compacted, photo) == before
    reopened = SearchEngine.open(shop_copy)
    assert reopened.index.folder == compacted.index.folder and _results(reopened, photo) == before
    monkeypatch.setattr(product_vectors, "vectors", lambda *a, **k: pytest.fail("re-embedded"))
    p = next(iter(reopened.catalog))
    Catalog(shop_copy.path / "catalog.db").upsert([p.with_(price=1.25)])  # fingerprints kept: a price feed
    reopened.sync()
    assert len(reopened.index.table) == live


def test_nothing_to_compact_writes_nothing_or_a_checkpoint(shop_copy):
    engine = SearchEngine.open(shop_copy)
    again, removed = workflow.compact_index(shop_copy)
    assert removed == 0 and again.index.folder == engine.index.folder  # nothing dead, nothing new: nothing written
    p = next(iter(engine.catalog))
    Catalog(shop_copy.path / "catalog.db").upsert([p.with_(price=3.5)])  # a feed since the snapshot
    checkpoint, removed = workflow.compact_index(shop_copy)
    assert removed == 0 and checkpoint.index.folder != engine.index.folder
    assert checkpoint.index.build_id == engine.index.build_id  # the same build: workers do not reopen it
    assert SearchEngine.open(shop_copy).index.saved_seq == checkpoint.index.seq == checkpoint.catalog.seq
    assert snapshot_seq(checkpoint.index.folder) == checkpoint.index.saved_seq  # read back from the folder's name


def test_many_rows_added_since_the_build_are_compacted_into_a_new_build_though_none_is_dead(shop_copy):
    """Past a quarter of a store's rows added since the build a save writes it whole and serving workers stop
    checkpointing; a compaction then makes a new build (the workers reopen it: their tails go), not a checkpoint."""
    engine = SearchEngine.open(shop_copy)
    catalog = Catalog(shop_copy.path / "catalog.db")
    catalog.upsert([p.with_(id=f"{p.id}-new", title=f"{p.title} new") for p in list(catalog)[:120]])  # 120 on 328
    compacted, removed = workflow.compact_index(shop_copy)
    assert removed == 0 and compacted.index.build_id != engine.index.build_id
    again = SearchEngine.open(shop_copy)
    assert len(again.index) == 448 and not any(store.saves_whole for store in again.index.stores().values())
    assert not list((shop_copy.path / "index" / again.index.folder).glob("*.tail.npy"))


def test_a_compaction_the_disk_cannot_hold_changes_nothing(shop_copy, monkeypatch):
    _churn(shop_copy)
    current = (shop_copy.path / "index" / "CURRENT").read_text()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(1 << 30, 1 << 30, 1000))
    with pytest.raises(DiskFullError):
        workflow.compact_index(shop_copy)
    assert (shop_copy.path / "index" / "CURRENT").read_text() == current
    assert not [p for p in (shop_copy.path / "index").iterdir() if p.name.startswith(".build-")]


def test_a_table_subset_reads_as_the_same_products_added_once():
    from engine.attributes import AttributeTable
    from tests.test_table_snapshot import _products, _same

    table = AttributeTable()
    for p in _products(97):
        table.kill(p.id)
        table.add(p)
    live = np.flatnonzero(table.alive)
    kept = AttributeTable()
    for r in live.tolist():  # the last write of each id, in the order of their rows
        kept.add(next(p for p in reversed(_products(97)) if p.id == table.ids[r]))
    _same(kept, table.subset(live))


def test_the_command_line_compacts_and_says_what_it_removed(shop_copy, tmp_path, capsys):
    import json

    from engine.cli import main
    from engine.config import config_to_dict

    _churn(shop_copy)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(config_to_dict(shop_copy)))
    assert main(["--config", str(config), "index", "--compact"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rows_removed"] == 70 and out["products"] == 328 - 40
    assert out["snapshot"] == (shop_copy.path / "index" / "CURRENT").read_text().strip()


def test_a_worker_opening_an_index_mostly_of_dead_rows_says_how_to_compact_it(shop_copy, caplog):
    import logging

    from server import create_app

    catalog = Catalog(shop_copy.path / "catalog.db")
    catalog.delete_many(catalog.ids()[:150])
    SearchEngine.open(shop_copy).save()  # 150 of the 328 rows dead in the snapshot
    with caplog.at_level(logging.WARNING, logger="server.state"):
        assert create_app(shop_copy).test_client().get("/api/health").status_code == 200
    assert "shopsight index --compact" in caplog.text and "46 %" in caplog.text


def test_one_writer_of_an_index_at_a_time(shop_copy, capsys):
    """A build or compaction finding another process writing the index stops at once, naming it, changing nothing."""
    import json
    import subprocess
    import sys

    from engine.cli import main
    from engine.config import config_to_dict
    from engine.errors import IndexBusyError
    from engine.index import writing

    _churn(shop_copy)
    root = shop_copy.path / "index"
    current = (root / "CURRENT").read_text()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom engine.index import writing\n"
                               "with writing.exclusive(sys.argv[1], 'a full build'):\n    print('held', flush=True)\n"
                               "    time.sleep(60)\n", str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexBusyError, match=f"process {holder.pid} \\(a full build\\)"):
            workflow.compact_index(shop_copy)
        with pytest.raises(IndexBusyError):
            workflow.build_index(shop_copy, progress=False)
        config = shop_copy.path.parent / "config.json"
        config.write_text(json.dumps(config_to_dict(shop_copy)))
        assert main(["--config", str(config), "index", "--compact"]) == 1
        assert "is writing the index" in capsys.readouterr().err
        assert (root / "CURRENT").read_text() == current
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with writing.exclusive(root, "a test"):  # released with its process
        pass
    assert workflow.compact_index(shop_copy)[1] == 70


def test_status_says_how_far_behind_the_index_is_and_when_a_compaction_is_due(shop_copy, capsys):
    import json

    from engine.cli import main
    from engine.index import writing
    from engine.status import status

    first = status(shop_copy)
    assert first["index"]["behind"] == 0 and first["index"]["live"] == 328 and first["compaction_due"] == []
    assert first["writer"] is None and first["index"]["stores"]["photos"]["tail"] == 0
    catalog = Catalog(shop_copy.path / "catalog.db")
    catalog.delete_many(catalog.ids()[:100])
    assert status(shop_copy)["index"]["behind"] == catalog.seq - first["index"]["seq"] > 0
    SearchEngine.open(shop_copy).save()  # 100 of 328 rows dead
    catalog.upsert([p.with_(id=f"{p.id}-new", title=f"{p.title} new") for p in list(catalog)[:60]])
    SearchEngine.open(shop_copy).save()  # 60 rows added beside 328 in each store's file: tails
    with writing.exclusive(shop_copy.path / "index", "a test"):
        report = status(shop_copy)
    assert report["writer"].endswith("(a test)") and report["index"]["behind"] == 0
    assert report["index"]["dead_share"] == round(100 / 388, 4) and report["index"]["stores"]["texts"] == {
        "rows": 388, "tail": 60}
    assert report["compaction_due"] == ["26 % of the product rows are dead"]
    assert main(["--data-dir", str(shop_copy.path), "status"]) == 0
    assert json.loads(capsys.readouterr().out)["index"]["live"] == 288
