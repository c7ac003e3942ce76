"""Tower features on a Dask LocalCluster equal those computed in one process; errors come back."""

import shutil
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("distributed")

from engine.cluster import MIN_BATCH, ClusterAddress, ClusterTowers  # noqa: E402
from engine.encoders.bundle import ModelBundle  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.errors import BadImageError, BadInputError  # noqa: E402
from engine.types import Query  # noqa: E402


@pytest.fixture(scope="module")
def towers():
    cluster = ClusterTowers("local:2", chunk=24)
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def embedders(built_shop, towers):
    bundle = ModelBundle.load(built_shop.path / "bundle")
    local = Embedder(bundle, None, built_shop.device, built_shop.batch_size, runtime=built_shop.runtime)
    spread = Embedder(bundle, None, built_shop.device, built_shop.batch_size, runtime=built_shop.runtime)
    spread.cluster = towers
    return local, spread


def _photos(sample_folder, n):
    paths = sorted(str(p) for p in (sample_folder / "images").rglob("*.png"))
    assert len(paths) >= n
    return paths[:n]


@pytest.mark.parametrize("address", ["local:0", "local:x", "scheduler", ""])
def test_bad_cluster_addresses_are_refused(address):
    with pytest.raises(BadInputError, match="cluster"):
        ClusterAddress(address)


def test_photo_features_on_the_cluster_equal_one_process(embedders, sample_folder, towers):
    local, spread = embedders
    paths = _photos(sample_folder, MIN_BATCH + 13)  # four chunks, the last one short
    expected = local.image_features(paths)
    got = spread.image_features(paths)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert len(towers.workers()) == 2


def test_text_features_on_the_cluster_equal_one_process(embedders):
    local, spread = embedders
    texts = [f"product number {i} in red and blue" for i in range(MIN_BATCH + 5)]
    np.testing.assert_allclose(spread.text_features(texts), local.text_features(texts), atol=1e-5)


def test_small_batches_stay_in_process(embedders, sample_folder):
    _, spread = embedders
    calls = []
    original = spread.cluster.image_features
    spread.cluster.image_features = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        spread.image_features(_photos(sample_folder, 3))
    finally:
        spread.cluster.image_features = original
    assert calls == []


def test_an_unreadable_photo_raises_in_the_coordinator(embedders, sample_folder, tmp_path):
    _, spread = embedders
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a picture at all")
    paths = _photos(sample_folder, MIN_BATCH) + [str(bad)]
    with pytest.raises(BadImageError):
        spread.image_features(paths)


def test_an_index_built_on_the_cluster_answers_like_one_built_here(built_shop, tmp_path, monkeypatch):
    from engine import signatures, workflow
    from engine.encoders import palette
    from engine.engine import SearchEngine

    copy = tmp_path / "shop"
    shutil.copytree(built_shop.path, copy, ignore=shutil.ignore_patterns("index", "features.db*"))
    cfg = replace(built_shop, data_dir=str(copy), feature_cache=str(tmp_path / "fresh-features.db"), cluster="local:2")

    def decoded_here(img):
        raise AssertionError("the coordinator decoded a photo for its signature or palette")

    monkeypatch.setattr(signatures, "photo_signature", decoded_here)  # this process only, not the workers
    monkeypatch.setattr(palette, "photo_palette", decoded_here)
    built = workflow.build_index(cfg, progress=False)
    monkeypatch.undo()
    built.embedder.cluster.close()
    here = SearchEngine.open(built_shop)
    for channel in ("signature", "palette"):  # the workers' vectors are the ones computed here
        np.testing.assert_allclose(built.index.channels[channel].vectors, here.index.channels[channel].vectors, atol=1e-6)
    for text in ("red striped hoodie", "blue mug"):
        a = built.search(Query(text=text, k=10))
        b = here.search(Query(text=text, k=10))
        assert [r.product.id for r in a.results] == [r.product.id for r in b.results]
        np.testing.assert_allclose([r.score for r in a.results], [r.score for r in b.results], atol=1e-4)


def test_a_scheduler_address_connects_to_a_running_cluster(towers, embedders, sample_folder):
    local, _ = embedders
    towers.workers()  # started
    remote = ClusterTowers(towers._local.scheduler_address, chunk=32)
    try:
        spread = Embedder(local.bundle, None, local.device, local.batch_size, runtime=local.runtime)
        spread.cluster = remote
        paths = _photos(sample_folder, MIN_BATCH)
        np.testing.assert_allclose(spread.image_features(paths), local.image_features(paths), atol=1e-5)
    finally:
        remote.close()
    assert len(towers.workers()) == 2  # closing a client leaves the cluster it joined running
