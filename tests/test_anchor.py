"""Anchoring photo + text queries (engine/anchor.py): the query photo first finds the catalogue photo it
shows, whose stored vectors then stand in for it, so the words change a product the catalogue knows."""

from dataclasses import replace

import numpy as np
import pytest

from engine.anchor import anchor_photo, anchored, photo_only
from engine.config import IndexConfig
from engine.encoders.cells import decode, quantise
from engine.index.product_index import ProductIndex
from engine.planner import QueryVectors
from engine.types import Filters, Product, Query
from tests.tiny import unit_vectors

DIM, LOOK, BACKBONE, CELLS, CHANNELS = 8, 12, 9, 3, 5


def _index(rng) -> ProductIndex:
    """Products p0 (two photos) and p1 (one photo) with shared, look and cell vectors."""
    index = ProductIndex(DIM, IndexConfig(device="cpu"), "fp", {"look": LOOK, "cells": CELLS * CHANNELS})
    for pid, n in (("p0", 2), ("p1", 1)):
        cells = unit_vectors(rng, n * CELLS, CHANNELS).reshape(n, -1)
        index.upsert(Product(id=pid, title=pid), {"shared": unit_vectors(rng, n, DIM), "look": unit_vectors(rng, n, LOOK),
                                                  "cells": quantise(cells)}, unit_vectors(rng, 1, DIM)[0])
    return index


def _query(rng) -> QueryVectors:
    photo, text = unit_vectors(rng, 2, DIM)
    cells = (unit_vectors(rng, 4, CHANNELS), unit_vectors(rng, 1, CHANNELS))
    return QueryVectors(photo, photo=photo, shape=unit_vectors(rng, 1, BACKBONE)[0], text=text,
                        cells=cells, photo_look=unit_vectors(rng, 1, LOOK)[0])


def test_the_anchor_photo_is_the_products_photo_with_the_closest_look():
    rng = np.random.default_rng(0)
    index = _index(rng)
    row = index.table.row_of["p0"]
    looks = index.looks.vectors[index.looks.rows_of(row)]
    assert anchor_photo(index, row, looks[1] + 0.01 * looks[0]) == 1
    assert anchor_photo(index, row, looks[0]) == 0


def _setup(seed: int, pid: str):
    """An index, a photo + text query and product ``pid``'s row."""
    rng = np.random.default_rng(seed)
    index = _index(rng)
    return index, _query(rng), index.table.row_of[pid]


def test_a_full_anchor_puts_the_stored_photo_in_place_of_the_query_photo():
    index, qv, row = _setup(1, "p0")
    out = anchored(index, qv, row, 1, 1.0, 2.0, 1.0)
    stored_photo = index.photos.vectors[index.photos.rows_of(row)[1]]
    look = index.looks.vectors[index.looks.rows_of(row)[1]]
    np.testing.assert_allclose(out.photo, stored_photo, atol=1e-6)
    np.testing.assert_allclose(out.shape, look[:BACKBONE] / np.linalg.norm(look[:BACKBONE]), atol=1e-6)
    want = stored_photo + 2.0 * qv.text
    np.testing.assert_allclose(out.shared, want / np.linalg.norm(want), atol=1e-6)
    codes = index.cells.vectors[index.cells.rows_of(row)[1]]
    assert len(out.cells) == 1
    np.testing.assert_allclose(out.cells[0], decode(codes[None], CHANNELS)[0])
    np.testing.assert_array_equal(out.text, qv.text)  # the words are the query's own


def test_a_partial_anchor_keeps_the_query_photos_cells_and_leans_its_vectors():
    index, qv, row = _setup(2, "p1")
    out = anchored(index, qv, row, 0, 1.0, 1.0, 0.5)
    stored = index.photos.vectors[index.photos.rows_of(row)[0]]
    assert float(out.photo @ stored) > float(qv.photo @ stored)
    assert float(out.photo @ qv.photo) > float(stored @ qv.photo)
    assert len(out.cells) == 1 + len(qv.cells)
    assert out.photo_look is qv.photo_look and photo_only(qv).look is qv.photo_look


def test_a_catalogue_photo_with_words_anchors_on_its_own_product(engine):
    from engine.images import open_image

    product = next(p for p in engine.catalog if p.images)
    photo = open_image(product.images[0])
    response = engine.search(Query(image=photo, text="red", k=5))
    assert response.understood["anchor"] == product.id and response.understood["anchor_title"] == product.title
    assert "anchor" in response.timings_ms


