"""The product store: SQLite in WAL mode, the source of truth for products.

Every write bumps a global sequence number stored with the product (or its tombstone), so the
vector index can record the sequence it reflects and catch up after a crash
(``changes_since``). Each product's words are written in the same transaction to the FTS5 table
``lexicon`` under the product's rowid (``engine/lexicon.py``), so lexical search never sees a product
the catalogue does not hold, nor misses one it does.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Collection, Iterable, Iterator, Sequence

from . import lexicon, spelling
from .errors import ProductNotFoundError
from .sqlite import ThreadLocalConnection, transaction
from .types import Product

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    category_predicted INTEGER NOT NULL DEFAULT 0,
    price REAL,
    currency TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}',
    images TEXT NOT NULL DEFAULT '[]',
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS products_seq ON products(seq);
CREATE TABLE IF NOT EXISTS deletions (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deletions_seq ON deletions(seq);
"""
COLUMNS = "id, title, description, category, category_predicted, price, currency, attributes, images, seq"
_SET = ", ".join(f"{c} = ?" for c in COLUMNS.split(", "))  # an update's columns, in COLUMNS' order


class Catalog:
    """Thread-safe SQLite product store. One connection per thread; writes are transactions."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.root = self.path.parent.resolve()  # the data folder: photo paths inside it are stored relative to it
        self._conn = ThreadLocalConnection(self.path)
        self._conn().executescript(SCHEMA)
        self.lexical = lexicon.supported(self._conn())  # False: this SQLite has no FTS5, word search is off
        if self.lexical:
            self._ensure_lexicon()
        self._mentioned: tuple[int, dict[str, bool]] = (-1, {})  # (sequence, phrase -> mentions) of ``mentions``

    def close(self) -> None:
        self._conn.close()

    def _ensure_lexicon(self) -> None:
        """Create the lexicon and, for a catalogue written before it (or with another version of it), write
        every product's terms (once, in one transaction: a second process opening the catalogue meanwhile
        waits and then finds it done)."""
        conn = self._conn()
        if _meta(conn, "lexicon") == lexicon.VERSION:
            return
        with transaction(conn):
            if _meta(conn, "lexicon") == lexicon.VERSION:
                return
            for statement in (*lexicon.DROP, *lexicon.SCHEMA):
                conn.execute(statement)
            t = time.perf_counter()
            n = lexicon.backfill(conn)
            if n:
                log.info("wrote the words of %d products for lexical search in %.1f s (once)", n,
                         time.perf_counter() - t)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('lexicon', ?)", (lexicon.VERSION,))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('products', ?)", (str(n),))

    def words(self, text: str, groups: dict[str, tuple[str, ...]] | None = None) -> lexicon.Words:
        """The terms of ``text`` weighed by how many products hold them (``engine/lexicon.py``; none where
        this SQLite has no FTS5); ``groups``: the shop's synonyms (``Synonyms.groups``)."""
        return lexicon.weigh(self._conn(), text, self.count(), groups) if self.lexical else lexicon.Words({})

    def word_matches(self, words: lexicon.Words, limit: int) -> list[str]:
        """Ids of up to ``limit`` products holding the words, best first (``lexicon.matches``)."""
        return lexicon.matches(self._conn(), words, limit)

    def words_held(self, words: lexicon.Words, product_ids: Sequence[str]) -> list[float]:
        """Each product's share of the words' weight, its ``lexical`` part (``lexicon.held_parts``)."""
        return lexicon.held_parts(self._conn(), words, product_ids)[0]

    def word_parts(self, words: lexicon.Words, product_ids: Sequence[str]) -> tuple[list[float], list[float]]:
        """Each product's ``lexical`` and ``all_words`` parts (``lexicon.held_parts``)."""
        return lexicon.held_parts(self._conn(), words, product_ids)

    def term_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """How many products hold each term (``lexicon.counts``: those held only); {} without FTS5."""
        return lexicon.counts(self._conn(), terms) if self.lexical else {}

    def suggest(self, text: str, limit: int = 8, groups: dict[str, tuple[str, ...]] | None = None
                ) -> list[tuple[str, str]]:
        """(id, title) of products whose title holds the words typed so far (``lexicon.suggest``; ``groups``:
        the shop's synonyms, a whole word's counting as it); when none does, the same with the whole words'
        typing errors corrected (``spelling.correct``; the last word, still being typed, as it is)."""
        if not self.lexical:
            return []
        found = lexicon.suggest(self._conn(), text, self.count(), limit, groups)
        head, space, last = text.rpartition(" ")
        fixed = spelling.correct(head, self.term_counts, known=spelling.known_words(self)).text if not found and space else head
        return lexicon.suggest(self._conn(), f"{fixed} {last}", self.count(), limit, groups) if fixed != head else found

    def search_words(self, text: str, limit: int) -> list[tuple[str, float]]:
        """(id, ``lexical`` part) of the products the words of ``text`` find, best part first."""
        words = self.words(text)
        ids = self.word_matches(words, limit)
        return sorted(zip(ids, self.words_held(words, ids)), key=lambda pair: -pair[1])

    def count(self) -> int:
        """The number of products, as every write keeps it in ``meta`` (``len`` counts the rows: 3 ms at 1M
        products, 260 ms with a cold page cache)."""
        n = _meta(self._conn(), "products")
        return int(n) if n is not None else len(self)

    @staticmethod
    def _add_to_count(conn: sqlite3.Connection, n: int) -> None:
        if n:
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'products'", (n,))

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, products: Iterable[Product], keep_photos_of: Collection[str] = ()) -> int:
        """Insert or replace products by id in one transaction; returns the new sequence number.

        A predicted category never overwrites a category that was given. A product in
        ``keep_photos_of`` sent without photos keeps those stored for it (a price update sent
        without its photos must not drop them).
        """
        keep = set(keep_photos_of)
        with transaction(self._conn()) as conn:
            seq = self._next_seq(conn)
            added = 0
            for p in products:
                p = self._keep_given_category(conn, p)
                if not p.images and p.id in keep:
                    p = self._keep_photos(conn, p)
                old = conn.execute("SELECT rowid, title, description, category, attributes FROM products "
                                   "WHERE id = ?", (p.id,)).fetchone()
                values = (p.id, p.title, p.description, p.category, int(p.category_predicted), p.price, p.currency,
                          json.dumps(dict(p.attributes), ensure_ascii=False),
                          json.dumps([stored_photo(ref, self.root) for ref in p.images]), seq)
                if old:  # updated in place: its row, and its terms where its words did not change (a price), stay
                    conn.execute(f"UPDATE products SET {_SET} WHERE rowid = ?", (*values, old[0]))
                    if self.lexical and old[1:] != (*values[1:4], values[7]):
                        lexicon.rewrite(conn, old[0], p, old[2])
                else:
                    added += 1
                    cur = conn.execute(f"INSERT INTO products ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", values)
                    if self.lexical:
                        lexicon.write(conn, cur.lastrowid, p)
                conn.execute("DELETE FROM deletions WHERE id = ?", (p.id,))
            self._add_to_count(conn, added)
        return seq

    def _keep_given_category(self, conn: sqlite3.Connection, p: Product) -> Product:
        if not p.category_predicted:
            return p
        row = conn.execute("SELECT category, category_predicted FROM products WHERE id = ?",
                           (p.id,)).fetchone()
        if row and row[0] and not row[1]:
            return p.with_(category=row[0], category_predicted=False)
        return p

    @staticmethod
    def _keep_photos(conn: sqlite3.Connection, p: Product) -> Product:
        row = conn.execute("SELECT images FROM products WHERE id = ?", (p.id,)).fetchone()
        return p.with_(images=tuple(json.loads(row[0]))) if row and row[0] else p

    def delete(self, product_id: str) -> int:
        """Delete one product (raises ``ProductNotFoundError``); returns the new sequence number."""
        if not self.delete_many([product_id]):
            raise ProductNotFoundError(product_id)
        return self.seq

    def delete_many(self, product_ids: Sequence[str]) -> int:
        """Delete the stored ones of ``product_ids`` in one transaction (all or none); returns how many."""
        gone = 0
        with transaction(self._conn()) as conn:
            for pid in product_ids:
                old = conn.execute("SELECT rowid FROM products WHERE id = ?", (pid,)).fetchone()
                if old is None:
                    continue
                conn.execute("DELETE FROM products WHERE id = ?", (pid,))
                if self.lexical:
                    lexicon.forget(conn, old[0])
                seq = self._next_seq(conn)
                conn.execute("INSERT OR REPLACE INTO deletions (id, seq) VALUES (?, ?)", (pid, seq))
                gone += 1
            self._add_to_count(conn, -gone)
        return gone

    def ids(self) -> list[str]:
        return [row[0] for row in self._conn().execute("SELECT id FROM products ORDER BY id")]

    @staticmethod
    def _next_seq(conn: sqlite3.Connection) -> int:
        seq = int(_meta(conn, "seq") or 0) + 1
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (str(seq),))
        return seq

    # -- reads --------------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return int(_meta(self._conn(), "seq") or 0)

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM products").fetchone()[0]

    def get(self, product_id: str) -> Product:
        row = self._conn().execute(f"SELECT {COLUMNS} FROM products WHERE id = ?", (product_id,)).fetchone()
        if row is None:
            raise ProductNotFoundError(product_id)
        return _row_to_product(row, self.root)

    def get_many(self, ids: Iterable[str]) -> dict[str, Product]:
        ids = list(ids)
        out: dict[str, Product] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn().execute(f"SELECT {COLUMNS} FROM products WHERE id IN ({marks})", chunk):
                out[row[0]] = _row_to_product(row, self.root)
        return out

    def __iter__(self) -> Iterator[Product]:
        for row in self._conn().execute(f"SELECT {COLUMNS} FROM products ORDER BY id"):
            yield _row_to_product(row, self.root)

    def category_texts(self, limit: int = 20_000) -> list[tuple[str, str]]:
        """(category, text) of up to about ``limit`` products whose category was given (not predicted),
        for ``query_text.CategoryWords``."""
        return self._spread_texts("category", "category != '' AND category_predicted = 0", limit)

    def sample_texts(self, limit: int = 2_000) -> list[str]:
        """The texts of up to about ``limit`` products (``workflow.catalogue_config``)."""
        return [text for _, text in self._spread_texts("''", "1", limit)]

    def _spread_texts(self, column: str, where: str, limit: int) -> list[tuple[str, str]]:
        """(``column``, title + description cut at 500 characters) of the rows matching ``where``, every k-th
        row of the table so that about ``limit`` of all rows are read, spread evenly over it."""
        step = max(1, self.count() // max(limit, 1))
        rows = self._conn().execute(f"SELECT {column}, title, description FROM products WHERE {where} "
                                    "AND rowid % ? = 0", (step,))
        return [(key, f"{title} {description}"[:500]) for key, title, description in rows]

    def changes_since(self, seq: int, upto: int | None = None) -> tuple[list[Product], list[str]]:
        """Products written and ids deleted after sequence ``seq`` (up to ``upto`` when given)."""
        return self.changed_between(seq, upto), self.deleted_between(seq, upto)

    def changed_between(self, after: int, upto: int | None = None) -> list[Product]:
        """Products written after sequence ``after`` (and up to ``upto``: a product written again since is read
        with the later window), in sequence order."""
        return [p for chunk in self.changed_chunks(after, upto) for p in chunk]

    def changed_chunks(self, after: int, upto: int | None = None, size: int = 10_000) -> Iterator[list[Product]]:
        """``changed_between`` ``size`` products at a time (one read transaction)."""
        where, args = _window(after, upto)
        cur = self._conn().execute(f"SELECT {COLUMNS} FROM products WHERE {where} ORDER BY seq", args)
        while rows := cur.fetchmany(size):
            yield [_row_to_product(r, self.root) for r in rows]

    def deleted_between(self, after: int, upto: int | None = None) -> list[str]:
        where, args = _window(after, upto)
        return [r[0] for r in self._conn().execute(f"SELECT id FROM deletions WHERE {where}", args)]

    def count_changed(self, after: int, upto: int | None = None) -> int:
        """How many products ``changed_between`` would read (an index count: ~10 ms for 100,000)."""
        where, args = _window(after, upto)
        return self._conn().execute(f"SELECT COUNT(*) FROM products WHERE {where}", args).fetchone()[0]

    def mentions(self, phrase: str) -> bool:
        """Whether any product's title, description or category contains ``phrase`` (case-insensitive for
        ASCII letters, as SQLite's lower(); also inside longer words: a conservative "the shop uses it").
        A scan of the table, so answers are kept until a write moves the catalogue's sequence."""
        seq = self.seq
        if self._mentioned[0] != seq:
            self._mentioned = (seq, {})
        known = self._mentioned[1]
        if phrase not in known:
            needle = phrase.lower()
            known[phrase] = self._conn().execute(
                "SELECT 1 FROM products WHERE instr(lower(title), ?) OR instr(lower(description), ?) "
                "OR instr(lower(category), ?) LIMIT 1", (needle, needle, needle)).fetchone() is not None
        return known[phrase]

    def categories(self) -> dict[str, int]:
        """Category path -> number of products."""
        rows = self._conn().execute(
            "SELECT category, COUNT(*) FROM products WHERE category != '' GROUP BY category")
        return {r[0]: r[1] for r in rows}


def _window(after: int, upto: int | None) -> tuple[str, tuple]:
    return ("seq > ?", (after,)) if upto is None else ("seq > ? AND seq <= ?", (after, upto))


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    """The catalogue's ``meta`` value under ``key`` ("seq", "products", "lexicon"), None when unset."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _row_to_product(row, root: Path | None = None) -> Product:
    images = tuple(json.loads(row[8]))
    if root is not None:
        images = tuple(_resolved(ref, root) for ref in images)
    return Product(id=row[0], title=row[1], description=row[2], category=row[3],
                   category_predicted=bool(row[4]), price=row[5], currency=row[6],
                   attributes=json.loads(row[7]), images=images)


def stored_photo(ref: str, root: Path) -> str:
    """A photo path inside the data folder as stored: relative to it ("photos/ab12.jpg"), so the folder can
    move (a restored backup, another mount point); other paths and addresses as they are."""
    inside = f"{root}/"
    if inside.startswith("/") and inside != "//" and ref.startswith("/") and _plain(ref[1:]) and ref != inside[:-1]:
        return ref[len(inside):] if ref.startswith(inside) else ref  # what pathlib gives, 10x faster
    return _stored_by_pathlib(ref, root)


def _stored_by_pathlib(ref: str, root: Path) -> str:
    path = Path(ref)
    if not path.is_absolute():
        return ref
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return ref


def _resolved(ref: str, root: Path) -> str:
    """A stored photo path as the engine reads it: relative ones under the data folder's current place."""
    if "://" in ref or os.path.isabs(ref):
        return ref
    if _plain(ref):
        return f"{root}/{ref}"  # what pathlib gives for a plain relative path, 10x faster (1M products read per build)
    return str(root / ref)


def _plain(ref: str) -> bool:
    """Whether pathlib would keep relative path ``ref`` as written (no empty, "." or ".." parts, no trailing "/")."""
    return bool(ref) and "//" not in ref and "/." not in ref and not ref.startswith((".", "/")) and not ref.endswith("/")
