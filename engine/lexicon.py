"""Lexical matching: the shop's own words, as shoppers type them ("Chaz Kangeroo Hoodie", "striped",
"Grey Tshirts", "红色条纹连帽衫").

The towers read meaning and blur the exact words a catalogue is searched by: a model name, a brand, a
pattern ("striped" and "dotted" hoodies lie together in the shared space). So every product's words are
also kept beside it in the catalogue, in an SQLite FTS5 table (``lexicon``, written in the same transaction
as the product, ``Catalog.upsert``): column ``title`` holds the title, the category path and the attribute
values, column ``body`` the description, each as its **terms**: words lower-cased, without accents, their
English plural endings cut by ``stem`` ("hoodies" and "hoodie" are both "hoodie", "watches" "watch"),
a document's "-ed" words also as their bases ("Striped" also "stripe", "Dotted" also "dot"), hyphenated
words also joined ("T-shirt" also "tshirt"); Chinese and Japanese have no spaces, so each run
of CJK characters gives its single characters and its adjacent pairs ("条纹连帽衫": 条 纹 连 帽 衫 条纹 纹连
连帽 帽衫). Queries are cut into terms the same way (a hyphenated word joined only).

A query's part ``lexical`` for a candidate product is the share of the query terms' weight that its terms
hold: each term weighs its inverse document frequency (BM25's), counted in full in the title column and
``BODY_WEIGHT`` in the description alone: 1 when the title holds every term; a term no product has keeps its
(high) weight, so words the catalogue answers only in part give a small part. Terms in more than
``COMMON_SHARE`` of the products (and ``COMMON_FLOOR`` at least) are left out: they single out nothing. Every
candidate gets the part, whichever way it was found (``held``). The terms also bring candidates
(``matches``): the products whose title holds every term, then those holding every term anywhere, then,
when they are still fewer than asked for, those holding any of the rarest terms; ranked by FTS5's ``bm25``
only where the rarest term's products are fewer than ``RANK_POSTINGS`` (a ranking scores every match) and
taken as they come otherwise, so a query's time stays bounded on a catalogue of any size. How many products
hold each term is kept beside (``lexicon_df``, counted in the product's own transaction).
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .query_text import CJK_RUN
from .types import Product

SCHEMA = ("CREATE VIRTUAL TABLE lexicon USING fts5(title, body, tokenize = 'unicode61', prefix = '2 3')",
          "CREATE TABLE lexicon_df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
DROP = ("DROP TABLE IF EXISTS lexicon_terms", "DROP TABLE IF EXISTS lexicon_df", "DROP TABLE IF EXISTS lexicon")
VERSION = "6"  # the catalogue's meta "lexicon": a catalogue with another (or none) is rewritten on open
BODY_WEIGHT = 0.5  # a term held by the description alone counts this share of one in the title
COMMON_SHARE = 0.2  # terms in more than this share of the products are left out...
COMMON_FLOOR = 1000  # ...when they are in more products than this too (a small shop keeps "red")
RANK_POSTINGS = 5_000  # matches are ranked by BM25 (which scores them all) only below this many postings
POWER = 1.0  # the part is the share of the terms' weight held, to this power (2-8 measured worse on every
# titles-only task: a name holding one word of "gray hoodies & sweatshirts" is evidence; lexical_shape_probe.*)
MAX_TERMS = 32  # a pasted paragraph is cut to its first terms
_HYPHENATED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, any script
STOP = frozenset("a an and at for from in of on or the to with by".split())


def stem(word: str) -> str:
    """One form for a word's English singular and plural: "hoodies", "hoodie" and "hoody" -> "hoodie",
    "dresses" -> "dress", "watches" -> "watch", "tshirts" -> "tshirt", "accessories" and "accessory" ->
    "accessorie" (a term, not a word: both sides are cut alike); "dress", "this", "bus" stay."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-1]
    if len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if len(word) > 3 and word.endswith("y") and word[-2] not in "aeiouy":
        return word[:-1] + "ie"
    return word


