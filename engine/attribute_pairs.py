"""Each row's (attribute, value) pairs as integer codes, for filters, refine counts and boost rules.

One vocabulary of the pairs (per attribute: value lower-cased -> code; each code's value as the catalogue first
wrote it), the rows' codes one after another in one flat array (``begin`` and ``end`` mark each row's, as CSR
does with one array; saved as CSR), and an inverted index for filters: ``code << 32 | row`` keys kept sorted, plus a short unsorted tail of the
latest rows, merged in when it passes 1/16 of the sorted part. Against one Python tuple of string pairs per row
and a dict of row lists per value (before the twenty-ninth session) this keeps a product's pairs in 12 bytes each
plus its new values' vocabulary entries (``python -m eval.open_bench``), and a filter reads its rows as a slice.

A row's pairs can be stated again in place (``restate``: a feed's new stock or colour for a product whose vectors
stay): its new codes are appended to the flat array and its ``begin`` / ``end`` point at them; the inverted index
keeps the row under its old codes until the next rebuild, so rows read from it that were restated since are
checked against their current codes (``rows_holding``). The index is rebuilt from the rows at the next merge
after a restate, or once more rows were restated than a merge's tail allows.
"""

from __future__ import annotations

import numpy as np

from .index.ivf import ranges

TAIL = 4096  # unsorted entries tolerated before a merge (at least; else 1/16 of the sorted ones)
_LOW = np.int64(0xFFFFFFFF)


class Growable:
    """An append-only numpy array that doubles its capacity."""

    def __init__(self, dtype, values=()):
        values = np.asarray(values, dtype)
        self._a = np.zeros(max(8, len(values)), dtype)
        self._a[: len(values)] = values
        self._n = len(values)

    def __len__(self) -> int:
        return self._n

    def extend(self, values) -> None:
        values = np.asarray(values, self._a.dtype)
        need = self._n + len(values)
        if need > len(self._a):
            grown = np.zeros(max(need, 2 * len(self._a)), self._a.dtype)
            grown[: self._n] = self._a[: self._n]
            self._a = grown
        self._a[self._n: need] = values
        self._n = need

    def append(self, value) -> None:
        self.extend((value,))

    def view(self) -> np.ndarray:
        return self._a[: self._n]

    def clear(self) -> None:
        self._n = 0


