"""The rows' attribute pairs as codes (engine/attribute_pairs.py) against a plain Python reading of the same rows."""

import random
from collections import Counter

import numpy as np
import pytest

from engine import attribute_pairs
from engine.attribute_pairs import PairCodes


def _rows(n: int, seed: int = 0) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pairs = [("brand", rng.choice(["Acme", "acme", "Bolt", "Zed"])), ("size", rng.choice("SML"))]
        pairs += [("colour", c) for c in rng.sample(["Red", "blue", "Navy Blue"], rng.randrange(3))]
        if i % 3:
            pairs.append(("link", f"https://x.example/{i}"))
        out.append(pairs)
    return out


@pytest.mark.parametrize("tail", [1, 7, 4096])
def test_codes_read_back_what_each_row_holds(monkeypatch, tail):
    monkeypatch.setattr(attribute_pairs, "TAIL", tail)  # 1 and 7: the sorted part and the tail both in play
    rows = _rows(301)
    codes = PairCodes()
    for r, pairs in enumerate(rows):
        assert codes.add_row(pairs) == r
    held = [{(a, v.lower()) for a, v in pairs} for pairs in rows]
    for wanted in [("brand", "ACME"), ("colour", "navy blue"), ("size", "m"), ("link", "https://x.example/7"),
                   ("link", "https://x.example/3"), ("brand", "nobody"), ("nobody", "x")]:
        expected = [r for r, h in enumerate(held) if (wanted[0], wanted[1].lower()) in h]
        code = codes.lookup(*wanted)
        assert sorted(codes.rows_holding(code).tolist()) == expected
    assert codes.values([0, 150, 300, 7], "colour") == [frozenset(v for a, v in held[r] if a == "colour")
                                                        for r in (0, 150, 300, 7)]
    assert codes.values([3], "absent") == [frozenset()] and codes.values_of(3, "absent") == frozenset()
    assert [codes.values_of(r, "colour") for r in (0, 150, 300, 7)] == codes.values([0, 150, 300, 7], "colour")
    for r in (0, 150, 300):
        assert {codes.pair(c) for c in codes.codes_of(r).tolist()} == held[r]
        assert len(codes.codes_of(r)) == len(held[r])  # "Acme" and "acme" in one row count once


@pytest.mark.parametrize("tail", [1, 5, 4096])
def test_rows_restated_read_back_their_new_pairs_only(monkeypatch, tail):
    monkeypatch.setattr(attribute_pairs, "TAIL", tail)
    rows = _rows(120)
    codes = PairCodes()
    for pairs in rows:
        codes.add_row(pairs)
    rng = random.Random(5)
    again = _rows(400, seed=9)
    for step, pairs in enumerate(again):  # rows restated, some several times, some back to what they held
        r = rng.randrange(len(rows))
        rows[r] = pairs if step % 7 else rows[(r + 1) % len(rows)]
        codes.restate(r, rows[r])
        if step % 50 == 0:
            codes.add_row(pairs)
            rows.append(pairs)
    held = [{(a, v.lower()) for a, v in pairs} for pairs in rows]
    for wanted in [("brand", "ACME"), ("colour", "navy blue"), ("colour", "red"), ("size", "s"),
                   ("link", "https://x.example/7"), ("link", "https://x.example/301")]:
        expected = [r for r, h in enumerate(held) if (wanted[0], wanted[1].lower()) in h]
        assert sorted(codes.rows_holding(codes.lookup(*wanted)).tolist()) == expected  # each once
    chosen = list(range(len(rows)))
    assert codes.values(chosen, "colour") == [frozenset(v for a, v in h if a == "colour") for h in held]
    restored = PairCodes.restore(codes.arrays(), codes.words())
    for r in chosen:
        assert {restored.pair(c) for c in restored.codes_of(r).tolist()} == held[r]
    assert len(restored.arrays()["pair_entries"]) == sum(len(h) for h in held)  # saved without the old codes
    if tail < 100:  # rebuilt while restating: the codes rows held before are gone from memory too
        assert len(codes._entries) < 2 * sum(len(h) for h in held)


def test_counts_and_holding_match_a_plain_count():
    rows = _rows(97, seed=3)
    codes = PairCodes()
    for pairs in rows:
        codes.add_row(pairs)
    chosen = [5, 0, 96, 40, 41, 5]  # unsorted, one twice
    plain = Counter(p for r in chosen for p in {(a, v.lower()) for a, v in rows[r]} if p[0] in ("brand", "colour"))
    got = codes.counts(chosen, {"brand": None, "colour": None, "absent": None})
    assert {codes.pair(c): n for _, c, n in got} == dict(plain)
    assert all(codes.pair(c)[0] == name for name, c, _ in got)
    for name in ("brand", "colour"):  # attribute by attribute, most held first, at most ``limit`` each
        ns = [n for a, _, n in got if a == name]
        assert ns == sorted(ns, reverse=True)
        assert [n for a, _, n in codes.counts(chosen, {name: 2})] == ns[:2]
    wanted = [codes.lookup("brand", "zed"), codes.lookup("colour", "red"), -1]
    expected = np.array([[("brand", "zed") in h, ("colour", "red") in h, False]
                         for h in ({(a, v.lower()) for a, v in rows[r]} for r in chosen)])
    assert np.array_equal(codes.holding(chosen, wanted), expected)


def test_a_value_is_shown_as_first_written():
    codes = PairCodes()
    codes.add_row([("brand", "ACME Co")])
    codes.add_row([("brand", "acme co")])
    code = codes.lookup("brand", "Acme CO")
    assert codes.shown(code) == "ACME Co" and codes.pair(code) == ("brand", "acme co")
    assert codes.distinct("brand") == 1 and codes.distinct("size") == 0
    assert codes.gather([])[1].tolist() == [] and codes.counts([], {"brand": 3}) == []
