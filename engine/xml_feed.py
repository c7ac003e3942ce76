"""Product feeds in XML: RSS 2.0 ``<item>`` or Atom ``<entry>`` elements, as Google Merchant Center reads them
(and as WooCommerce, Magento and Shopify apps write them), one row per item.

An item's child elements become its columns by their names without a namespace prefix (``<g:price>`` is
``price``, so ``--mapping google`` reads the feed as it reads Google's tab-separated one); an element given more
than once (``<g:additional_image_link>``) is one cell of its values joined with ","; an element with no text but
an ``href`` (Atom's ``<link href="..."/>``) is that address; nested elements (``<g:shipping>``) are left out.
Rows carry the line their item starts on. A document that stops being well-formed ends the reading there with a
``RowError`` naming its line: the items before it are read. Expat refuses entity expansion bombs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from .errors import RowError

ITEMS = ("item", "entry")
CHUNK = 1 << 16


def local(name: str) -> str:
    """``g:price`` -> ``price``."""
    return name.rsplit(":", 1)[-1]


class _Items:
    """Expat handlers collecting each item's leaf elements; ``ready`` holds the finished (line, row) pairs."""

    def __init__(self, parser):
        self.parser = parser
        self.ready: list[tuple[int, dict]] = []
        self.row: dict[str, list[str]] | None = None
        self.line = 0
        self.depth = 0  # within an item: 1 = the item, 2 = its children
        self.text: list[str] = []
        self.href = ""

    def start(self, name: str, attrs: dict) -> None:
        if self.row is None:
            if local(name) in ITEMS:
                self.row, self.line, self.depth = {}, self.parser.CurrentLineNumber, 1
            return
        self.depth += 1
        if self.depth == 2:
            self.text, self.href = [], attrs.get("href", "")

    def end(self, name: str) -> None:
        if self.row is None:
            return
        if self.depth == 2:
            value = "".join(self.text).strip() or self.href
            if value:
                self.row.setdefault(local(name), []).append(value)
        elif self.depth == 1:
            self.ready.append((self.line, {k: ",".join(v) for k, v in self.row.items()}))
            self.row = None
        self.depth -= 1

    def chars(self, data: str) -> None:
        if self.row is not None and self.depth == 2:
            self.text.append(data)


def read_xml(path: Path) -> Iterator[tuple[int, dict | RowError]]:
    """Yield (line, row) per item of the feed at ``path``, then a (line, RowError) if the XML breaks."""
    parser = expat.ParserCreate()
    items = _Items(parser)
    parser.StartElementHandler, parser.EndElementHandler = items.start, items.end
    parser.CharacterDataHandler = items.chars
    with path.open("rb") as fp:
        while True:
            chunk = fp.read(CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                yield from items.ready
                yield exc.lineno, RowError(exc.lineno, "xml", f"{expat.ErrorString(exc.code)} (column "
                                                              f"{exc.offset + 1}): the items after it were not read")
                return
            yield from items.ready
            items.ready.clear()
            if not chunk:
                return
