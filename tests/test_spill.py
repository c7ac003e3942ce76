"""A full build keeps its vector stores in files (index/spill.py): same snapshot, bounded memory, nothing left over."""

import collections
import errno
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from engine.config import IndexConfig
from engine.encoders.bundle import ModelBundle
from engine.encoders.look_stats import FeatureMoments, look_statistics
from engine.engine import SearchEngine
from engine.index.product_index import ProductIndex
from engine.index.spill import PREFIX, GrowingArray
from engine.types import Product, Query
from tests.tiny import unit_vectors


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    import shutil

    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_a_growing_array_keeps_its_rows_and_finishes_as_an_npy_file(tmp_path, dtype):
    grow = GrowingArray(tmp_path / "rows.npy", dtype, 7)
    first = grow.reserve(3)
    first[:] = np.arange(21).reshape(3, 7)
    more = grow.reserve(1_000)  # a longer map of the same file: nothing copied, the first rows kept
    more[3:5] = -1
    np.testing.assert_array_equal(more[:3], np.arange(21).reshape(3, 7))
    more.flush()
    out = grow.finish(5, tmp_path / "final.npy")
    assert not (tmp_path / "rows.npy").exists()
    loaded = np.load(out)
    assert loaded.shape == (5, 7) and loaded.dtype == dtype
    np.testing.assert_array_equal(loaded[3:], -1)
    assert np.load(out, mmap_mode="r").shape == (5, 7)
    assert os.path.getsize(out) == 128 + 5 * 7 * np.dtype(dtype).itemsize  # the spare rows cut


def _products(n, photos=2):
    return [Product(id=f"P{i}", title=f"thing {i}", images=[f"p{i}-{j}.jpg" for j in range(photos)]) for i in range(n)]


def _fill(index, products, rng):
    for start in range(0, len(products), 13):  # several appends, so the files grow more than once
        chunk = products[start:start + 13]
        m = sum(len(p.images) for p in chunk)
        vecs = {"shared": unit_vectors(rng, m, index.dim), "look": unit_vectors(rng, m, 24),
                "cells": rng.integers(-128, 127, (m, 10)).astype(np.int8)}
        index.upsert_many(chunk, vecs, unit_vectors(rng, len(chunk), index.dim))


def test_a_spilled_index_saves_the_same_snapshot_as_one_in_memory(tmp_path):
    """Same seeds into an index in memory and one spilled to a build folder: the snapshots load to the same
    vectors; the build folder is gone after the save; the saved index reads its rows from the snapshot's files
    and still takes writes, which the next save keeps."""
    cfg = IndexConfig(kind="flat")
    products = _products(70)
    saved = {}
    for spilled in (False, True):
        index = ProductIndex(16, cfg, "fp", {"look": 24, "cells": 10})
        if spilled:
            folder = index.spill(tmp_path / f"idx{spilled}")
            assert folder.name.startswith(PREFIX) and (folder / "channel-look.vectors.npy").exists()
        _fill(index, products, np.random.default_rng(0))
        index.remove("P3")
        index.build()
        saved[spilled] = index.save(tmp_path / f"idx{spilled}")
        if spilled:
            assert not folder.exists() and index.build_folder is None
            assert index.channels["look"]._base is not None  # rows read from the snapshot's file
            index.upsert(Product(id="P99", title="late", images=["x.jpg"]),
                         {"shared": unit_vectors(np.random.default_rng(1), 1, 16),
                          "look": unit_vectors(np.random.default_rng(2), 1, 24),
                          "cells": np.ones((1, 10), np.int8)}, unit_vectors(np.random.default_rng(3), 1, 16)[0])
            index.save(tmp_path / "idxTrue")
    plain = ProductIndex.load(tmp_path / "idxFalse", cfg, "fp", {})
    spilled = ProductIndex.load(tmp_path / "idxTrue", cfg, "fp", {})
    assert spilled.table.ids == plain.table.ids + ["P99"]
    for prefix, store in plain.stores().items():
        other = spilled.stores()[prefix]
        n = len(store)
        np.testing.assert_array_equal(other.vectors[:n], store.vectors)
        np.testing.assert_array_equal(other.alive[:n], store.alive)
        assert len(other) == n + 1  # P99's one photo (or text)
    assert [p.name for p in (tmp_path / "idxTrue").iterdir() if p.name.startswith(PREFIX)] == []