def _bases(word: str) -> list[str]:
    """A document's past participle also as the words it may come from, so that a shopper's "stripes",
    "print", "checks" or "dots" meet a title's "Striped", "Printed", "Checked", "Dotted" (the query's own
    word stays as typed: "striped" meets "Striped")."""
    if len(word) <= 5 or not word.endswith("ed") or word.endswith("eed"):
        return []
    out = [word[:-1], word[:-2]]  # striped -> stripe, printed -> print
    if word[-3] == word[-4]:
        out.append(word[:-3])  # dotted -> dot
    return out


def _plain(text: str) -> str:
    """Lower case, accents off ("Café" -> "cafe"), full-width forms folded (NFKC)."""
    if text.isascii():  # the same, without the two normalisations (most of a description's cost)
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def terms_of(text: str, query: bool = False) -> list[str]:
    """The terms of ``text`` in order (see the module); ``query``: hyphenated words joined only and stop
    words out."""
    text = _HYPHENATED.sub(lambda m: m.group(0).replace("-", "") if query else
                           f"{m.group(0)} {m.group(0).replace('-', '')}", _plain(text))
    out = []
    for word in _WORD.findall(text):
        for run in CJK_RUN.split(word):
            if run and not (query and run in STOP):
                out.append(stem(run))
                if not query:
                    out += _bases(run)
        for run in CJK_RUN.findall(word):
            out += [*run, *(run[i:i + 2] for i in range(len(run) - 1))]
    return out


def terms(text: str) -> list[str]:
    """A query's distinct terms, the first ``MAX_TERMS``."""
    return list(dict.fromkeys(terms_of(text, query=True)))[:MAX_TERMS]


def document(p: Product) -> tuple[str, str]:
    """(title column, body column) of a product: the terms of its title, category path and attribute
    values; of its description."""
    return _title_terms(p), " ".join(terms_of(p.description))


# attributes that are not words a shopper searches a product by: a feed's stock and availability (which change
# daily, and rewrote the product's terms with each change: a stock feed's catalogue write), its links and codes
NOT_WORDS = frozenset({"link", "url", "availability", "stock", "inventory", "quantity", "qty", "gtin", "mpn", "ean",
                       "upc", "isbn", "image_link", "mobile_link"})


def _title_terms(p: Product) -> str:
    values = " ".join(str(v) for k, v in p.attributes.items()
                      if k.lower() not in NOT_WORDS and not str(v).lower().startswith(("http://", "https://")))
    return " ".join(terms_of(f"{p.title} {p.category.replace('/', ' ')} {values}"))


_SUPPORTED: bool | None = None


