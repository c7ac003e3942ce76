"""Shop platforms' exports as catalogue rows: a product over several rows, options named by the data,
markup in descriptions, products withdrawn from sale.

A Shopify product export writes one row per variant or extra photo under the product's ``Handle``, only
the first carrying the title and description; the options are named by cells ("Option1 Name" = "Color",
"Option1 Value" = "Red" on each variant's row); "Body (HTML)" is markup; drafts and archived products are in
the file too. ``grouped`` merges the rows of one product (they follow each other in such exports) into one
row: each column's first value, and for the columns ``many`` names (photos, attributes, prices) every
distinct value in order. ``named_attributes`` reads option columns, ``plain_text`` takes markup out of a
description, ``withdrawn`` tells a product the shop no longer sells (``import_file`` removes it if stored).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Iterator

from .errors import RowError

_MARKUP = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z][a-zA-Z0-9]*|!--)[^>]*>")
_BLOCKS = frozenset({"p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"})


def grouped(rows: Iterator[tuple[int, dict | RowError]], column: str, many: frozenset[str],
            ) -> Iterator[tuple[int, dict | RowError]]:
    """Merge runs of rows with one value in ``column`` (at the first row's line). A value met again after
    another product's rows is a RowError: the rows of one product must follow each other. An unreadable row
    is passed on at once and does not end the run around it."""
    seen: dict[str, int] = {}
    run: list[dict] = []
    start, key = 0, None
    for line, row in rows:
        if isinstance(row, RowError):
            yield line, row
            continue
        value = str(row.get(column) or "").strip()
        if run and value == key and value:
            run.append(row)
            continue
        if run:
            yield start, merge(run, many)
        if value and value in seen:
            run, key = [], None
            yield line, RowError(line, column, f"rows of {value!r} must follow each other (first at line {seen[value]})")
            continue
        seen[value] = line
        run, start, key = [row], line, value
    if run:
        yield start, merge(run, many)


def merge(rows: list[dict], many: frozenset[str]) -> dict:
    """One row: each column's first non-empty value; a list of the distinct values for those in ``many``."""
    out: dict = {}
    for column in dict.fromkeys(c for r in rows for c in r):
        values = [v for r in rows if (v := r.get(column)) is not None and str(v).strip()]
        if column in many:
            distinct = list(dict.fromkeys(str(v).strip() for v in values))
            out[column] = distinct if len(distinct) > 1 else (distinct[0] if distinct else "")
        else:
            out[column] = values[0] if values else ""
    return out


def named_attributes(row: dict, pairs: dict[str, str]) -> dict[str, str]:
    """{the name cell's text (lower-cased): the value cell(s), "|"-joined} for each (name column, value column)
    pair with both cells given: {"Option1 Name": "Option1 Value"} and "Color" / ["Red", "Blue"] -> {"color": "Red|Blue"}.
    Shopify's placeholder option "Title" ("Default Title") is no attribute."""
    out = {}
    for name_column, value_column in pairs.items():
        name = str(row.get(name_column) or "").strip().lower()
        value = row.get(value_column)
        values = value if isinstance(value, list) else [value] if value is not None else []
        values = [str(v).strip() for v in values if str(v).strip() and str(v).strip() != "Default Title"]
        if name and name != "title" and values:
            out[name] = "|".join(values)
    return out


def withdrawn(row: dict, rules: dict[str, list[str]]) -> str | None:
    """The rule ("Status=archived") that withdraws ``row`` from sale, or None."""
    for column, values in rules.items():
        cell = row.get(column)
        cells = cell if isinstance(cell, list) else [cell]
        for value in cells:
            if value is not None and str(value).strip().lower() in {v.lower() for v in values}:
                return f"{column}={str(value).strip()}"
    return None


def plain_text(text: str) -> str:
    """``text`` without markup ("<p>Soft <b>cotton</b></p>" -> "Soft cotton"), entities read, blocks as
    line breaks; text without tags is returned as it is."""
    if not _MARKUP.search(text):
        return text
    reader = _Text()
    reader.feed(text)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).split("\n"))
    return "\n".join(line for line in lines if line)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
