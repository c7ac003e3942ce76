"""A store's snapshot files (engine/index/vectors.py, ivf.py): mapped loads, rows added later, and saves that link
the files of the snapshot before (vectors while few rows were added, IVF lists and PQ codes while nothing was
folded into them) instead of writing them again."""

import numpy as np
import pytest

from engine.config import IndexConfig
from engine.index import VectorIndex
from tests.tiny import unit_vectors


@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_a_mapped_snapshot_stays_in_its_file_and_rows_added_later_join_it(tmp_path, dtype):
    rng = np.random.default_rng(4)
    vecs = unit_vectors(rng, 37, 8) if dtype == np.float32 else rng.integers(-127, 128, (37, 8), dtype=np.int8)
    cfg = IndexConfig(kind="flat", device="cpu")
    index = VectorIndex(8, cfg, dtype)
    index.add(vecs, np.arange(37) // 3)
    index.kill_owner(5)
    index.save(tmp_path, "c")
    loaded = VectorIndex.load(tmp_path, "c", 8, cfg, mapped=True)
    assert isinstance(loaded.vectors, np.memmap) and not loaded.vectors.flags.writeable
    np.testing.assert_array_equal(loaded.vectors, vecs)
    sel, which = loaded.rows_of_owners(np.array([4, 5, 12]))
    assert sel.tolist() == [12, 13, 14, 36] and which.tolist() == [0, 0, 0, 2]
    extra = vecs[:2]
    for store in (index, loaded):  # a write while serving: the mapped rows stay where they are
        store.add(extra, np.array([13, 13]))
        store.kill_owner(2)
    assert isinstance(loaded._base, np.memmap) and len(loaded._base) == 37
    both = np.concatenate([vecs, extra])
    np.testing.assert_array_equal(loaded.vectors, both)
    rows = np.array([38, 0, 36, 37, 5])
    np.testing.assert_array_equal(loaded.take(rows), both[rows])
    for block in (slice(None, 3), slice(-2, None), slice(2, 6)):  # one block of each vector, mapped or not
        for store in (loaded, index):
            np.testing.assert_array_equal(store.take(rows, block), both[rows][:, block])
    assert loaded.rows_of(13) == [37, 38] and loaded.rows_of(5) == [] and loaded.rows_of(2) == []
    if dtype == np.float32:
        q = unit_vectors(rng, 3, 8)
        np.testing.assert_allclose(loaded.dot(q), q @ both.T, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded.dot(q[0]), both @ q[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(index.dot(q), q @ both.T, rtol=1e-5, atol=1e-6)  # in memory: the same shapes
        for got, want in zip(loaded.search_exact(q, 6), index.search_exact(q, 6)):
            np.testing.assert_array_equal(got, want)
        allowed = np.arange(39) % 2 == 0
        for got, want in zip(loaded.search_exact(q, 4, allowed), index.search_exact(q, 4, allowed)):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.load(tmp_path / "c.vectors.npy"), vecs)  # the snapshot is untouched
    again = tmp_path / "again"
    again.mkdir()
    loaded.save(again, "c")  # the mapped rows' file linked, the added rows in a file beside it
    reread = VectorIndex.load(again, "c", 8, cfg)
    assert not isinstance(reread.vectors, np.memmap)  # mapped=False: in memory
    np.testing.assert_array_equal(reread.vectors, both)
    assert reread.rows_of(13) == [37, 38] and reread.rows_of(2) == []


def test_a_mapped_store_without_new_rows_shares_its_file_with_the_next_snapshot(tmp_path):
    """A save after deletions or a price feed (no rows added) links the published vectors file, never copies it;
    the old snapshot's removal leaves the new one whole."""
    import shutil

    rng = np.random.default_rng(5)
    vecs = unit_vectors(rng, 20, 8)
    cfg = IndexConfig(kind="flat", device="cpu")
    index = VectorIndex(8, cfg)
    index.add(vecs, np.arange(20))
    (tmp_path / "v1").mkdir()
    index.save(tmp_path / "v1", "p")
    loaded = VectorIndex.load(tmp_path / "v1", "p", 8, cfg, mapped=True)
    loaded.kill_owner(4)
    (tmp_path / "v2").mkdir()
    loaded.save(tmp_path / "v2", "p")
    assert (tmp_path / "v2" / "p.vectors.npy").stat().st_ino == (tmp_path / "v1" / "p.vectors.npy").stat().st_ino
    shutil.rmtree(tmp_path / "v1")
    (tmp_path / "v3").mkdir()
    loaded.save(tmp_path / "v3", "p")  # linked from the snapshot it last saved, the first one gone
    assert (tmp_path / "v3" / "p.vectors.npy").stat().st_ino == (tmp_path / "v2" / "p.vectors.npy").stat().st_ino
    reread = VectorIndex.load(tmp_path / "v2", "p", 8, cfg, mapped=True)
    np.testing.assert_array_equal(reread.vectors, vecs)
    assert reread.rows_of(4) == [] and reread.rows_of(5) == [5]


def test_rows_added_to_a_mapped_store_are_saved_beside_its_linked_file_until_they_are_many(tmp_path):
    rng = np.random.default_rng(6)
    vecs = unit_vectors(rng, 40, 8)
    cfg = IndexConfig(kind="flat", device="cpu")
    index = VectorIndex(8, cfg)
    index.add(vecs[:20], np.arange(20))
    (tmp_path / "v1").mkdir()
    index.save(tmp_path / "v1", "p")
    saved = [tmp_path / "v1"]
    loaded = VectorIndex.load(tmp_path / "v1", "p", 8, cfg, mapped=True)
    for step, (lo, hi) in enumerate([(20, 23), (23, 25), (25, 40)]):  # 3, 5, then 20 rows past the 20 in the file
        loaded.add(vecs[lo:hi], np.arange(lo, hi))
        loaded.kill_owner(lo - 1)
        folder = tmp_path / f"v{step + 2}"
        folder.mkdir()
        loaded.save(folder, "p")
        saved.append(folder)
        linked = (folder / "p.vectors.npy").stat().st_ino == (tmp_path / "v1" / "p.vectors.npy").stat().st_ino
        assert linked == (hi - 20 <= 5) and (folder / "p.tail.npy").exists() == linked
        for mapped in (True, False):
            again = VectorIndex.load(folder, "p", 8, cfg, mapped=mapped)
            np.testing.assert_array_equal(again.vectors, vecs[:hi])
            np.testing.assert_array_equal(again.take(np.array([hi - 1, 0, 21])), vecs[[hi - 1, 0, 21]])
            assert again.rows_of(lo - 1) == [] and again.rows_of(hi - 1) == [hi - 1] and again.n_alive == hi - step - 1
        loaded = VectorIndex.load(folder, "p", 8, cfg, mapped=True)


def test_a_save_links_the_ivf_files_until_rows_are_folded_into_the_lists(tmp_path, monkeypatch):
    """The IVF lists and PQ codes of a store nothing was folded into since its load or last save are hard links to
    those files (a checkpoint after a feed writes none of them); after a fold they are written again, and load."""
    monkeypatch.setattr("engine.index.ivf.FAST_MIN", 1_000)
    rng = np.random.default_rng(9)
    vecs = unit_vectors(rng, 2_900, 16)
    cfg = IndexConfig(kind="ivf", device="cpu", nlist=20, nprobe=20, fold_tail_at=250, fold_tail_share=0.0)
    index = VectorIndex(16, cfg)
    index.add(vecs[:2_500], np.arange(2_500))
    index.build()
    folders = [tmp_path / f"v{i}" for i in range(4)]
    for folder in folders:
        folder.mkdir()
    index.save(folders[0], "p")

    def inodes(folder):
        return [(folder / f"p.ivf.{n}").stat().st_ino for n in ("lists.npz", "pq")]

    loaded = VectorIndex.load(folders[0], "p", 16, cfg, mapped=True)
    loaded.kill_owner(3)
    loaded.save(folders[1], "p")
    loaded.save(folders[2], "p")  # from the folder it last wrote
    assert inodes(folders[1]) == inodes(folders[0]) == inodes(folders[2])
    loaded.add(vecs[2_500:], np.arange(2_500, 2_900))  # past fold_tail_at: folded into the lists
    assert loaded._ann.n_indexed == 2_900
    loaded.save(folders[3], "p")
    assert all(a != b for a, b in zip(inodes(folders[3]), inodes(folders[2])))
    again = VectorIndex.load(folders[3], "p", 16, cfg)
    assert again._ann.n_indexed == 2_900 and again._ann.fast.ntotal == 2_900
    _, rows = again.search_ann(vecs[2_800], 1)
    assert rows[0][0] == 2_800 and 3 not in again.search_ann(vecs[3], 5)[1][0]
