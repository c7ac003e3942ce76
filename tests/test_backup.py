"""Backups of a serving data folder (engine/backup.py): consistent while written to, servable where they lie,
never half-made."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import replace

import pytest

from engine.backup import BackupError, backup
from engine.catalog import Catalog
from engine.types import Product, Query


def test_a_backup_serves_the_same_results_from_its_own_folder(built_shop, tmp_path):
    from engine.engine import SearchEngine

    made = backup(built_shop, tmp_path / "copy")
    assert made["products"] == 328 and made["index"] and made["features"]
    assert json.loads((tmp_path / "copy" / "BACKUP.json").read_text())["catalog_seq"] == made["catalog_seq"]
    original = SearchEngine.open(built_shop)
    copy = SearchEngine.open(replace(built_shop, data_dir=str(tmp_path / "copy")))
    for text in ("red striped hoodie", "blue mug under 20"):
        want = [r.product.id for r in original.search(Query(text=text, k=8)).results]
        assert [r.product.id for r in copy.search(Query(text=text, k=8)).results] == want
    assert not list(tmp_path.glob(".copy.partial-*"))


def test_a_backup_refuses_an_existing_folder_and_a_folder_without_a_catalogue(built_shop, tmp_path):
    (tmp_path / "there").mkdir()
    with pytest.raises(BackupError, match="exists"):
        backup(built_shop, tmp_path / "there")
    with pytest.raises(BackupError, match="no catalogue"):
        backup(replace(built_shop, data_dir=str(tmp_path / "empty")), tmp_path / "b")


def test_a_backup_taken_while_products_are_written_is_whole(tmp_path, built_shop):
    data = tmp_path / "live"
    catalog = Catalog(data / "catalog.db")
    catalog.upsert([Product(id=f"p{i}", title=f"Thing {i}") for i in range(200)])
    stop = threading.Event()

    def write():
        i = 0
        while not stop.is_set():
            catalog.upsert([Product(id=f"w{i}-{j}", title=f"Written {i} {j}", price=float(j)) for j in range(50)])
            i += 1
    writer = threading.Thread(target=write)
    writer.start()
    try:
        made = [backup(replace(built_shop, data_dir=str(data)), tmp_path / f"b{n}") for n in range(3)]
    finally:
        stop.set()
        writer.join()
    for n, m in enumerate(made):
        conn = sqlite3.connect(tmp_path / f"b{n}" / "catalog.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT COUNT(*) FROM products").fetchone()[0]
        conn.close()
        copy = Catalog(tmp_path / f"b{n}" / "catalog.db")
        assert rows == copy.count() == m["products"] and (rows - 200) % 50 == 0  # whole batches only
        copy.close()


def test_an_interrupted_backup_leaves_nothing_that_looks_finished(built_shop, tmp_path, monkeypatch):
    import engine.backup as module

    def broken(src, dest):
        raise KeyboardInterrupt
    monkeypatch.setattr(module, "_rest", lambda src, dest, config: broken(src, dest))
    with pytest.raises(KeyboardInterrupt):
        backup(built_shop, tmp_path / "copy")
    assert not (tmp_path / "copy").exists() and not list(tmp_path.iterdir())


def test_the_command_line_backup(built_shop, tmp_path, capsys):
    from engine.cli import main

    config = tmp_path / "c.json"
    from engine.config import config_to_dict
    config.write_text(json.dumps(config_to_dict(built_shop)))
    assert main(["--config", str(config), "backup", str(tmp_path / "b"), "--no-features"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["features"] is False and not (tmp_path / "b" / "features.db").exists()
    assert main(["--config", str(config), "backup", str(tmp_path / "b")]) == 1
    assert "exists" in capsys.readouterr().err


def test_photo_paths_an_older_version_stored_absolute_are_made_relative_in_the_copy(tmp_path, built_shop):
    from PIL import Image

    data = tmp_path / "old"
    (data / "photos").mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(data / "photos" / "a.jpg")
    catalog = Catalog(data / "catalog.db")
    catalog.upsert([Product(id="A", title="Red thing", images=(str(data / "photos" / "a.jpg"),))])
    absolute = json.dumps([str((data / "photos" / "a.jpg").resolve())])
    catalog._conn().execute("UPDATE products SET images = ?", (absolute,))  # as written before paths were relative
    catalog.close()
    made = backup(replace(built_shop, data_dir=str(data)), tmp_path / "copy")
    assert made["paths_made_relative"] == 1 and made["photos"] == 1
    copy = Catalog(tmp_path / "copy" / "catalog.db")
    assert copy.get("A").images == (str((tmp_path / "copy" / "photos" / "a.jpg").resolve()),)


def test_stored_photo_paths_resolve_as_pathlib_joins_them():
    """``catalog._resolved``'s string fast path gives what ``root / ref`` gives, odd paths included."""
    import random
    from pathlib import Path

    from engine.catalog import _resolved

    root = Path("/data/shop")
    rng = random.Random(0)
    refs = ["photos/a.jpg", "./a.jpg", "a/./b.jpg", "a//b.jpg", "a/../b.jpg", "a/", ".hidden/x.jpg", "", "ü/ß.jpg",
            "/abs/x.jpg", "https://x.example/y.jpg", *("".join(rng.choice("ab./ ") for _ in range(rng.randrange(1, 8)))
                                                     for _ in range(2000))]
    for ref in refs:
        assert _resolved(ref, root) == (ref if "://" in ref or Path(ref).is_absolute() else str(root / ref)), ref


def test_photo_paths_inside_the_data_folder_are_stored_as_pathlib_makes_them_relative():
    """``catalog.stored_photo``'s string fast path gives what ``Path.relative_to`` gives, odd paths included."""
    import random
    from pathlib import Path

    from engine.catalog import _stored_by_pathlib as by_pathlib, stored_photo

    rng = random.Random(1)
    for root in (Path("/data/shop"), Path("/"), Path("data/shop")):
        refs = [f"{root}/{tail}" for tail in ("photos/a.jpg", "./a.jpg", "a//b.jpg", "a/../b.jpg", "a/", ".h/x", "")]
        refs += ["/data/shopx/a.jpg", "/data/shop", "/data//shop/a.jpg", "photos/a.jpg", "https://x.example/y.jpg"]
        refs += [f"{head}/" + "".join(rng.choice("ab./ ") for _ in range(rng.randrange(1, 8)))
                 for head in (root, "/data", "/other") for _ in range(1000)]
        for ref in refs:
            assert stored_photo(ref, root) == by_pathlib(ref, root), (ref, root)
