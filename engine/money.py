"""Price cells as shops write them: "52.0", "15.00 USD", "USD 15", "1,299.00", "15,00 EUR", "1.299,00", "€ 9,99".

A comma before the last one or two digits is the decimal mark (European feeds); other commas, dots before
a decimal comma and spaces group thousands. A three-letter code before or after the number is the
currency (upper-cased), as is a symbol that names one (€, £, ₹, ₩; "$" and "¥" name several, so they
give none); ``import_file`` uses it when the row has no currency column.
"""

from __future__ import annotations

import math
import re

from .errors import RowError

MONEY = re.compile(r"^(?:([A-Za-z]{3})\s*)?([0-9][0-9.,\s]*?)(?:\s*([A-Za-z]{3}))?$")
SYMBOLS = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "$": "", "¥": ""}  # "$", "¥": several currencies'
SYMBOL = re.compile(r"^([€£₹₩$¥])\s*(.+?)$|^(.+?)\s*([€£₹₩$¥])$")


def price_cell(value, line: int, field_name: str) -> tuple[float, str]:
    """(price, currency code or "") of one cell; ``RowError`` naming ``field_name`` when it is no price."""
    if isinstance(value, bool):
        raise RowError(line, field_name, f"price {value!r} is not a number")
    if isinstance(value, (int, float)):
        price, currency = float(value), ""
    else:
        text = str(value).strip()
        symbol = ""
        if (sym := SYMBOL.match(text)) is not None:  # "€ 9,99", "9,99 €", "$15.00": the symbol's currency, if one
            symbol, text = SYMBOLS[sym.group(1) or sym.group(4)], (sym.group(2) or sym.group(3)).strip()
        match = MONEY.match(text)
        if match is not None and not (match.group(1) and match.group(3)):
            price, currency = number(match.group(2), value, line, field_name), (match.group(1) or match.group(3) or "").upper()
        else:
            price, currency = number(text, value, line, field_name), ""  # "1e3", "nan", "-5"
        if symbol and currency and symbol != currency:
            raise RowError(line, field_name, f"price {value!r} names two currencies")
        currency = currency or symbol
    if math.isnan(price) or math.isinf(price):
        raise RowError(line, field_name, f"price {value!r} is not a finite number")
    if price < 0:
        raise RowError(line, field_name, f"price {price} is negative")
    return price, currency


def number(digits: str, value, line: int, field_name: str) -> float:
    digits = re.sub(r"\s", "", digits)
    if re.search(r",\d{1,2}$", digits):
        digits = digits.replace(".", "").replace(",", ".")  # 1.299,00 / 15,00
    try:
        return float(digits.replace(",", ""))
    except ValueError:
        raise RowError(line, field_name, f"price {value!r} is not a number") from None
