"""Near-duplicate listings: the same photo re-uploaded, resized or re-compressed is found by its
signature (engine/signatures.py); the same shot in another colour is not."""

import io
import shutil
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine import signatures
from engine.images import open_image
from engine.types import Product, Query


def _reencoded(img: Image.Image, quality: int, scale: float) -> Image.Image:
    small = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _recoloured(img: Image.Image) -> Image.Image:
    r, g, b = img.convert("RGB").split()
    return Image.merge("RGB", (b, r, g))  # the same shot, the product in another colour


@pytest.fixture(scope="module")
def photo(sample_folder):
    return open_image(next(sample_folder.glob("**/*.png")))


@pytest.mark.parametrize("quality,scale", [(90, 1.0), (75, 0.8), (60, 0.7)])
def test_a_recompressed_copy_is_the_same_photo(photo, quality, scale):
    a = signatures.photo_signature(photo)
    b = signatures.photo_signature(_reencoded(photo, quality, scale))
    assert a.shape == (signatures.DIM,) and 0.0 <= a.min() and a.max() <= 1.0
    assert signatures.cell_distance(a, b) <= 0.045


def test_the_same_shot_in_another_colour_is_not(photo):
    a = signatures.photo_signature(photo)
    assert signatures.cell_distance(a, signatures.photo_signature(_recoloured(photo))) > 0.045


def test_same_photo_pairs_match_brute_force():
    rng = np.random.default_rng(3)
    sigs = rng.random((203, signatures.DIM), dtype=np.float32)
    for a, b, noise in ((5, 17, 0.01), (40, 41, 0.02), (100, 202, 0.2), (150, 3, 0.03)):
        sigs[b] = np.clip(sigs[a] + rng.normal(0, noise / 3, signatures.DIM), 0, 1)
    for distance in (0.05, 0.1, 0.6):
        expected = [(i, j) for i in range(len(sigs)) for j in range(i + 1, len(sigs))
                    if signatures.cell_distance(sigs[i], sigs[j]) <= distance]
        assert sorted(signatures.same_photo_pairs(sigs, distance, block=37)) == expected
    assert (5, 17) in signatures.same_photo_pairs(sigs, 0.045) and (100, 202) not in signatures.same_photo_pairs(sigs, 0.045)


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(built_shop.data_dir, folder)
    return replace(built_shop, data_dir=str(folder))


def test_a_reuploaded_listing_is_grouped_and_folded_but_colour_variants_are_not(shop_copy, sample_folder, tmp_path):
    from engine.duplicates import find_duplicates
    from engine.engine import SearchEngine

    engine = SearchEngine.open(shop_copy)
    original = engine.catalog.get("S0005")
    photo = open_image(original.images[0])
    copy_path, recolour_path = tmp_path / "reupload.jpg", tmp_path / "recoloured.png"
    _reencoded(photo, 75, 0.8).save(copy_path, "JPEG", quality=95)
    _recoloured(photo).save(recolour_path)
    other_colour = "green" if original.attributes["colour"] != "green" else "red"
    price = original.price
    engine.add_products([Product(id="RE-UP", title="Another seller's listing", price=round(price * 0.97, 2),
                                 images=(str(copy_path),)),
                         Product(id="RECOL", title="Same shot, other colour", price=price, images=(str(recolour_path),)),
                         Product(id="VARIANT", title="The same photo filed under another colour", price=price,
                                 attributes={"colour": other_colour}, images=(str(copy_path),)),
                         Product(id="LARGER", title="The same photo, a larger size", price=round(price * 1.25, 2),
                                 images=(str(copy_path),))])
    ids = engine.index.table.ids

    def grouped(distance: float, threshold: float = 1.01, price_gap: float = 0.1) -> list[set[str]]:
        return [{ids[r] for r in g} for g in find_duplicates(engine.index, threshold, same_photo_distance=distance,
                                                              price_gap=price_gap)]

    by_signature = grouped(0.045)  # looks switched off (cosine > 1): the signatures alone
    assert {"S0005", "RE-UP"} in by_signature
    assert not any("RECOL" in g for g in by_signature)
    assert not any("VARIANT" in g for g in by_signature)  # it states another colour than S0005
    assert not any({"VARIANT", "S0005"} <= g for g in grouped(0.045, threshold=-1.0))  # whatever the looks say
    assert not any("LARGER" in g for g in by_signature)  # priced 25 % above: a size variant
    assert any({"LARGER", "S0005"} <= g for g in grouped(0.045, price_gap=1.0))  # unless prices are not compared
    assert grouped(0.0) == []

    # tiny random towers rank the copy far below the original, so ask for enough results to reach it
    response = engine.search(Query(image=photo, k=100))
    folded = {r.product.id: r.duplicates for r in response.results}
    assert "RE-UP" in folded["S0005"] and "RE-UP" not in folded
    assert "VARIANT" in folded and all("VARIANT" not in d for d in folded.values())
    assert "LARGER" in folded and all("LARGER" not in d for d in folded.values())
    rerank = engine.config.rerank
    engine.config = replace(engine.config, rerank=replace(rerank, fold_price_gap=1.0))  # prices not compared
    assert "LARGER" in {d for r in engine.search(Query(image=photo, k=100)).results for d in r.duplicates}
    engine.config = replace(engine.config, rerank=rerank)
    engine.config = replace(engine.config, rerank=replace(engine.config.rerank, same_photo_distance=0.0,
                                                          duplicate_threshold=1.01))
    shown = [r.product.id for r in engine.search(Query(image=photo, k=40)).results]
    assert {"S0005", "RE-UP"} <= set(shown)  # without the signatures (and looks off) both listings are shown