def test_build_folders_of_ended_processes_are_removed_by_the_next_snapshot_or_build(tmp_path):
    root = tmp_path / "index"
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = root / f"{PREFIX}{ended.stdout.strip()}-1"
    mine = root / f"{PREFIX}{os.getpid()}-2"
    for folder in (dead, mine):
        folder.mkdir(parents=True)
        (folder / "photos.vectors.npy").write_bytes(b"x")
    ProductIndex(4, IndexConfig(kind="flat"), "fp").save(root)
    assert not dead.exists() and mine.exists()
    dead.mkdir()
    ProductIndex(4, IndexConfig(kind="flat"), "fp").spill(root)  # a new build clears them before writing its own
    assert not dead.exists() and mine.exists()


def test_feature_moments_in_blocks_match_the_statistics_of_all_rows():
    rng = np.random.default_rng(5)
    feats = (rng.standard_normal((1_037, 9)) * rng.uniform(0.01, 3, 9) + rng.uniform(-2, 5, 9)).astype(np.float32)
    feats[:, 4] = 0.25  # a feature that never varies: floored like look_statistics
    fallback = (np.zeros(9), np.ones(9))
    moments = FeatureMoments(9)
    for block in np.split(feats, [1, 2, 300, 301, 1_000]):
        moments.add(block)
    mean, std = moments.statistics(fallback)
    want_mean, want_std = look_statistics(feats, fallback)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, want_std, rtol=1e-5)
    few = FeatureMoments(9)
    few.add(feats[:5])
    np.testing.assert_array_equal(few.statistics(fallback)[1], np.ones(9, np.float32))


def test_a_full_build_fills_files_in_its_build_folder_and_leaves_none(shop_copy, monkeypatch):
    """While the products are indexed, every store writes into the build folder's files; after the build the
    folder is gone and the snapshot holds the stores."""
    from engine import full_build

    seen = {}
    original = ProductIndex.upsert_many

    def watching(self, *args):
        rows = original(self, *args)
        seen.update({prefix: str(getattr(store._vecs, "filename", "")) for prefix, store in self.stores().items()})
        return rows

    monkeypatch.setattr(ProductIndex, "upsert_many", watching)
    monkeypatch.setattr(full_build, "FEATURE_BLOCK", 50)  # several feature blocks
    engine = SearchEngine.build(shop_copy, ModelBundle.load(shop_copy.path / "bundle"))
    assert seen and all(PREFIX in path and path.endswith(f"{prefix}.vectors.npy") for prefix, path in seen.items())
    root = shop_copy.path / "index"
    assert not [p for p in root.iterdir() if p.name.startswith(PREFIX)]
    reopened = SearchEngine.open(shop_copy)
    assert reopened.index.table.ids == engine.index.table.ids
    np.testing.assert_allclose(reopened.index.looks.take([0, 5]), engine.index.looks.take([0, 5]))


Usage = collections.namedtuple("Usage", "total used free")


