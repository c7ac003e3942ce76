"""Words shoppers search for that no product holds (engine/unheard.py): counted per search, after synonyms
and typo correction, listed most searched first; a locked or broken file never fails a search."""

import sqlite3
from dataclasses import replace

import pytest

from engine import lexicon, synonyms
from engine.catalog import Catalog
from engine.cli import main
from engine.types import Product, Query
from engine.unheard import Unheard, nearest


def test_words_no_product_holds_are_named_as_typed(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert([Product(id="h1", title="Red striped hoodie"), Product(id="c1", title="红色连帽衫")])
    unheard = lambda text: lexicon.unheard(text, catalog.words(text))  # noqa: E731
    assert unheard("red trainers for the gym") == ["trainers", "gym"]  # stop words aside
    assert unheard("Red Hoodies") == [] and unheard("Café Crème") == ["cafe", "creme"]
    assert unheard("红色 帽衫 手机") == ["手机"]  # a run counts when none of its pairs is held
    groups = synonyms.parse("trainers, hoodie").groups
    assert lexicon.unheard("red trainers", catalog.words("red trainers", groups)) == []  # a synonym holds it


def test_counts_most_searched_first_and_clears(tmp_path):
    log = Unheard(tmp_path / "unheard.db")
    for words in (["trainers"], ["trainers", "gym", "trainers"], ["sofa"]):
        log.record(words)
    assert [(r["word"], r["n"]) for r in log.top()] == [("trainers", 2), ("sofa", 1), ("gym", 1)]
    assert log.top(1)[0]["word"] == "trainers" and log.forget() == 3 and log.top() == []


def test_the_least_searched_words_go_past_the_limit(tmp_path, monkeypatch):
    import engine.unheard as unheard_module

    monkeypatch.setattr(unheard_module, "PRUNE_EVERY", 10)
    log = Unheard(tmp_path / "unheard.db", keep=5)
    log.record(["trainers"])
    log.record(["trainers"])
    for i in range(28):  # a bot's random words; the 30th record prunes
        log.record([f"zq{i}"])
    words = [r["word"] for r in log.top(100)]
    assert len(words) == 5 and words[0] == "trainers"


def test_a_locked_file_drops_the_words_and_never_fails(tmp_path, caplog):
    log = Unheard(tmp_path / "unheard.db")
    log.record(["warm"])
    holder = sqlite3.connect(tmp_path / "unheard.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        log.record(["trainers"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "could not count unheard words" in caplog.text and [r["word"] for r in log.top()] == ["warm"]


def test_the_engine_counts_words_after_synonyms_and_corrections(engine):
    engine.unheard.forget()
    engine.search(Query(text="red trainers", k=3))
    engine.search(Query(text="red hodie", k=3))  # corrected to "hoodie": held
    engine.search(Query(text="red trainers under 50", k=3))  # the price phrase is not a word
    engine.search(Query(text="red trainers", k=3, offset=3))  # the next page: the same search, not counted again
    assert [(r["word"], r["n"]) for r in engine.unheard.top()] == [("trainers", 2)]
    kept = engine.unheard
    engine.unheard = None  # log_unheard false: nothing is written
    try:
        engine.search(Query(text="red trainers", k=3))
    finally:
        engine.unheard = kept
    assert engine.unheard.top()[0]["n"] == 2
    engine.unheard.forget()


def test_cli_lists_and_clears(tmp_path, capsys):
    Unheard(tmp_path / "unheard.db").record(["trainers", "gym"])
    assert main(["--data-dir", str(tmp_path), "unheard", "-k", "1"]) == 0
    assert capsys.readouterr().out.split() in (["1", "trainers"], ["1", "gym"])
    assert main(["--data-dir", str(tmp_path), "unheard", "--clear"]) == 0
    assert '"forgotten": 2' in capsys.readouterr().out


def test_nearest_names_the_closest_category_leaves():
    import numpy as np

    space = {"trainers": [1, 0, 0], "Sports Shoes": [0.9, 0.1, 0], "Handbags": [0, 1, 0], "Watches": [0, 0, 1]}
    near = nearest(["trainers"], ["Men/Footwear/Sports Shoes", "Women/Bags/Handbags", "Watches", ""],
                   lambda texts: np.asarray([space[t] for t in texts], float), k=2)
    assert near == {"trainers": ["Sports Shoes", "Handbags"]}  # (Handbags before Watches: stable ties, by name)


def test_cli_names_the_nearest_categories(built_shop, capsys):
    log = Unheard(built_shop.path / "unheard.db")
    log.forget()
    log.record(["trainers"])
    try:
        assert main(["--data-dir", str(built_shop.path), "unheard", "--near"]) == 0
        line = capsys.readouterr().out.strip()
        assert line.startswith("1  trainers  (near: ") and line.count(",") == 2
    finally:
        log.forget()
