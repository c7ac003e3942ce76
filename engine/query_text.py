"""Query words that are not about looks: price phrases become filters, the rest goes to the towers.

Shoppers type "brown bag under 300", "running shoes between $50 and $80", "连衣裙 200元以下". The
towers cannot read a price constraint out of such words (to MiniLM "under 300" is a few more tokens),
so ``understand`` takes price phrases out of the text and returns them as hard filters
(``min_price`` / ``max_price``) or a soft target (``around 80`` -> ``price_target``); only the words
about the product itself are embedded. Filters the caller set explicitly win over parsed ones.

Recognised (case-insensitive, English and Chinese; a currency sign or word may precede or follow the
number, thousands separators and a "k" suffix are read; a number followed by a unit, "300ml", "256GB",
is not a price, nor is "Pro Max 256"): under / below / less than / cheaper than /
up to / at most / max / no more than / within / "<", "<=" N; over / above / more than / at least /
min / from / ">", ">=" N; between N and M, N-M / N to M with a currency; around / about / approx /
roughly / "~" N; N元以下 / N以内 / 低于N / 不超过N / 少于N / N元以上 / 高于N / 超过N / 大于N /
N-M元 / N到M元 / N元左右 / 约N元. A bare number ("iphone 12", "size 8") is never a price. Words asking for an
order rather than a price ("cheapest", "cheap", "affordable", "most expensive", "günstig", "pas cher",
"barato", "最便宜", "最贵") set the query's sort (price_asc / price_desc: the relevant matches by price,
``engine/paging.py``) unless the caller chose one.

Beside a photo, words that only point at it ("similar", "like this", "more like this", "同款", "相似")
say nothing the photo does not: when they are all that is left, they are taken out too and the query is
the photo's (so is a photo with only a price phrase: "under 300" is a filter, not words to match). As
words they would be matched with the catalogue's photos and texts and cost the photo's own answers
(``docs/eval/experiments/photo_words_probe.*``: luma photo -> product with "similar" beside the photo,
R@10 0.949 -> 0.895).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .types import Query

_CUR = r"(?:\$|€|£|¥|us\$|usd|eur|gbp|cny|rmb|yuan|dollars?|euros?|pounds?|bucks|元|块)"
# 1,299.99 (thousands commas), 49,99 (a decimal comma: one or two digits after it), 49.99, 300
_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d{1,2}(?!\d)|\d+(?:\.\d+)?)(\s*k\b)?"
_END = r"(?![A-Za-z0-9%]|[.,]\d)"  # "300ml", "256GB", "5kg", "50%" are not prices
_AMOUNT = rf"(?:{_CUR}\s*)?{_NUM}(?:\s*{_CUR})?{_END}"
_AMOUNT_CUR = rf"(?:{_CUR}\s*{_NUM}(?:\s*{_CUR})?|{_NUM}\s*{_CUR}){_END}"  # a currency on at least one side

_MAX_WORDS = r"under|below|less\s+than|cheaper\s+than|up\s+to|at\s+most|no\s+more\s+than|(?<!pro )max(?:imum)?|within|<=?|≤"
_MIN_WORDS = r"over|above|more\s+than|at\s+least|min(?:imum)?|from|starting\s+at|>=?|≥"
_AROUND_WORDS = r"around|about|approx(?:imately)?\.?|roughly|circa|~"
_PRICE_PREFIX = r"(?:(?<!\w)(?:for|priced|price|costing|at)\s+)?"  # whole words: not the "at" of "coat"
PRICE_WORDS = frozenset(  # the words of the price phrases above (typo correction offers them: "undr 50")
    "under below less than cheaper most maximum within over above more least minimum from starting around about "
    "approximately roughly circa between priced price costing".split())

# words asking for a price order, not a price ("cheapest bag", "最便宜的手机"): the relevant matches by price
_ORDERS: list[tuple[str, re.Pattern]] = [
    ("price_asc", re.compile(r"(?<!\w)(?:(?:the|le|la|les|el|lo|los|las)\s+)?(?:cheapest|cheaper|cheap|inexpensive|affordable|least\s+expensive|less\s+expensive|"
                             r"lowest[-\s]price[ds]?|low[-\s]cost|günstigste[n]?|günstige[nrs]?|günstig|billigste[n]?|"
                             r"billige[nrs]?|billig|pas\s+cher|moins\s+cher|barat[oa]s?|más\s+barat[oa]s?)(?!\w)"
                             r"|最便宜的?|更便宜的?|便宜的?|平价|低价", re.I)),
    ("price_desc", re.compile(r"(?<!\w)(?:(?:the|le|la|les|el|lo|los|las)\s+)?(?:most\s+expensive|more\s+expensive|priciest|pricier|"
                              r"highest[-\s]price[ds]?|teuerste[n]?|plus\s+cher|más\s+car[oa]s?)(?!\w)|最贵的?|更贵的?", re.I)),
]
# order words that compare ("cheaper", "more expensive"; French and Spanish without an article, which makes them
# superlatives: "le moins cher"): beside a photo, with the product the photo shows (``engine/comparative.py``). German's
# "günstiger" is also the plain adjective ("günstiger Laptop"), so it only orders.
COMPARATIVE = re.compile(r"^(?:cheaper|less\s+expensive|more\s+expensive|pricier|更便宜的?|更贵的?|"
                         r"(?:moins|plus)\s+cher|más\s+(?:barat|car)[oa]s?)$", re.I)

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("between", re.compile(rf"\b(?:between|from)\s+{_AMOUNT}\s+(?:and|to|-)\s+{_AMOUNT}", re.I)),
    ("between", re.compile(rf"(?<![\w.]){_PRICE_PREFIX}{_AMOUNT_CUR}\s*(?:-|–|to)\s*{_AMOUNT}", re.I)),
    ("between", re.compile(rf"(?<![\w.]){_PRICE_PREFIX}{_AMOUNT}\s*(?:-|–|to)\s*{_AMOUNT_CUR}", re.I)),
    ("max", re.compile(rf"{_PRICE_PREFIX}(?:(?<!\w)(?:{_MAX_WORDS}))\s*{_AMOUNT}", re.I)),
    ("min", re.compile(rf"{_PRICE_PREFIX}(?:(?<!\w)(?:{_MIN_WORDS}))\s*{_AMOUNT}", re.I)),
    ("around", re.compile(rf"{_PRICE_PREFIX}(?:(?<!\w)(?:{_AROUND_WORDS}))\s*{_AMOUNT}", re.I)),
    # Chinese: the number comes first, the relation after it, or the relation first
    ("between", re.compile(rf"{_NUM}\s*(?:-|–|到|至|~)\s*{_NUM}\s*(?:元|块)", re.I)),
    ("max", re.compile(rf"{_NUM}\s*(?:元|块)?\s*(?:以下|以内|之内)", re.I)),
    ("min", re.compile(rf"{_NUM}\s*(?:元|块)?\s*以上", re.I)),
    ("around", re.compile(rf"{_NUM}\s*(?:元|块)?\s*左右", re.I)),
    ("max", re.compile(rf"(?:低于|不超过|少于|不到|小于)\s*{_NUM}\s*(?:元|块)?", re.I)),
    ("min", re.compile(rf"(?:高于|超过|大于|不低于|至少)\s*{_NUM}\s*(?:元|块)?", re.I)),
    ("around", re.compile(rf"(?:约|大约|大概)\s*{_NUM}\s*(?:元|块)", re.I)),
]


@dataclass(frozen=True)
class Understood:
    """What was read out of a query's text: the words left for the towers and the price parts."""

    text: str
    min_price: float | None = None
    max_price: float | None = None
    price_target: float | None = None
    phrases: tuple[str, ...] = ()  # the price phrases taken out, as typed
    photo_words: str = ""  # beside a photo: the words taken out for only pointing at it ("similar"), as typed
    sort: str | None = None  # words asking for a price order ("cheapest"): "price_asc" / "price_desc"
    compares: bool = False  # the order words compare ("cheaper"): beside a photo, with the product it shows
    compared: dict | None = None  # {"cheaper_than": {id, title, price}} once compared (``engine/comparative.py``)

    def as_dict(self) -> dict:
        out = {"text": self.text, "phrases": list(self.phrases), **({"photo_words": self.photo_words} if self.photo_words else {}),
               **({"sort": self.sort} if self.sort else {}), **(self.compared or {})}
        for name in ("min_price", "max_price", "price_target"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def _number(digits: str, k: str | None) -> float:
    whole, comma, tail = digits.rpartition(",")
    decimal_comma = comma and len(tail) < 3 and "." not in digits  # "49,99 €"; "1,299" is thousands
    value = float(f"{whole.replace(',', '')}.{tail}" if decimal_comma else digits.replace(",", ""))
    return value * 1000 if k else value


def _numbers(match: re.Match) -> list[float]:
    groups = match.groups()
    return [_number(groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i] is not None]


_GONE = " \x00 "  # where a phrase was taken out (parse_price), until the connectors beside it are too


def parse_price(text: str, orders: bool = True) -> Understood:
    """Take every price phrase out of ``text`` (see the module's list) and, with ``orders``, the words asking for
    a price order; the rest, tidied, is ``text``."""
    found: dict[str, float] = {}
    phrases: list[str] = []
    rest = text
    for kind, pattern in _PATTERNS:
        while (m := pattern.search(rest)) is not None:
            values = _numbers(m)
            if kind == "between" and len(values) == 2:
                lo, hi = sorted(values)
                found["min"], found["max"] = lo, hi
            elif values:
                found[kind] = values[0]
            phrases.append(m.group(0).strip())
            rest = rest[: m.start()] + _GONE + rest[m.end():]
    sort, compares = None, False
    for order, pattern in _ORDERS if orders else ():  # after the prices: "cheaper than 50" is one
        while (m := pattern.search(rest)) is not None:
            sort = sort or order
            compares = compares or bool(COMPARATIVE.match(m.group(0).strip()))
            phrases.append(m.group(0).strip())
            rest = rest[: m.start()] + _GONE + rest[m.end():]
    # "this, but cheaper and in blue" -> "this, in blue": the connectors beside a phrase taken out go with it
    rest = re.sub(r"(?:\b(?:but|and|or)\s*)?\x00(?:\s*(?:and|but|or)\b)?", " ", rest, flags=re.I)
    rest = re.sub(r"\s+", " ", re.sub(r"\s+([,.;!?，。])", r"\1", rest)).strip(" ,;，")
    rest = re.sub(r"\b(?:and|for|at|priced|costing|but)$", "", rest, flags=re.I).strip(" ,;，")  # "this but cheaper"
    return Understood(rest, found.get("min"), found.get("max"), found.get("around"), tuple(phrases), sort=sort,
                      compares=compares)


_POINTERS = frozenset({
    "similar", "similar items", "similar products", "similar ones", "similar to this", "similar to this one",
    "find similar", "show similar", "more like this", "like this", "like this one", "like that", "same",
    "the same", "same as this", "same one", "this", "this one", "find this", "find this one", "lookalike",
    "lookalikes", "look alike", "look alikes", "something like this", "anything like this",
    "one", "ones", "alternative", "alternatives", "option", "options", "version", "versions",  # "cheaper ones"
    "alternatives to this", "options like this", "similar ones",
    "同款", "找同款", "同款商品", "相似", "相似款", "相似的", "类似", "类似款", "类似的", "一样的", "同样的", "这个", "这款"})


def points_at_photo(text: str) -> bool:
    """Whether ``text`` only points at a photo beside it ("Similar!", "more like this", "同款")."""
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip() in _POINTERS


def understand(query: Query, prices: bool = True, orders: bool = True) -> tuple[Query, Understood | None]:
    """``query`` with the price phrases of its text turned into filters and a price target (those
    the caller set win; ``prices`` False: none are read) and only the remaining words left as text;
    None when nothing was read. A text that was only a price phrase keeps its words for the towers (it
    still says "something"), unless a photo says what: then, as when the words only point at the photo,
    the query is the photo's."""
    if not query.text:
        return query, None
    u = parse_price(query.text, orders) if prices else Understood(query.text)
    if query.image is not None and points_at_photo(u.text):
        u = replace(u, text="", photo_words=u.text)
    if not u.phrases and not u.photo_words:
        return query, None
    if u.sort and query.sort != "relevance":  # the caller's order wins over the words'
        u = replace(u, sort=None)
    f, p = query.filters, query.preferences
    filters = replace(f, min_price=f.min_price if f.min_price is not None else u.min_price,
                      max_price=f.max_price if f.max_price is not None else u.max_price)
    if filters.min_price is not None and filters.max_price is not None and filters.min_price > filters.max_price:
        filters = f  # the words contradict the caller's explicit range: keep the caller's
    prefs = replace(p, price_target=p.price_target if p.price_target is not None else u.price_target)
    text = u.text or (None if query.image is not None else query.text)
    return replace(query, text=text, filters=filters, preferences=prefs, sort=u.sort or query.sort), u


# -- type words: the shop's own category names ---------------------------------------------------
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters, any script
_CJK_CHARS = r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"  # kana and CJK ideographs
_CJK = re.compile(_CJK_CHARS)
CJK_RUN = re.compile(_CJK_CHARS + "+")  # a run of them (also engine/lexicon.py's)
_STOP = frozenset({"and", "the", "of", "for", "with", "in", "on", "by", "a", "an", "to", "new", "collection",
                   "collections", "other", "others", "misc", "all", "sale", "promotion", "promotions"})


def forms(word: str) -> set[str]:
    """The word and its possible English singulars ("hoodies" -> hoodie, hoody; "watches" -> watch), so
    that "hoodie" meets "Hoodies" without a dictionary."""
    w = word.lower()
    out = {w}
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        out.add(w[:-1])
        if w.endswith("es"):
            out.add(w[:-2])
        if w.endswith("ies"):
            out.add(w[:-3] + "y")
    return out


def _query_words(text: str, singles: bool = False) -> dict[str, set[str]]:
    """Each word of ``text`` -> its forms: English words (stop words left out) and their singulars;
    Chinese and Japanese text has no spaces, so each pair of adjacent CJK characters is a word
    ("华为 Mate 30" has 华为, which meets the category "华为手机"); with ``singles`` each CJK character
    too (a one-character noun, "蓝色包": 包)."""
    out = {w.lower(): forms(w) for w in _WORD.findall(text) if w.lower() not in _STOP and not _CJK.search(w)}
    for run in CJK_RUN.findall(text):
        out.update({run[i:i + 2]: {run[i:i + 2]} for i in range(len(run) - 1)} or {run: {run}})
        if singles:
            out.update({char: {char} for char in run})
    return out


class CategoryWords:
    """The words of a shop's category names (``categories``: code -> '/'-separated path), to find the
    type words of a query: "gray hoodie" meets "Men/Tops/Hoodies & Sweatshirts". English words meet
    through their possible singulars (``forms``), Chinese through shared character pairs ("红色口红"
    meets "口红", "华为 Mate 30" meets "华为手机"). ``texts`` ((category path, product text) pairs, the
    shop's own) teach the words that name one category in the shop's own texts (``aliases``), read when
    no word of the query names a category: a bilingual shop's category names are often English only, and
    "红色连帽衫" then meets "Apparel/Tops/Hoodies" through the Chinese titles of its hoodies, while a query
    whose words meet the names ("lakme eyeliner") is read as before (a brand sold in one category only
    would otherwise pull it there)."""

    def __init__(self, categories: list[str], texts: list[tuple[str, str]] = ()):
        self.size = len(categories)
        postings: dict[str, list[int]] = {}  # a form of a category word (CJK: a character pair) -> codes
        for code, path in enumerate(categories):
            keys = {f for part in path.split("/") for f in set().union(*_query_words(part).values())}
            for key in keys:
                postings.setdefault(key, []).append(code)
        self.postings = {k: np.asarray(v, np.int64) for k, v in postings.items()}
        code_of = {path: code for code, path in enumerate(categories)}
        self.aliases = aliases([(code_of[c], text) for c, text in texts if c in code_of])
        self.alias_postings = {k: np.asarray([code], np.int64) for k, code in self.aliases.items()}

    def match(self, text: str) -> tuple[list[str], np.ndarray | None]:
        """(the query's words that name categories, fit per category code = the share of those words
        its path contains); ([], None) when no word names a category. The shop's own aliases answer
        only when the category names do not."""
        words = _query_words(text, singles=True)
        for postings in (self.postings, self.alias_postings):
            matched = _matched(words, postings)
            if matched:
                fit = np.zeros(self.size, np.float32)
                for keys in matched.values():  # a word counts once per category, whichever of its forms met it
                    fit[np.unique(np.concatenate([postings[k] for k in keys]))] += 1.0
                return sorted(matched), fit / len(matched)
        return [], None


def _matched(words: dict[str, set[str]], postings: dict[str, np.ndarray]) -> dict[str, set[str]]:
    """The query's words (-> their forms) found in ``postings``; a CJK character counts only where no
    character pair holding it was found."""
    matched = {w: f & postings.keys() for w, f in words.items() if f & postings.keys()}
    pairs = [w for w in matched if len(w) == 2 and _CJK.search(w)]
    return {w: f for w, f in matched.items()
            if not (len(w) == 1 and _CJK.search(w) and any(w in pair for pair in pairs))}


ALIAS_MIN_PRODUCTS = 3  # a category, and a word, need this many of the shop's products to teach an alias
ALIAS_COVERAGE = 0.5  # the word is in at least this share of the category's products' texts
ALIAS_PURITY = 0.9  # and at least this share of the products whose texts have it are of that category


def aliases(texts: list[tuple[int, str]]) -> dict[str, int]:
    """Words (their forms; CJK character pairs and characters) that name one category in a shop's own
    texts: each key found in at least ``ALIAS_COVERAGE`` of one category's products (``texts``: (category
    code, text) pairs) and for at least ``ALIAS_PURITY`` of its products in that category -> that category's code.
    A colour word or a brand spread over many categories names none; "连帽衫" in every hoodie's Chinese
    title, and in no other product's, names the hoodies."""
    per_category: dict[int, int] = {}
    counts: dict[str, dict[int, int]] = {}
    for code, text in texts:
        per_category[code] = per_category.get(code, 0) + 1
        for key in set().union(*_query_words(text, singles=True).values()):
            by_code = counts.setdefault(key, {})
            by_code[code] = by_code.get(code, 0) + 1
    out: dict[str, int] = {}
    common = {key for key, by_code in counts.items()  # CJK characters in half of all texts ("色" of every colour)
              if len(key) == 1 and _CJK.search(key) and sum(by_code.values()) >= 0.5 * len(texts)}
    for key, by_code in counts.items():
        if len(key) == 2 and _CJK.search(key) and common & set(key):
            continue  # a pair across a word boundary ("蓝色包" -> 色包): the other character names it, if any
        code, n = max(by_code.items(), key=lambda item: item[1])
        total = sum(by_code.values())
        if (total >= ALIAS_MIN_PRODUCTS and per_category[code] >= ALIAS_MIN_PRODUCTS
                and n >= ALIAS_COVERAGE * per_category[code] and n >= ALIAS_PURITY * total):
            out[key] = code
    return out


def what_was_read(understood, found, rewritten: dict, text: str | None, qv) -> dict | None:
    """The response's ``understood``: the price phrases read (``understood``, an ``Understood``), what the search
    found in the words (``found``: category words, colours, an anchor), the rewriting (``rewritten``: synonyms,
    corrections; ``text`` is then the words searched), the text tower's wording (``embedded_as``), the head word
    and the kinds the type reader read (``qv``, the query's ``QueryVectors``); ``found`` as it is when the
    engine did nothing with the words."""
    read = {**(understood.as_dict() if understood else {"text": text}), **(found or {})}
    if rewritten:
        read.update(text=text, **rewritten)
    if qv.tower_text not in (None, text):
        read["embedded_as"] = qv.tower_text
    if qv.head_word is not None:
        read["head_word"] = qv.head_word
    if qv.kinds:
        read["kinds"] = list(qv.kinds)
    said = understood or found or read.keys() - {"text"}
    return read if said else found
