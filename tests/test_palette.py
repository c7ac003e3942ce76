"""Palettes (encoders/palette.py): a photo's exact shades, kept beside the index and compared by histogram
intersection in the re-ranking of photo-only queries (part "palette")."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine.config import SERVING_THREADS, IndexConfig
from engine.encoders import palette
from engine.encoders.colour import colour_histograms
from engine.index.product_index import ProductIndex
from engine.types import Candidates, Product, Query
from tests.tiny import unit_vectors


def _photo(*colours, size=(60, 80), background="white") -> Image.Image:
    """A photo of vertical stripes of ``colours`` (RGB tuples) on ``background``, a margin around them."""
    img = Image.new("RGB", size, background)
    w = (size[0] - 20) // len(colours)
    for i, c in enumerate(colours):
        img.paste(Image.new("RGB", (w, size[1] - 20), c), (10 + i * w, 10))
    return img


YELLOW, LIME, BLUE, RED = (250, 220, 10), (160, 250, 10), (20, 40, 200), (200, 20, 20)


def test_a_palette_is_a_unit_histogram_of_the_product_not_its_background():
    p = palette.photo_palette(_photo(RED))
    assert p.shape == (palette.DIM,) and p.dtype == np.float32
    assert np.linalg.norm(p) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(p, palette.photo_palette(Image.new("RGB", (30, 30), RED)), atol=1e-6)


def test_overlap_is_the_histogram_intersection():
    red, blue, both = (palette.photo_palette(_photo(*c)) for c in ((RED,), (BLUE,), (RED, BLUE)))
    got = palette.overlap(red, np.stack([red, blue, both]))
    np.testing.assert_allclose(got, [1.0, 0.0, 0.5], atol=0.02)
    want = np.minimum(red ** 2, both ** 2).sum()
    assert got[2] == pytest.approx(want, abs=1e-6)


def test_shades_that_share_a_bin_of_the_looks_colour_block_are_told_apart():
    """Yellow and lime share one of the look's 8 hue bins; a palette's 24 hues part them."""
    arrays = [np.asarray(_photo(c))[None] for c in (YELLOW, LIME)]
    coarse = [colour_histograms(a, 8)[0] for a in arrays]
    assert float(coarse[0] @ coarse[1]) > 0.9
    fine = [palette.photo_palette(_photo(c)) for c in (YELLOW, LIME)]
    assert palette.overlap(fine[0], fine[1][None])[0] < 0.1


def _index_with_palettes(colours) -> ProductIndex:
    rng = np.random.default_rng(5)
    index = ProductIndex(16, IndexConfig(device="cpu"), "fp", {"palette": palette.DIM})
    for i, c in enumerate(colours):
        index.upsert(Product(id=f"p{i}", title=f"p{i}"),
                     {"shared": unit_vectors(rng, 1, 16), "palette": palette.photo_palette(_photo(c))[None]},
                     unit_vectors(rng, 1, 16)[0])
    return index


def test_local_rerank_adds_the_weighted_palette_part_to_the_best_candidates():
    from engine.rerank import local_rerank

    index = _index_with_palettes([LIME, YELLOW, BLUE])
    ranked = Candidates(np.arange(3), np.array([0.9, 0.8, 0.7], np.float32), {"visual": np.zeros(3, np.float32)})
    query = palette.photo_palette(_photo(YELLOW, size=(200, 200)))  # a close-up: nearly all product
    no_cells = (np.zeros((1, 4), np.float32),)
    out = local_rerank(index, ranked, no_cells, 0.0, 2, palette=(0.5, query))
    assert out.rows.tolist() == [1, 0, 2]  # yellow passes lime; blue is not re-scored and stays last
    np.testing.assert_allclose(out.parts["palette"], [1.0, 0.0, 0.0], atol=0.02)
    assert out.scores[0] == pytest.approx(0.8 + 0.5 * out.parts["palette"][0], abs=1e-6)
    assert "local" not in out.parts  # its weight is 0
    off = local_rerank(index, ranked, no_cells, 0.0, 2, palette=(0.0, query))
    assert off.rows.tolist() == [0, 1, 2] and "palette" not in off.parts


def test_the_index_keeps_each_photos_palette_and_photo_queries_weigh_it(engine):
    from engine.images import open_image

    product = next(iter(engine.catalog))
    assert engine.index.palettes is not None and "palette" in engine.embedder.keep_extras
    row = engine.index.table.row_of[product.id]
    stored = engine.index.palettes.take(engine.index.palettes.rows_of(row))
    np.testing.assert_allclose(stored, [palette.photo_palette(open_image(p)) for p in product.images], atol=1e-6)
    photo = open_image(product.images[0])
    alone = engine.search(Query(image=photo, k=3)).results
    assert alone[0].product.id == product.id and alone[0].why["palette"] == pytest.approx(1.0, abs=1e-5)
    with_words = engine.search(Query(image=photo, text="red", k=3)).results
    assert all("palette" not in r.why for r in with_words)  # the words may ask for another colour
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_palette=0.0))
    assert all("palette" not in r.why for r in engine.search(Query(image=photo, k=3)).results)


def test_photo_words_that_name_no_colour_keep_the_photos_palette(engine):
    """Photo + words: "hoodie" leaves the photo's colour alone, so its palette counts as for the photo
    alone; "red hoodie" asks for a colour, and without colour words (or reading them) that cannot be told."""
    from engine import photo_parts
    from engine.images import open_image

    colours = engine.embedder.bundle.colours
    assert colours is not None and colours.match("red hoodie")[0] and not colours.match("hoodie")[0]
    product = next(p for p in engine.catalog if "hoodie" in p.title.lower())  # the words fit the photo
    photo, cfg = open_image(product.images[0]), engine.config
    w_palette = cfg.fusion.w_palette
    assert photo_parts.weights(cfg, Query(image=photo, text="hoodie"), colours)[2] == w_palette > 0
    assert photo_parts.weights(cfg, Query(image=photo, text="red hoodie"), colours)[2] == 0.0
    assert photo_parts.weights(cfg, Query(image=photo, text="hoodie"), None)[2] == 0.0
    assert photo_parts.weights(cfg, Query(image=photo, text="hoodie", read_words=False), colours)[2] == 0.0
    assert photo_parts.weights(replace(cfg, read_colours=False), Query(image=photo, text="hoodie"), colours)[2] == 0.0
    plain = engine.search(Query(image=photo, text="hoodie", k=10)).results
    own = [r.why["palette"] for r in plain if r.product.id == product.id]
    assert all("palette" in r.why for r in plain[:3]) and own == [pytest.approx(1.0, abs=1e-5)]
    assert all("palette" not in r.why for r in engine.search(Query(image=photo, text="red hoodie", k=3)).results)


def test_an_index_saved_without_palettes_answers_without_the_part(engine):
    from engine.images import open_image

    engine.index.channels.pop("palette")
    product = next(iter(engine.catalog))
    results = engine.search(Query(image=open_image(product.images[0]), k=3)).results
    assert results[0].product.id == product.id and all("palette" not in r.why for r in results)


def test_concurrent_photo_queries_each_get_their_own_palette(engine):
    """A serving worker answers several queries at once (gthread): their palettes are computed side by
    side and each query keeps its own answers."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.query_encoding import _BESIDE
    from engine.images import open_image

    photos = [open_image(p.images[0]) for p in list(engine.catalog)[:8]]
    alone = [[(r.product.id, r.why.get("palette")) for r in engine.search(Query(image=p, k=3)).results] for p in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda p: [(r.product.id, r.why.get("palette"))
                                            for r in engine.search(Query(image=p, k=3)).results], photos))
    assert together == alone and all(part is not None for answers in alone for _, part in answers)
    assert _BESIDE._max_workers == SERVING_THREADS  # one per thread of a serving worker