def test_the_anchor_ignores_the_querys_filters(engine):
    from engine.images import open_image

    product = next(p for p in engine.catalog if p.images and p.category)
    top = product.category.strip("/").split("/")[0]
    other = next(p.category for p in engine.catalog if p.category and not p.category.startswith(top))
    photo = open_image(product.images[0])
    response = engine.search(Query(image=photo, text="blue", k=5, filters=Filters(category=other)))
    assert response.understood["anchor"] == product.id
    assert response.results and all(r.product.category.startswith(other.strip("/")) for r in response.results)


def test_without_anchor_or_words_nothing_is_anchored(engine):
    from engine.images import open_image

    product = next(p for p in engine.catalog if p.images)
    photo = open_image(product.images[0])
    assert "anchor" not in (engine.search(Query(image=photo, k=3)).understood or {})
    engine.config = replace(engine.config, rerank=replace(engine.config.rerank, anchor=0.0))
    assert "anchor" not in (engine.search(Query(image=photo, text="red", k=3)).understood or {})


def test_anchoring_on_itself_keeps_a_catalogue_photos_answer(engine):
    from engine.images import open_image

    product = next(p for p in engine.catalog if p.images)
    photo = open_image(product.images[0])
    base = replace(engine.config, fusion=replace(engine.config.fusion, w_colour_shift=0.0))  # the anchor alone
    engine.config = replace(base, rerank=replace(base.rerank, anchor=1.0))
    ids = [r.product.id for r in engine.search(Query(image=photo, text="green", k=5)).results]
    engine.config = replace(base, rerank=replace(base.rerank, anchor=0.0))
    assert ids[:3] == [r.product.id for r in engine.search(Query(image=photo, text="green", k=5)).results][:3]


def test_the_colour_shift_is_zero_for_the_anchors_colour_and_highest_toward_the_words():
    from engine.rerank import _shift_by_owner

    index = ProductIndex(DIM, IndexConfig(device="cpu"), "fp", {"look": 6})
    rng = np.random.default_rng(3)
    blocks = {"anchor": [1, 0, 0], "toward": [0.2, 1, 0], "away": [1, -0.3, 0], "both": [0, 0, 1]}
    for i, (pid, colour) in enumerate(blocks.items()):
        looks = np.hstack([rng.standard_normal((1, 3)), [colour]]).astype(np.float32)
        if pid == "both":  # two photos: the better one counts
            looks = np.vstack([looks, np.hstack([looks[:, :3], [[0, 1, 0]]])]).astype(np.float32)
        index.upsert(Product(id=pid, title=pid), {"shared": unit_vectors(rng, len(looks), DIM), "look": looks},
                     unit_vectors(rng, 1, DIM)[0])
    target = np.array([0, 2, 0], np.float32)
    rows = np.array([index.table.row_of[p] for p in blocks])
    got = dict(zip(blocks, _shift_by_owner(index.looks, rows, target, np.array([1, 0, 0], np.float32))))
    assert got["anchor"] == 0.0
    assert got["toward"] > 0.9 and got["away"] < 0.0
    assert got["both"] == pytest.approx(1.0, abs=1e-6)  # its second photo is exactly the words' colour


def test_an_anchored_query_naming_a_colour_scores_the_colour_shift(engine):
    from engine.images import open_image

    if engine.colour_words(Query(text="red"))[1] is None:
        pytest.skip("the tiny bundle knows no colour words")
    product = next(p for p in engine.catalog if p.images)
    response = engine.search(Query(image=open_image(product.images[0]), text="red", k=5))
    shifts = {r.product.id: r.why["colour_shift"] for r in response.results}
    assert product.id not in shifts or shifts[product.id] == pytest.approx(0.0, abs=1e-5)
    assert all(-1.0 <= v <= 1.0 for v in shifts.values())


def test_an_index_without_cells_still_anchors(engine):
    from engine.images import open_image

    product = next(p for p in engine.catalog if p.images)
    engine.index.channels.pop("cells")
    response = engine.search(Query(image=open_image(product.images[0]), text="blue", k=3))
    assert response.understood["anchor"] == product.id
    assert response.results and all("local" not in r.why for r in response.results)