@pytest.mark.parametrize("low, high, apart", [(10.0, 10.9, False), (10.0, 11.2, True), (23.0, 27.0, True),
                                              (5999.0, 6168.0, False), (0.0, 0.0, False), (np.nan, 50.0, False)])
def test_prices_apart_only_past_the_gap_and_only_when_both_are_stated(low, high, apart):
    from engine.attributes import prices_apart

    assert prices_apart(low, high, 0.1) is apart and prices_apart(high, low, 0.1) is apart
    assert not prices_apart(low, high, 1.0)


def test_a_group_never_spans_prices_further_apart_than_the_gap():
    """Four listings with one photo at 10, 10.6, 11.3 and no price: each neighbour pair is within 10 %, but
    10 and 11.3 are not, so the chain stops where the group would span more; the unpriced listing joins."""
    from engine.duplicates import DuplicateInputs, group_duplicates

    rows = [0, 1, 2, 3]
    inputs = DuplicateInputs(ids=["a", "b", "c", "d"], colours={r: frozenset() for r in rows},
                             prices={0: 10.0, 1: 10.6, 2: 11.3, 3: float("nan")},
                             vectors={4: (rows, np.tile(np.eye(4, dtype=np.float32)[:1], (4, 1)))}, signatures=None)
    groups = group_duplicates(inputs, 0.995, price_gap=0.1)
    assert len(groups) == 1 and len(groups[0]) == 3 and 3 in groups[0] and not {0, 2} <= set(groups[0])
    assert group_duplicates(inputs, 0.995, price_gap=1.0) == [rows]


def test_an_index_saved_without_signatures_still_folds_by_looks(shop_copy):
    """Snapshots from before signatures have no "signature" channel: they load, and search folds by
    the looks alone."""
    from engine.engine import SearchEngine

    engine = SearchEngine.open(shop_copy)
    assert "signature" in engine.index.photo_channels
    del engine.index.photo_channels["signature"], engine.index.channels["signature"]
    engine.index.save(shop_copy.path / "index")
    old = SearchEngine.open(shop_copy)
    assert "signature" not in old.index.channels
    product = old.catalog.get("S0005")
    response = old.search(Query(image=open_image(product.images[0]), k=5))
    assert response.results[0].product.id == "S0005"


def test_indexing_decodes_each_photo_once(built_shop, sample_folder, tmp_path, monkeypatch):
    """The tower pass caches each photo's signature, so the index's signature channel reads the
    cache instead of decoding the photo again; without a cache it is computed on demand."""
    from engine.engine import SearchEngine
    from engine.features import FeatureCache

    embedder = SearchEngine.open(built_shop).embedder
    embedder.cache = FeatureCache(tmp_path / "features.db")
    paths = [str(p) for p in sorted(sample_folder.glob("**/*.png"))[:5]]
    embedder.image_features(paths)
    expected = np.stack([signatures.photo_signature(open_image(p)) for p in paths])

    def no_second_decode(img):
        raise AssertionError("decoded again")

    monkeypatch.setattr(signatures, "photo_signature", no_second_decode)
    np.testing.assert_allclose(embedder.photo_extras("signature", paths), expected)
    monkeypatch.undo()
    embedder.cache = None
    np.testing.assert_allclose(embedder.photo_extras("signature", paths), expected)


@pytest.mark.parametrize("project_above", [10_000, 100])
def test_close_look_pairs_match_brute_force(project_above):
    """The projected shortlist finds exactly the pairs a full comparison finds."""
    from engine.duplicates import _close_pairs

    rng = np.random.default_rng(5)
    mat = rng.standard_normal((517, 300)).astype(np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    for a, b, noise in ((3, 400, 0.01), (10, 11, 0.05), (200, 100, 0.002), (50, 51, 0.3)):
        mat[b] = mat[a] + rng.normal(0, noise, 300)
        mat[b] /= np.linalg.norm(mat[b])
    for threshold in (0.9, 0.99, 0.995):
        sims = mat @ mat.T
        expected = [(i, j) for i in range(len(mat)) for j in range(i + 1, len(mat)) if sims[i, j] >= threshold]
        assert sorted(_close_pairs(mat, threshold, block=61, project_above=project_above)) == expected
    assert (100, 200) in _close_pairs(mat, 0.995, 61, 100) and (50, 51) not in _close_pairs(mat, 0.995, 61, 100)


@pytest.mark.parametrize("budget", [1, 50, 1 << 24])
def test_candidate_pairs_cover_the_upper_triangle_in_any_block_size(budget):
    """Row blocks sized by the float budget (1 row up to all rows) find each passing pair once, a < b."""
    from engine.pair_search import candidate_pairs

    rng = np.random.default_rng(9)
    x = rng.standard_normal((83, 6)).astype(np.float32)
    c = rng.standard_normal(83).astype(np.float32)
    scores = 2.0 * (x @ x.T) - c[:, None] - c[None, :]
    expected = [(i, j) for i in range(83) for j in range(i + 1, 83) if scores[i, j] >= 1.5]
    a, b = candidate_pairs(x, c, 1.5, block=4096, budget=budget)
    assert sorted(zip(a.tolist(), b.tolist())) == expected and len(expected) > 20