def supported(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has FTS5 (Python builds without it exist); warned once when not."""
    global _SUPPORTED
    if _SUPPORTED is None:
        try:
            conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
            conn.execute("DROP TABLE temp.fts5_probe")
            _SUPPORTED = True
        except sqlite3.OperationalError:
            _SUPPORTED = False
            logging.getLogger(__name__).warning(
                "this Python's SQLite has no FTS5: searching by the products' own words (part lexical) is off")
    return _SUPPORTED


def write(conn: sqlite3.Connection, rowid: int, p: Product) -> None:
    """The product's terms under the products table's ``rowid`` (the caller forgot the old ones), and
    each of its distinct terms counted once more in ``lexicon_df``."""
    title, body = document(p)
    conn.execute("INSERT INTO lexicon (rowid, title, body) VALUES (?, ?, ?)", (rowid, title, body))
    _count(conn, set(title.split()) | set(body.split()), +1)


def rewrite(conn: sqlite3.Connection, rowid: int, p: Product, old_description: str | None = None) -> None:
    """The terms of a product stored again under the same ``rowid``: rewritten only where its title,
    category, attributes or description changed their terms (a price feed's updates leave them be).
    ``old_description``: the description stored before; when it is the product's, its terms are the stored
    ones (a stock or colour feed cuts only the title column's few words again). Only the terms that came or
    went are counted again in ``lexicon_df``."""
    row = conn.execute("SELECT title, body FROM lexicon WHERE rowid = ?", (rowid,)).fetchone()
    if row is None:
        write(conn, rowid, p)
        return
    new = (_title_terms(p), row[1] if old_description == p.description else " ".join(terms_of(p.description)))
    if new == tuple(row):
        return
    conn.execute("DELETE FROM lexicon WHERE rowid = ?", (rowid,))
    conn.execute("INSERT INTO lexicon (rowid, title, body) VALUES (?, ?, ?)", (rowid, *new))
    before, after = _term_set(row), _term_set(new)
    _count(conn, before - after, -1)
    _count(conn, after - before, +1)


def forget(conn: sqlite3.Connection, rowid: int) -> None:
    row = conn.execute("SELECT title, body FROM lexicon WHERE rowid = ?", (rowid,)).fetchone()
    if row is None:
        return
    conn.execute("DELETE FROM lexicon WHERE rowid = ?", (rowid,))
    _count(conn, _term_set(row), -1)


def _term_set(columns: Sequence[str]) -> set[str]:
    return {t for column in columns for t in column.split()}


def _count(conn: sqlite3.Connection, terms: Iterable[str], step: int) -> None:
    """Each term counted ``step`` (+1 or -1) more products in ``lexicon_df``."""
    if step > 0:
        conn.executemany("INSERT INTO lexicon_df (term, n) VALUES (?, 1) ON CONFLICT (term) DO UPDATE SET n = n + 1",
                         [(t,) for t in terms])
    else:
        conn.executemany("UPDATE lexicon_df SET n = n - 1 WHERE term = ?", [(t,) for t in terms])


def backfill(conn: sqlite3.Connection) -> int:
    """Write every product's terms (a catalogue made before the lexicon); returns how many."""
    from .catalog import COLUMNS, _row_to_product

    n = 0
    for row in conn.execute(f"SELECT rowid, {COLUMNS} FROM products").fetchall():
        write(conn, row[0], _row_to_product(row[1:]))
        n += 1
    return n


@dataclass(frozen=True)
class Words:
    """A query's terms as the catalogue weighs them: term -> (weight, products holding it), rarest first;
    ``alternatives``: term -> the shop's synonyms for it (``engine/synonyms.py``), each held counting as it."""
    weights: dict[str, tuple[float, int]]
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def forms(self, term: str) -> tuple[str, ...]:
        return _forms(term, self.alternatives)

    def __bool__(self) -> bool:
        return bool(self.weights)

    @property
    def total(self) -> float:
        return sum(w for w, _ in self.weights.values())


def weigh(conn: sqlite3.Connection, text: str, n_products: int,
          groups: dict[str, tuple[str, ...]] | None = None) -> Words:
    """The query's terms with their weights among ``n_products`` (common terms left out); ``groups``: the
    shop's synonyms (a term or a phrase of terms, "sport shoe" -> its equivalents), each counted as held by
    the products of its most held form (a phrase: its rarest term's, an upper bound). A phrase of the
    groups found in the query's terms is one term of it ("running shoes" meets "trainers")."""
    wanted = _phrases(terms(text), groups or {})
    if not wanted or n_products == 0:
        return Words({})
    alternatives = {t: groups[t] for t in wanted if groups and t in groups}
    forms = {t: _forms(t, alternatives) for t in wanted}
    held = counts(conn, {part for fs in forms.values() for f in fs for part in f.split()})
    df = {t: max(min(held.get(part, 0) for part in f.split()) for f in fs) for t, fs in forms.items()}
    common = max(COMMON_FLOOR, COMMON_SHARE * n_products)
    kept = sorted((df[t], i, t) for i, t in enumerate(wanted) if df[t] <= common)
    weights = {t: (max(math.log((n_products - d + 0.5) / (d + 0.5)), 1e-6), d) for d, _, t in kept}
    return Words(weights, {t: a for t, a in alternatives.items() if t in weights})


def _phrases(wanted: list[str], groups: dict[str, tuple[str, ...]]) -> list[str]:
    """``wanted`` with each run of terms that is a phrase of ``groups`` joined into one ("sport", "shoe" ->
    "sport shoe"), longest phrases first."""
    starts = set(wanted)  # (a phrase whose first term the query lacks is passed over at once)
    for phrase in sorted((k for k in groups if " " in k and k.split(" ", 1)[0] in starts), key=lambda k: -len(k.split())):
        parts, n = phrase.split(), len(phrase.split())
        for i in range(len(wanted) - n + 1):
            if wanted[i:i + n] == parts:
                wanted = wanted[:i] + [phrase] + wanted[i + n:]
                break
    return wanted


def counts(conn: sqlite3.Connection, wanted: Iterable[str]) -> dict[str, int]:
    """How many products hold each of the ``wanted`` terms, for those some product holds."""
    rows = _chunked(conn, "SELECT term, n FROM lexicon_df WHERE n > 0 AND term IN ({})", list(wanted))
    return dict(rows)


def unheard(text: str, words: Words) -> list[str]:
    """The words of ``text`` (lower case, accents off) that no product holds, as ``words`` (its weighed terms)
    say: a word whose term counts 0; a Chinese or Japanese run none of whose pairs (a lone character: itself)
    any product holds."""
    zero = {t for t, (_, d) in words.weights.items() if d == 0}
    out = []
    for word in _WORD.findall(_plain(text)):
        out += [run for run in CJK_RUN.split(word) if run and run not in STOP and stem(run) in zero]
        for run in CJK_RUN.findall(word):
            if all(p in zero for p in ([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])):
                out.append(run)
    return out


def _forms(term: str, groups: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The term and the shop's synonyms for it (``groups``: term or phrase -> its equivalents)."""
    return (term, *groups.get(term, ()))


def _either(forms: tuple[str, ...]) -> str:
    """An FTS5 expression matching any of ``forms`` (a phrase of several terms: those terms, adjacent)."""
    return "(" + " OR ".join(map(_quote, forms)) + ")"


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def matches(conn: sqlite3.Connection, words: Words, limit: int) -> list[str]:
    """Ids of up to ``limit`` products the words find, best first: those whose title holds every term the
    catalogue has, then those holding them anywhere, then those holding any of the rarest (see the module)."""
    held = [t for t, (_, d) in words.weights.items() if d > 0]  # rarest first
    if not held or limit <= 0:
        return []
    found: list[int] = []
    either = {t: _either(words.forms(t)) for t in held}  # a term or its synonyms
    for expression in (" AND ".join(f"title : {either[t]}" for t in held), " AND ".join(either[t] for t in held)):
        _add(found, conn, expression, limit, ranked=words.weights[held[0]][1] <= RANK_POSTINGS)
    rarest, postings = [], 0
    for t in held:
        postings += words.weights[t][1]
        if postings > RANK_POSTINGS:
            break
        rarest.append(t)
    if rarest and len(held) > 1:  # (with one term the first two queries were this one)
        _add(found, conn, " OR ".join(either[t] for t in rarest), limit, ranked=True)
    ids = dict(_chunked(conn, "SELECT rowid, id FROM products WHERE rowid IN ({})", found))
    return [ids[r] for r in found if r in ids]


def _add(found: list[int], conn: sqlite3.Connection, expression: str, limit: int, ranked: bool) -> None:
    """Append to ``found`` (up to ``limit`` in all) the rows matching the FTS5 ``expression`` it lacks, by
    BM25 when ``ranked`` (FTS5 then scores every match), else as they come (it stops at the limit)."""
    want = limit - len(found)
    if want <= 0:
        return
    order = f"ORDER BY bm25(lexicon, 1.0, {BODY_WEIGHT})" if ranked else ""
    seen = set(found)
    rows = conn.execute(f"SELECT rowid FROM lexicon WHERE lexicon MATCH ? {order} LIMIT ?", (expression, limit))
    found += [r for (r,) in rows if r not in seen][:want]


SUGGEST_RANK_BELOW = 100_000  # suggestions are ranked by BM25 in catalogues smaller than this


def suggest(conn: sqlite3.Connection, text: str, n_products: int, limit: int,
            groups: dict[str, tuple[str, ...]] | None = None) -> list[tuple[str, str]]:
    """(id, title) of up to ``limit`` products with distinct titles whose title column holds the words of
    ``text`` as typed so far: the last word as a prefix ("red stri" -> "Red striped hoodie"), CJK text by
    its characters and pairs; nothing before two letters. Ranked by BM25 below ``SUGGEST_RANK_BELOW``
    products, as they come above (a short prefix's postings are too many to score while a shopper types)."""
    plain = _plain(text)
    tokens = _WORD.findall(plain)
    if len(plain.strip()) < 2 or not tokens or limit <= 0:
        return []
    prefix = tokens[-1] if not plain[-1].isspace() and not CJK_RUN.search(tokens[-1]) else None
    head = plain[: plain.rfind(prefix)] if prefix else plain
    if prefix and len(prefix) < 2:  # "turtle c": one letter says little and costs a scan of every term
        prefix = None  # starting with it (28 ms at 1M products); the whole words suggest meanwhile
    parts = ([f"title : {_either(_forms(w, groups or {}))}" for w in terms(head)]  # a whole word or its synonyms
             + ([f"title : {_quote(prefix)} *"] if prefix else []))
    if not parts:  # only stop words ("the ") or a single letter after them
        return []
    order = "ORDER BY bm25(lexicon, 1.0, 0.0)" if n_products < SUGGEST_RANK_BELOW else ""
    rows = conn.execute(f"SELECT p.id, p.title FROM (SELECT rowid FROM lexicon WHERE lexicon MATCH ? {order} "
                        f"LIMIT ?) s JOIN products p ON p.rowid = s.rowid", (" AND ".join(parts), limit * 5))
    seen, out = set(), []
    for pid, title in rows:
        if title.lower() not in seen:
            seen.add(title.lower())
            out.append((pid, title))
    return out[:limit]


def held_parts(conn: sqlite3.Connection, words: Words, product_ids: Sequence[str]
               ) -> tuple[list[float], list[float]]:
    """Each product's ``lexical`` part (0 for an id the catalogue does not hold) and ``all_words`` part: 1 when its
    title holds every word of the query, a CJK pair counting as held by its two characters (a Chinese query's pairs
    cross its words: "红色连衣裙" has "色连", which "红色波点连衣裙" lacks while holding every word; ``lexical`` keeps the
    pair, which ranks the exact phrase first: newbee_zh's category names lost 0.03 P@10 when it did not,
    ``docs/figures.md``). A price order and refine keep the products holding every word."""
    if not words or not product_ids:
        return [0.0] * len(product_ids), [0.0] * len(product_ids)
    total = words.total
    shares, whole = {}, {}
    for pid, title, body in _chunked(conn, "SELECT p.id, l.title, l.body FROM products p JOIN lexicon l "
                                           "ON l.rowid = p.rowid WHERE p.id IN ({})", list(product_ids)):
        in_title, in_body = set(title.split()), set(body.split())
        got, every = 0.0, True
        for t, (w, _) in words.weights.items():  # each term looked up in the title once
            forms = words.forms(t)
            in_it = _holds(in_title, forms)
            got += w if in_it else w * BODY_WEIGHT if _holds(in_body, forms) else 0.0
            every = every and (in_it or _by_characters(in_title, forms))
        shares[pid], whole[pid] = (got / total) ** POWER, float(every)
    return [shares.get(pid, 0.0) for pid in product_ids], [whole.get(pid, 0.0) for pid in product_ids]


def _by_characters(column: set[str], forms: tuple[str, ...]) -> bool:
    """Whether the term is a lone pair of CJK characters whose two characters the column holds."""
    pair = forms[0]
    return len(forms) == 1 and len(pair) == 2 and bool(CJK_RUN.fullmatch(pair)) and column.issuperset(pair)


def _holds(column: set[str], forms: tuple[str, ...]) -> bool:
    """Whether a column's terms hold one of the forms (a phrase: all its terms)."""
    return any(f in column or (" " in f and column.issuperset(f.split())) for f in forms)


def _chunked(conn: sqlite3.Connection, sql: str, values: list, size: int = 500) -> list[tuple]:
    out = []
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        out += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return out
