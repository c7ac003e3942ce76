"""The head word of a query (engine/head_word.py) and how the query encoder embeds it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.head_word import head_word
from engine.types import Query

COLOURS = {"navy", "gray", "black", "blue", "red"}


def is_colour(word: str) -> bool:
    return word.lower() in COLOURS


@pytest.mark.parametrize("text, head", [
    ("Chaz Kangeroo Hoodie", "Hoodie"),
    ("Rocco Gym Tank", "Tank"),
    ("running shoes for men", "shoes"),
    ("Ryker LumaTech&trade; Tee (Crew-neck)", "Tee"),
    ("Mars HeatTech™ Pullover", "Pullover"),
    ("Sprite Yoga Strap 6 foot", "Strap"),
    ("Apple iPhone 12 Pro", "iPhone"),
    ("2 pack socks", "socks"),
    ("Turtle Check Men Navy Blue Shirt", "Shirt"),
    ("Atlas Fitness Tank navy", "Tank"),  # a colour word last: the word before it
    ("gray hoodies & sweatshirts", "sweatshirts"),
    ("Chaz Kangeroo hoodie size M", "hoodie"),  # a size after the type is not the head ("size" was)
    ("red kangeroo hoodie size 2XL", "hoodie"),
    ("plus size dress", "dress"),  # "size" before a word that is no size stays a word
])
def test_the_head_is_the_last_word_before_a_post_modifier_or_number(text, head):
    assert head_word(text, is_colour) == head


@pytest.mark.parametrize("text", [
    None, "", "hoodie",  # a single word is its own head
    "gray hoodie", "jacket navy", "t-shirt for kids", "gray hoodie under 60",  # nothing else to outweigh
    "in gray", "iPhone 12 Pro",  # nothing before the head, or the post-modifier
    "navy blue",  # colours only
    "华为 HUAWEI Mate 20", "黑色T恤",  # scripts without spaces between words
    "XL 42",
    "hoodie size XL", "jeans size 32", "shoes size 9.5 black",  # the type and a size: nothing to outweigh
])
def test_no_head_where_none_can_be_told(text):
    assert head_word(text, is_colour) is None


def test_the_encoder_mixes_the_head_into_the_text_towers_vector(engine):
    """unit(text + w * head) in the text tower's space, projected by the heads like any text (the head
    word's vector kept for the next query that names it); w 0 or no head: the text alone."""
    from engine.encoders.unit import unit

    emb = engine.embedder
    shared, raw = emb.embed_query_text("Chaz Kangeroo hoodie", "hoodie", 0.5)
    both = emb.text_tower.encode(["Chaz Kangeroo hoodie", "hoodie"], role="query")
    expected = unit(both[:1] + 0.5 * both[1:])[0]
    np.testing.assert_allclose(raw, expected, atol=1e-5)
    np.testing.assert_allclose(shared, emb.bundle.heads.project_texts(expected[None])[0], atol=1e-5)
    alone = emb.embed_query_text("Chaz Kangeroo hoodie")
    for other in (emb.embed_query_text("Chaz Kangeroo hoodie", "hoodie", 0.0),
                  emb.embed_query_text("Chaz Kangeroo hoodie", None, 0.5)):
        np.testing.assert_allclose(other[1], alone[1], atol=1e-6)
    assert float(raw @ alone[1]) < 0.9999


@pytest.mark.parametrize("fit", [None, 0.2, 0.6])
def test_the_head_weighs_by_the_misfit_and_is_reported(engine, fit):
    engine.index.shared_fit = fit
    query = Query(text="Chaz Kangeroo hoodie", k=5)
    _, raw = engine.embedder.embed_query_text("Chaz Kangeroo hoodie", "hoodie",
                                              engine.config.fusion.w_head * (1.0 - (fit or 0.0)))
    qv = engine.query_vectors(query)
    assert qv.head_word == "hoodie"
    np.testing.assert_allclose(qv.bridge, raw, atol=1e-6)
    assert engine.search(query).understood["head_word"] == "hoodie"


def test_the_head_is_reported_where_nothing_else_was_read(engine):
    """No price, colour or category word in "Chaz Kangeroo anorak": the response still says which word was
    embedded as the head (it had said nothing when no other word was read)."""
    engine.index.shared_fit = 0.2
    response = engine.search(Query(text="Chaz Kangeroo anorak", k=5))
    assert response.understood == {"text": "Chaz Kangeroo anorak", "head_word": "anorak"}


def test_no_head_where_the_space_fits_or_the_weight_is_off_or_words_are_not_read(engine):
    engine.index.shared_fit = 1.0  # a space trained on this shop's titles knows which words count
    response = engine.search(Query(text="Chaz Kangeroo hoodie", k=5))
    assert "head_word" not in response.understood
    engine.index.shared_fit = 0.3
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_head=0.0))
    assert "head_word" not in engine.search(Query(text="Chaz Kangeroo hoodie", k=5)).understood
    engine.config = replace(engine.config, fusion=replace(engine.config.fusion, w_head=0.5))
    plain = engine.search(Query(text="Chaz Kangeroo hoodie", k=5, read_words=False))
    assert "head_word" not in (plain.understood or {})
    assert engine.query_vectors(Query(text="Chaz Kangeroo hoodie", read_words=False)).head_word is None


def test_variants_with_other_head_weights_do_not_share_an_encoding(engine):
    """The per-query memo of the evaluation keys the text by its head and weight (eval.tune_fusion
    --weight w_head runs every weight on one memo)."""
    from engine.encoders.memo import QueryMemo

    engine.embedder.memo = QueryMemo()
    try:
        a = engine.embedder.embed_query_text("Chaz Kangeroo hoodie", "hoodie", 0.25)[1]
        b = engine.embedder.embed_query_text("Chaz Kangeroo hoodie", "hoodie", 1.0)[1]
    finally:
        engine.embedder.memo = None
    assert float(a @ b) < 0.9999


def test_head_vectors_are_encoded_once_and_kept_within_a_bound(monkeypatch):
    from engine import head_word as hw

    calls = []

    def encode(word):
        calls.append(word)
        return np.full(4, len(word), np.float32)

    monkeypatch.setattr(hw, "MAX_HEADS", 3)
    heads = hw.HeadVectors(encode)
    for word in ("Hoodie", "Tee", "Hoodie", "Tee", "Tank"):
        np.testing.assert_array_equal(heads(word), np.full(4, len(word), np.float32))
    assert calls == ["Hoodie", "Tee", "Tank"]
    heads("Jacket")  # a fourth word: the kept ones start afresh
    heads("Hoodie")
    assert calls == ["Hoodie", "Tee", "Tank", "Jacket", "Hoodie"]
