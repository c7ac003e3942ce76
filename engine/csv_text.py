"""A catalogue CSV's text as spreadsheets save it: its encoding and its delimiter.

Excel on Windows saves "CSV" in the machine's single-byte code page (Windows-1252 in Western Europe and the
Americas), not UTF-8: read as UTF-8, every row with an accent ("Café", "Größe") was refused. A file that is
not valid UTF-8 and holds no valid UTF-8 multi-byte sequence at all is read as Windows-1252 (and said so); a
file that is UTF-8 with a few broken bytes stays UTF-8, those rows refused by line. Where the decimal mark
is a comma the same programs separate cells with ";".
"""

from __future__ import annotations

import re

UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
SINGLE_BYTE = "cp1252"


def decode(raw: bytes) -> tuple[str, str]:
    """(text, the encoding it was read in) of a file's bytes, a leading byte-order mark dropped: UTF-8, or
    Windows-1252 for a file with no UTF-8 in it (see the module); UTF-8 with undecodable bytes kept as
    surrogates, so their rows are refused by line."""
    try:
        return raw.decode("utf-8").lstrip("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        if UTF8_MULTIBYTE.search(raw) is None:
            try:
                return raw.decode(SINGLE_BYTE), SINGLE_BYTE
            except UnicodeDecodeError:  # one of the five bytes Windows-1252 leaves undefined
                pass
    return raw.decode("utf-8", errors="surrogateescape").lstrip("\ufeff"), "utf-8"


def delimiter(text: str, default: str) -> str:
    """";" when the header line holds more semicolons than commas (spreadsheets in locales whose decimal mark
    is a comma save "CSV" so: "id;title;price" / "E1;Rote Tasse;12,50"), else ``default``."""
    header = text.split("\n", 1)[0]
    return ";" if default == "," and header.count(";") > header.count(",") else default
