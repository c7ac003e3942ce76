"""The shop's synonyms (engine/synonyms.py): Solr's file format, one-way rules applied to the query's words,
equivalent words counted as each other in the lexical part, installed atomically and read again on change."""

import os

import pytest

from engine import synonyms
from engine.catalog import Catalog
from engine.types import Product, Query

FILE = """# the shop's words
tee, tshirt, T-shirt
trainers, sneakers   # both ways
LV, l.v. => louis vuitton
"""


def test_the_file_gives_one_way_rules_and_groups_of_equivalent_terms():
    found = synonyms.parse(FILE)
    assert found.rules == (("l.v.", "louis vuitton"), ("lv", "louis vuitton"))  # longest first, lower case
    assert found.groups == {"tee": ("tshirt",), "tshirt": ("tee",), "trainer": ("sneaker",), "sneaker": ("trainer",)}
    assert {"tee", "trainers", "lv", "louis", "vuitton"} <= found.words
    assert synonyms.parse("") == synonyms.Synonyms() and not synonyms.parse("# nothing\n\n")


def test_rules_replace_whole_words_in_any_case():
    found = synonyms.parse(FILE)
    assert found.rewrite("LV bag, l.v. wallet") == ("louis vuitton bag, louis vuitton wallet",
                                                    {"l.v.": "louis vuitton", "lv": "louis vuitton"})
    assert found.rewrite("lvx and slv") == ("lvx and slv", {})  # inside other words: left alone
    chinese = synonyms.parse("苹果手机 => iphone\n华为 => huawei")
    assert chinese.rewrite("红色苹果手机壳") == ("红色 iphone 壳", {"苹果手机": "iphone"})  # no spaces to wait for
    assert chinese.rewrite("华为 mate 30") == ("huawei mate 30", {"华为": "huawei"})
    assert chinese.rewrite("华为mate") == ("huawei mate", {"华为": "huawei"})


@pytest.mark.parametrize("text, line, says", [
    ("tee, tshirt\na,,b", 2, "empty member"), ("a =>", 1, "empty member"), ("a => b => c", 1, "more than one"),
    ("# ok\nlonely", 2, "one word alone")])
def test_a_wrong_line_is_named(text, line, says):
    with pytest.raises(synonyms.SynonymsError) as err:
        synonyms.parse(text)
    assert err.value.line == line and says in str(err.value) and err.value.field == "synonyms"


def test_installed_atomically_read_again_when_changed_and_nothing_written_when_wrong(tmp_path):
    path = tmp_path / "synonyms.txt"
    assert not synonyms.load(path)
    synonyms.install(FILE, path)
    assert synonyms.load(path).groups["tee"] == ("tshirt",)
    synonyms.install("hoodie, hoody, hoodies\n", path)
    os.utime(path, ns=(1, 1))  # even a file written within the same clock tick as the last read is re-read
    assert "tee" not in synonyms.load(path).groups
    with pytest.raises(synonyms.SynonymsError):
        synonyms.install("bad,,line", path)
    assert path.read_text() == "hoodie, hoody, hoodies\n" and sorted(p.name for p in tmp_path.iterdir()) == ["synonyms.txt"]


def test_writers_at_once_never_leave_half_a_file(tmp_path):
    """Two workers answering PUT /api/synonyms at the same moment: the file is one of the two, whole."""
    import threading

    path, files = tmp_path / "synonyms.txt", ["".join(f"w{i}x{n}, v{i}x{n}\n" for n in range(2000)) for i in range(2)]
    threads = [threading.Thread(target=lambda t=t: [synonyms.install(t, path) for _ in range(5)]) for t in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert path.read_text() in files and sorted(p.name for p in tmp_path.iterdir()) == ["synonyms.txt"]


def test_equivalent_words_count_as_each_other_in_the_lexical_part(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert([Product(id="t1", title="Navy Tshirt"), Product(id="s1", title="Running sneakers"),
                    Product(id="m1", title="Navy mug")])
    groups = synonyms.parse(FILE).groups
    without = dict(catalog.search_words("navy tee", 10))
    words = catalog.words("navy tee", groups)
    held = dict(zip(["t1", "m1"], catalog.words_held(words, ["t1", "m1"])))
    assert without.get("t1", 0) < 0.9 and held["t1"] == pytest.approx(1.0) and held["m1"] < 0.9
    assert catalog.word_matches(words, 10)[0] == "t1"
    assert catalog.word_matches(catalog.words("trainers", groups), 10) == ["s1"]


def test_a_member_of_several_words_is_a_phrase(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert([Product(id="r1", title="Black running shoes"), Product(id="t1", title="Black trainers"),
                    Product(id="s1", title="Black shoes for running errands")])
    groups = synonyms.parse("sneakers, trainers, running shoes\n").groups
    assert groups["running shoe"] == ("sneaker", "trainer") and groups["trainer"] == ("running shoe", "sneaker")

    def parts(text):
        words = catalog.words(text, groups)
        return dict(zip(["r1", "t1", "s1"], catalog.words_held(words, ["r1", "t1", "s1"]))), words

    found, words = parts("black trainers")
    assert found["r1"] == found["t1"] == pytest.approx(1.0)  # the title holds the phrase "running shoes"
    assert catalog.word_matches(words, 10)[:2] in (["r1", "t1"], ["t1", "r1"])  # an FTS5 phrase: not s1 first
    found, _ = parts("black running shoes")
    assert found["t1"] == pytest.approx(1.0) and "running shoe" in catalog.words("black running shoes", groups).weights


def test_suggestions_take_the_shops_equivalent_words(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert([Product(id="t1", title="Navy Tshirt slim"), Product(id="m1", title="Navy mug")])
    groups = synonyms.parse(FILE).groups
    assert catalog.suggest("navy tee sl") == [] and catalog.suggest("navy tee sl", groups=groups) == [("t1", "Navy Tshirt slim")]


def test_the_engine_applies_the_rules_and_groups_and_says_so(engine):
    synonyms.install("crimson => red\njumpr, hoodie\n", engine.config.synonyms_path)
    try:
        response = engine.search(Query(text="crimson striped jumpr", k=40))  # (tiny random towers rank the rest)
        assert response.understood["synonyms"] == {"crimson": "red"}
        assert response.understood["text"] == "red striped jumpr"
        assert "corrected" not in response.understood  # the file's words are the shop's own, never "typos"
        held = {r.product.title.lower(): r.why["lexical"] for r in response.results}
        assert held.get("red striped hoodie") == pytest.approx(1.0)  # "jumpr" counts as "hoodie"
        typed = engine.search(Query(text="crimson striped jumpr", k=5, read_words=False))
        assert not typed.understood or "synonyms" not in typed.understood
    finally:
        engine.config.synonyms_path.unlink()
