"""The zero-shot bridge: shapes, the bundle round trip, and its part in text queries."""

from dataclasses import replace

import numpy as np
import pytest

from engine.encoders.bridge import bridge_vectors, class_names
from engine.encoders.bundle import ModelBundle
from engine.types import Query

from tests.fusion_formula import explained


def test_bridge_vectors_are_unit_mixes_of_class_embeddings():
    rng = np.random.default_rng(0)
    classes = rng.standard_normal((1000, 16)).astype(np.float32)
    classes /= np.linalg.norm(classes, axis=1, keepdims=True)
    w, b = rng.standard_normal((1000, 1280)).astype(np.float32), np.zeros(1000, np.float32)
    pooled = rng.standard_normal((3, 1280)).astype(np.float32)
    out = bridge_vectors(pooled, w, b, classes)
    assert out.shape == (3, 16) and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    # a photo whose logits single out class 7 lands on class 7's embedding
    sharp = bridge_vectors(np.eye(1280, dtype=np.float32)[:1], np.eye(1000, 1280, dtype=np.float32) * 100,
                           b, classes)
    assert float(sharp[0] @ classes[0]) > 0.99
    assert len(class_names()) == 1000 and "T-shirt" in class_names()


def test_bundle_keeps_the_bridge(built_shop, tmp_path):
    bundle = ModelBundle.load(built_shop.path / "bundle")
    assert bundle.bridge_classes is not None and bundle.bridge_classes.shape == (1000, bundle.text_dim)
    bundle.save(tmp_path / "b")
    again = ModelBundle.load(tmp_path / "b")
    assert np.allclose(again.bridge_classes, bundle.bridge_classes, atol=1e-3)
    assert again.fingerprint == bundle.fingerprint


def test_text_queries_carry_a_bridge_part_and_photo_queries_a_look_part(engine, sample_folder):
    from engine.images import open_image

    text = engine.search(Query(text="Red hoodie", k=3))
    assert all("bridge" in r.why and "look" not in r.why for r in text.results)
    photo = engine.search(Query(image=open_image(sample_folder / "images" / "S0001-0.png"), k=3))
    assert all("look" in r.why and "bridge" not in r.why for r in photo.results)


def test_default_bundle_ships_in_the_package():
    """Loads from the installed package, offline, without ../shared/data; small enough for a wheel."""
    from engine.encoders.bundle import default_bundle_path, resolve_bundle_path

    path = default_bundle_path()
    assert resolve_bundle_path("default") == path
    assert sum(f.stat().st_size for f in path.iterdir()) < 9_000_000  # 8.5 MB with the type reader (0.8 MB) and the MLP colour reader (0.27 MB)
    bundle = ModelBundle.load(path)
    assert bundle.name == "default" and bundle.image_tower.name == "efficientnet-lite0"
    assert bundle.image_tower.pretrained and bundle.text_tower.name == "all-MiniLM-L6-v2"
    assert bundle.bridge_classes.shape == (1000, bundle.text_dim)
    assert bundle.fingerprint == ModelBundle.load(path).fingerprint
    feats = np.random.default_rng(0).standard_normal((2, bundle.image_dim)).astype(np.float32)
    assert np.allclose(np.linalg.norm(bundle.heads.project_images(feats), axis=1), 1, atol=1e-5)


def test_multilingual_default_bundle_ships_in_the_package():
    """The e5 bundle ("default-e5") loads the same way: multilingual-e5-small text side, the same image tower,
    photo parts (colour words, type reader) equal to the MiniLM bundle's, which read photos only."""
    from engine.encoders.bundle import default_bundle_path, packaged_bundles, resolve_bundle_path

    path = default_bundle_path("default-e5")
    assert resolve_bundle_path("default-e5") == path and set(packaged_bundles()) == {"default", "default-e5"}
    assert sum(f.stat().st_size for f in path.iterdir()) < 9_000_000
    bundle, english = ModelBundle.load(path), ModelBundle.load(default_bundle_path())
    assert bundle.name == "default-e5" and bundle.text_tower.kind == "e5"
    assert bundle.image_tower == english.image_tower and bundle.space == english.space
    assert bundle.bridge_classes.shape == (1000, bundle.text_dim) and bundle.prototypes is not None
    assert bundle.colours.names == english.colours.names and bundle.types.names == english.types.names
    assert bundle.fingerprint != english.fingerprint



@pytest.mark.parametrize("fit", [0.2, 0.9])
def test_the_bridge_weighs_by_the_misfit(engine, fit):
    """w_bridge x (1 - fit) ** misfit_power, like the other parts that stand in for the shared space;
    ``bridge_by_fit`` off: w_bridge as it is."""
    engine.index.shared_fit = fit
    fusion = engine.config.fusion
    results = engine.search(Query(text="Red hoodie", k=5)).results
    assert results and all(abs(r.why["bridge"]) > 1e-3 for r in results)
    for r in results:
        assert r.score == pytest.approx(explained(fusion, fit, r.why), abs=1e-5)
        assert r.score != pytest.approx(explained(fusion, fit, r.why, {"bridge": 1.0}), abs=1e-5)
    engine.config = replace(engine.config, fusion=replace(fusion, bridge_by_fit=False))
    for r in engine.search(Query(text="Red hoodie", k=5)).results:
        assert r.score == pytest.approx(explained(engine.config.fusion, fit, r.why, {"bridge": 1.0}), abs=1e-5)