def _no_space(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failure", ["vectors", "disk full", "too little free"])
def test_a_build_that_fails_removes_its_folder_and_keeps_the_last_snapshot(shop_copy, monkeypatch, failure):
    """A step that raises, or a disk too full for the build's files (their space is allocated up front, so this
    is an error naming the folder and the space needed, not a SIGBUS when a row is written): the error reaches the
    caller, the build folder is removed and the last snapshot still serves."""
    from engine.errors import DiskFullError

    from engine import product_vectors

    before = SearchEngine.open(shop_copy)
    root = shop_copy.path / "index"
    current = (root / "CURRENT").read_text()
    if failure == "vectors":
        monkeypatch.setattr(product_vectors, "vectors", lambda *a, **k: _no_space())
    elif failure == "too little free":  # seen before any file is made (nothing fills the disk under the catalogue)
        monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**12, 10**12, 10**6))
        monkeypatch.setattr(os, "posix_fallocate", lambda *a: pytest.fail("allocated"), raising=False)
    else:
        monkeypatch.setattr(os, "posix_fallocate", _no_space, raising=False)
        monkeypatch.setattr(os, "truncate", _no_space)
    with pytest.raises(DiskFullError, match="not enough disk space in .*index to build the index") as caught:
        SearchEngine.build(shop_copy, ModelBundle.load(shop_copy.path / "bundle"))
    photos = sum(len(p.images) for p in before.catalog)
    assert caught.value.needed > photos * 1_000 and caught.value.free > 0  # every store's rows and the features
    assert (root / "CURRENT").read_text() == current
    assert not [p for p in root.iterdir() if p.name.startswith(PREFIX)]
    after = SearchEngine.open(shop_copy)
    assert after.index.table.ids == before.index.table.ids
    assert after.search(Query(text="dress", k=3)).results


def test_read_through_takes_the_files_that_fit_its_budget_group_by_group(tmp_path):
    """A snapshot larger than the budget is read into the page cache group by group, each group's smallest file
    first, a file too large for what is left passed over for smaller ones; a file pruned meanwhile is skipped."""
    from engine.index.page_cache import read_through, within

    sizes = {"look": 700, "photos": 100, "texts": 300, "cells": 900, "shade": 10, "signature": 200}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    searched = [tmp_path / n for n in ("look", "photos", "texts")]
    rows = [tmp_path / n for n in ("cells", "shade", "signature", "gone")]
    names = lambda chosen: [os.path.basename(p) for p in chosen]  # noqa: E731
    assert names(within([searched, rows], 1_110)) == ["photos", "texts", "look", "shade"]
    assert names(within([searched, rows], 1_100)) == ["photos", "texts", "look"]
    assert names(within([searched, rows], 650)) == ["photos", "texts", "shade", "signature"]
    assert names(within([searched, rows], 10**6)) == ["photos", "texts", "look", "shade", "signature", "cells"]
    assert within([searched, rows], 5) == []
    thread = read_through([searched, rows], 650)
    thread.join(10)
    assert not thread.is_alive()


def test_a_loaded_index_reads_its_files_in_the_background(tmp_path):
    cfg = IndexConfig(kind="flat")
    index = ProductIndex(16, cfg, "fp", {"look": 24, "cells": 10})
    _fill(index, _products(20), np.random.default_rng(0))
    index.save(tmp_path)
    loaded = ProductIndex.load(tmp_path, cfg, "fp", {})
    assert loaded.reading is not None
    loaded.reading.join(10)
    assert not loaded.reading.is_alive()
    assert ProductIndex.load(tmp_path, replace(cfg, mapped_channels=False), "fp", {}).reading is None


def test_an_empty_catalogue_builds_an_empty_index(built_shop, tmp_path):
    """No products: the build's files hold no rows, the snapshot opens and a search finds nothing."""
    folder = tmp_path / "empty"
    folder.mkdir()
    shutil.copytree(built_shop.path / "bundle", folder / "bundle")
    cfg = replace(built_shop, data_dir=str(folder))
    engine = SearchEngine.build(cfg, ModelBundle.load(folder / "bundle"))
    assert len(engine.index) == 0 and all(len(store) == 0 for store in engine.index.stores().values())
    reopened = SearchEngine.open(cfg)
    assert len(reopened.index) == 0
    assert len(reopened.search(Query(text="dress", k=3)).results) == 0