class PairCodes:
    def __init__(self):
        self.attributes: list[str] = []  # attribute id -> name (lower-cased)
        self._attribute_id: dict[str, int] = {}
        self._codes: list[dict[str, int]] = []  # attribute id -> value (lower-cased) -> code
        self._shown: list[str] = []  # code -> the value as first written (the lower-cased key's object when equal)
        self._attribute_of = Growable(np.int32)  # code -> attribute id
        self._begin = Growable(np.int64)  # row r's codes are entries[begin[r]:end[r]]
        self._end = Growable(np.int64)
        self._entries = Growable(np.int32)
        self._sorted = np.zeros(0, np.int64)  # code << 32 | row, sorted: every entry but the tail's
        self._tail_codes = Growable(np.int64)
        self._tail_rows = Growable(np.int64)
        self._restated = np.zeros(0, bool)  # rows restated since the inverted index was last rebuilt
        self._n_restated = 0

    @property
    def rows(self) -> int:
        return len(self._end)

    def add_row(self, pairs) -> int:
        """Append a row holding ``pairs`` ((attribute lower-cased, value as written and stripped), each non-empty;
        repeats count once); returns its row number."""
        row, codes = self.rows, self._codes_for(pairs)
        self._begin.append(len(self._entries))
        self._entries.extend(codes)
        self._end.append(len(self._entries))
        self._index(row, codes)
        return row

    def restate(self, row: int, pairs) -> None:
        """``row`` holds ``pairs`` (as ``add_row`` takes them) instead of what it held."""
        codes = self._codes_for(pairs)
        old = set(self.codes_of(row).tolist())
        if set(codes) == old:
            return
        self._begin.view()[row] = len(self._entries)
        self._entries.extend(codes)
        self._end.view()[row] = len(self._entries)
        if len(self._restated) <= row:
            self._restated = np.concatenate([self._restated, np.zeros(max(row + 1, 2 * len(self._restated), 64)
                                                                      - len(self._restated), bool)])
        if not self._restated[row]:
            self._restated[row] = True
            self._n_restated += 1
        self._index(row, [c for c in codes if c not in old])
        if self._n_restated > max(TAIL, len(self._sorted) // 16):
            self._rebuild()

    def _codes_for(self, pairs) -> list[int]:
        codes: list[int] = []
        for attribute, value in pairs:
            code = self._code(attribute, value)
            if code not in codes:
                codes.append(code)
        return codes

    def _index(self, row: int, codes: list[int]) -> None:
        self._tail_codes.extend(codes)
        self._tail_rows.extend([row] * len(codes))
        if len(self._tail_codes) > max(TAIL, len(self._sorted) // 16):
            self._rebuild() if self._n_restated else self._merge()

    def _code(self, attribute: str, value: str) -> int:
        aid = self._attribute_id.get(attribute)
        if aid is None:
            aid = self._attribute_id[attribute] = len(self.attributes)
            self.attributes.append(attribute)
            self._codes.append({})
        key = value.lower()
        code = self._codes[aid].get(key)
        if code is None:
            code = self._codes[aid][key] = len(self._shown)
            self._shown.append(key if key == value else value)
            self._attribute_of.append(aid)
        return code

    def _merge(self) -> None:
        tail = np.sort((self._tail_codes.view() << 32) | self._tail_rows.view())
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, tail), tail)
        self._tail_codes.clear()
        self._tail_rows.clear()

    def _rebuild(self) -> None:
        """The inverted index from every row's current codes (nothing stale, nothing twice), and the flat array
        without the codes restated rows held before."""
        begin, end = self._begin.view(), self._end.view()
        owner = np.repeat(np.arange(self.rows, dtype=np.int64), end - begin)
        codes = self._entries.view()[ranges(begin, end)]
        starts = np.concatenate([[0], np.cumsum(end - begin)])
        self._entries = Growable(np.int32, codes)
        self._begin, self._end = Growable(np.int64, starts[:-1]), Growable(np.int64, starts[1:])
        self._sorted = np.sort((codes.astype(np.int64) << 32) | owner)
        self._tail_codes.clear()
        self._tail_rows.clear()
        self._restated[:] = False
        self._n_restated = 0

    # -- saving ---------------------------------------------------------------------------------
    def arrays(self, rows=None) -> dict[str, np.ndarray]:
        """The codes as saved (CSR: restated rows' codes in place); ``rows``: those rows' alone, in their order."""
        rows = np.arange(self.rows) if rows is None else np.asarray(rows, np.int64)
        owner, codes = self.gather(rows)
        starts = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(rows)))]).astype(np.int64)
        return {"pair_attribute": self._attribute_of.view(), "pair_starts": starts, "pair_entries": codes}

    def attribute_counts(self, rows) -> dict[str, int]:
        """Attribute -> how many of ``rows`` hold a value of it."""
        owner, codes = self.gather(rows)
        n = max(len(self.attributes), 1)
        held = np.unique(owner * n + self._attribute_of.view()[codes])
        return {self.attributes[a]: int(c) for a, c in enumerate(np.bincount(held % n, minlength=n).tolist()) if c}

    def words(self) -> dict[str, list[str]]:
        return {"attributes": self.attributes, "shown": self._shown}

    @classmethod
    def restore(cls, arrays, words: dict) -> "PairCodes":
        """The codes ``arrays()`` and ``words()`` saved (the vocabulary and the inverted index rebuilt)."""
        out = cls()
        out.attributes = list(words["attributes"])
        out._attribute_id = {name: i for i, name in enumerate(out.attributes)}
        out._codes = [{} for _ in out.attributes]
        attribute_of = np.asarray(arrays["pair_attribute"], np.int32)
        if len(attribute_of) != len(words["shown"]):
            raise ValueError("the saved pair vocabulary and its attributes differ in length")
        for code, (aid, shown) in enumerate(zip(attribute_of.tolist(), words["shown"])):  # ``_code``'s bookkeeping,
            key = shown.lower()  # inline: through ``_code`` restoring 1M products' vocabulary took 1.3-1.7 s, not 0.6-0.9
            out._codes[aid][key] = code
            out._shown.append(key if key == shown else shown)
        out._attribute_of = Growable(np.int32, attribute_of)
        starts = np.asarray(arrays["pair_starts"], np.int64)
        out._begin, out._end = Growable(np.int64, starts[:-1]), Growable(np.int64, starts[1:])
        out._entries = Growable(np.int32, arrays["pair_entries"])
        owner = np.repeat(np.arange(out.rows, dtype=np.int64), np.diff(starts))
        out._sorted = np.sort((out._entries.view().astype(np.int64) << 32) | owner)
        return out

    # -- reading -------------------------------------------------------------------------------
    def lookup(self, attribute: str, value: str) -> int:
        """The code of (attribute, value) (both compared lower-cased), -1 when no row holds it."""
        aid = self._attribute_id.get(attribute)
        return -1 if aid is None else self._codes[aid].get(value.lower(), -1)

    def distinct(self, attribute: str) -> int:
        """How many values of ``attribute`` rows have held."""
        aid = self._attribute_id.get(attribute)
        return 0 if aid is None else len(self._codes[aid])

    def pair(self, code: int) -> tuple[str, str]:
        """(attribute, value lower-cased) of ``code``."""
        return self.attributes[self._attribute_of.view()[code]], self._shown[code].lower()

    def shown(self, code: int) -> str:
        return self._shown[code]

    def rows_holding(self, code: int) -> np.ndarray:
        """Rows (dead ones too) holding ``code``, int64."""
        if code < 0:
            return np.zeros(0, np.int64)
        lo, hi = np.searchsorted(self._sorted, [np.int64(code) << 32, np.int64(code + 1) << 32])
        tail = self._tail_rows.view()[self._tail_codes.view() == code]
        rows = np.concatenate([self._sorted[lo:hi] & _LOW, tail])
        if not self._n_restated:
            return rows
        restated = np.zeros(len(rows), bool)
        inside = rows < len(self._restated)
        restated[inside] = self._restated[rows[inside]]
        check = np.unique(rows[restated])  # under a code it no longer holds, or under one twice
        owner, held = self.gather(check)
        return np.concatenate([rows[~restated], check[np.unique(owner[held == code])]])

    def codes_of(self, row: int) -> np.ndarray:
        return self._entries.view()[self._begin.view()[row]: self._end.view()[row]]

    def gather(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``rows``, code) of every pair the given rows hold, row after row."""
        rows = np.asarray(rows, np.int64)
        begin = self._begin.view()[rows]
        lengths = self._end.view()[rows] - begin
        return np.repeat(np.arange(len(rows)), lengths), self._entries.view()[ranges(begin, begin + lengths)]

    def counts(self, rows, limits: dict[str, int | None]) -> list[tuple[str, int, int]]:
        """(attribute, code, rows holding it) over ``rows`` for the codes of the attributes ``limits`` names,
        attribute by attribute, most held first (ties in the order the vocabulary met them), at most
        ``limits[attribute]`` codes of each (None: all)."""
        cap = np.full(len(self.attributes), -1, np.int64)  # codes kept of each attribute; -1: none
        for name, limit in limits.items():
            if name in self._attribute_id:
                cap[self._attribute_id[name]] = len(self._shown) if limit is None else limit
        _, codes = self.gather(rows)
        attribute_of = self._attribute_of.view()
        codes = codes[cap[attribute_of[codes]] > 0]
        if not len(codes):
            return []
        found, n = np.unique(codes, return_counts=True)
        group = attribute_of[found]
        order = np.lexsort((found, -n, group))
        found, n, group = found[order], n[order], group[order]
        keep = np.arange(len(group)) - np.searchsorted(group, group) < cap[group]  # rank within its attribute's run
        names = self.attributes
        return [(names[g], c, k) for g, c, k in zip(group[keep].tolist(), found[keep].tolist(), n[keep].tolist())]

    def values_of(self, row: int, attribute: str) -> frozenset[str]:
        """``row``'s values of ``attribute``, lower-cased."""
        aid = self._attribute_id.get(attribute)
        if aid is None:
            return frozenset()
        codes = self.codes_of(row)
        return frozenset(self._shown[c].lower() for c in codes[self._attribute_of.view()[codes] == aid].tolist())

    def values(self, rows, attribute: str) -> list[frozenset[str]]:
        """Each of ``rows``' values of ``attribute``, lower-cased (empty where it holds none)."""
        out: list[set[str]] = [set() for _ in range(len(rows))]
        aid = self._attribute_id.get(attribute)
        if aid is not None and len(rows):
            owner, codes = self.gather(rows)
            mine = self._attribute_of.view()[codes] == aid
            for at, code in zip(owner[mine].tolist(), codes[mine].tolist()):
                out[at].add(self._shown[code].lower())
        return [frozenset(v) for v in out]

    def holding(self, rows, codes: list[int]) -> np.ndarray:
        """(len(rows), len(codes)) bool: whether each row holds each code (-1: held by none)."""
        owner, held = self.gather(rows)
        out = np.zeros((len(rows), len(codes)), bool)
        for k, code in enumerate(codes):
            if code >= 0:
                out[owner[held == code], k] = True
        return out
