"""Lexical matching: the shop's own words, as shoppers type them ("Chaz Kangeroo Hoodie", "striped",
"MH01", "红色条纹连帽衫").

The towers read meaning and blur the exact words a catalogue is searched by: a model name, a brand, a
pattern ("striped" and "dotted" hoodies lie together in the shared space), a code. So every product's
words are also kept beside it in the catalogue, in an SQLite FTS5 table (``lexicon``, written in the same
transaction as the product, ``Catalog.upsert``): column ``title`` holds the title, the category path and
the attribute values, column ``body`` the description. Words are stemmed by FTS5's porter tokenizer
("hoodies" meets "hoodie", "stripes" "stripe"); Chinese and Japanese have no spaces, so each run of CJK
characters is written as its single characters and its adjacent pairs ("条纹连帽衫": 条 纹 连 帽 衫 条纹
纹连 连帽 帽衫), queries alike.

A query's part ``lexical`` for a product is its BM25 score over the query's words (FTS5's ``bm25``, the
description weighing ``BODY_WEIGHT`` of the title) divided by the score of a title holding each of the
words once, the sum of their inverse document frequencies, and capped at 1: 1 when the title holds every
word, the share of the words' weight it holds otherwise; a word no product has keeps its (high) weight in
the sum, so a query that the catalogue's words answer only in part gets a small part. Words in more than
``COMMON_SHARE`` of the products (and ``COMMON_FLOOR`` at least) are left out of both: they single out
nothing and their postings are the slow ones. The best ``limit`` products by BM25 join the query's
candidates (``engine.SearchEngine``): a product its words name is found even when no tower puts it near.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass

from .types import Product

SCHEMA = ("CREATE VIRTUAL TABLE IF NOT EXISTS lexicon USING fts5(title, body, "
          "tokenize = 'porter unicode61 remove_diacritics 2')")
BODY_WEIGHT = 0.5  # a word in the description counts half as much as one in the title
COMMON_SHARE = 0.2  # words in more than this share of the products are left out...
COMMON_FLOOR = 1000  # ...when they are in more products than this too (a small shop keeps "red")
MAX_TERMS = 32  # a pasted paragraph is cut to its first words
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
_TERM = re.compile(r"[^\W_]+")  # runs of letters and digits, any script
STOP = frozenset("a an and at for from in of on or the to with by".split())


def segment(text: str) -> str:
    """``text`` with each CJK run written as its characters and adjacent pairs, space-separated."""
    def split(m: re.Match) -> str:
        run = m.group(0)
        return " " + " ".join([*run, *(run[i:i + 2] for i in range(len(run) - 1))]) + " "
    return _CJK_RUN.sub(split, text)


def document(p: Product) -> tuple[str, str]:
    """(title column, body column) for a product: title, category path and attribute values; description."""
    values = " ".join(str(v) for v in p.attributes.values())
    return segment(f"{p.title} {p.category.replace('/', ' ')} {values}"), segment(p.description)


def terms(text: str) -> list[str]:
    """The query's words as the lexicon is searched with them (CJK segmented, stop words out, first
    ``MAX_TERMS`` distinct, lower case)."""
    out: list[str] = []
    for t in _TERM.findall(segment(text).lower()):
        if t not in STOP and t not in out:
            out.append(t)
    return out[:MAX_TERMS]


@dataclass(frozen=True)
class Hits:
    """Products the query's words match: catalogue ids and their ``lexical`` part, best first."""
    ids: tuple[str, ...]
    scores: tuple[float, ...]
    words: tuple[str, ...]  # the query words searched (common ones left out)

    def __bool__(self) -> bool:
        return bool(self.ids)


NO_HITS = Hits((), (), ())


def write(conn: sqlite3.Connection, rowid: int, p: Product) -> None:
    """The product's words under the products table's ``rowid`` (the caller deleted the old ones)."""
    title, body = document(p)
    conn.execute("INSERT INTO lexicon (rowid, title, body) VALUES (?, ?, ?)", (rowid, title, body))


def forget(conn: sqlite3.Connection, rowid: int) -> None:
    conn.execute("DELETE FROM lexicon WHERE rowid = ?", (rowid,))


def backfill(conn: sqlite3.Connection) -> int:
    """Write every product's words (a catalogue made before the lexicon); returns how many."""
    from .catalog import COLUMNS, _row_to_product

    n = 0
    for row in conn.execute(f"SELECT rowid, {COLUMNS} FROM products").fetchall():
        write(conn, row[0], _row_to_product(row[1:]))
        n += 1
    return n


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search(conn: sqlite3.Connection, text: str, n_products: int, limit: int) -> Hits:
    """The ``limit`` best products by BM25 for the words of ``text`` among ``n_products``, each with the
    share of the words' weight it holds (see the module), best first."""
    weights = _weights(conn, terms(text), n_products)
    if not weights:
        return NO_HITS
    found = [r for (r,) in conn.execute(
        "SELECT rowid FROM lexicon WHERE lexicon MATCH ? ORDER BY bm25(lexicon, 1.0, ?) LIMIT ?",
        (" OR ".join(_quote(w) for w in weights), BODY_WEIGHT, limit))]
    if not found:
        return Hits((), (), tuple(weights))
    held = dict.fromkeys(found, 0.0)
    for word, weight in weights.items():
        in_title = _holding(conn, f"title : {_quote(word)}", found)
        in_body = _holding(conn, f"body : {_quote(word)}", found) - in_title
        for r in in_title:
            held[r] += weight
        for r in in_body:
            held[r] += weight * BODY_WEIGHT
    total = sum(weights.values())
    ids = dict(conn.execute(f"SELECT rowid, id FROM products WHERE rowid IN ({','.join('?' * len(found))})", found))
    ranked = sorted(((held[r] / total, i, ids[r]) for i, r in enumerate(found) if r in ids), key=lambda t: (-t[0], t[1]))
    return Hits(tuple(pid for _, _, pid in ranked), tuple(score for score, _, _ in ranked), tuple(weights))


def _weights(conn: sqlite3.Connection, words: list[str], n_products: int) -> dict[str, float]:
    """Each word's inverse document frequency (FTS5's own, floored at 1e-6), common words left out."""
    out = {}
    for w in words:
        df = conn.execute("SELECT count(*) FROM lexicon WHERE lexicon MATCH ?", (_quote(w),)).fetchone()[0]
        if df <= max(COMMON_FLOOR, COMMON_SHARE * n_products):
            out[w] = max(math.log((n_products - df + 0.5) / (df + 0.5)), 1e-6)
    return out if n_products else {}


def _holding(conn: sqlite3.Connection, expression: str, rowids: list[int]) -> set[int]:
    """Which of ``rowids`` match the FTS5 ``expression``."""
    marks = ",".join("?" * len(rowids))
    return {r for (r,) in conn.execute(f"SELECT rowid FROM lexicon WHERE lexicon MATCH ? AND rowid IN ({marks})",
                                       (expression, *rowids))}
