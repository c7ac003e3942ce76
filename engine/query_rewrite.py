"""The query's words as the shop reads them, before anything reads them (price phrases included: "undr 50"
is read as "under 50"): the shop's one-way synonyms applied ("lv" -> "louis vuitton", ``engine/synonyms.py``),
then typing errors read as the catalogue's words ("hodie" -> "hoodie", ``engine/spelling.py``; the price
phrases' and the synonyms' words are offered too, the bundle's colour words first). What changed goes into the response's ``understood``
(``synonyms``, ``corrected``); a query with ``read_words`` false is searched as typed."""

from __future__ import annotations

from dataclasses import replace

from . import spelling, synonyms
from .catalog import Catalog
from .config import EngineConfig
from .query_text import PRICE_WORDS
from .types import Query


def rewrite(query: Query, config: EngineConfig, catalog: Catalog, colours, shop: synonyms.Synonyms
            ) -> tuple[Query, dict]:
    """``query`` with its words rewritten, and what changed: {"synonyms": {phrase: replacement},
    "corrected": {typed: read}} (empty when nothing did). ``colours``: the bundle's colour words; ``shop``:
    the shop's synonyms (``synonyms.load``, which the engine's word search uses too)."""
    if not (query.text and query.read_words):
        return query, {}
    said: dict[str, dict[str, str]] = {}
    text, said["synonyms"] = shop.rewrite(query.text)
    if config.read_typos and catalog.lexical:
        spelled = correct(text, catalog, colours, shop, config.typo_languages)
        text, said["corrected"] = spelled.text, spelled.changes
    said = {k: v for k, v in said.items() if v}
    return (replace(query, text=text), said) if said else (query, {})


def correct(text: str, catalog: Catalog, colours, shop: synonyms.Synonyms = synonyms.Synonyms(),
            languages: tuple[str, ...] = ()) -> spelling.Spelled:
    """``text``'s typing errors read as the engine reads them: the catalogue's terms, the price phrases' and the
    synonyms file's words offered (and never "corrected"), the bundle's colour words first; the English words
    and those of the shop's language (``languages``, else detected: ``spelling.known_words``) left alone."""
    return spelling.correct(text, catalog.term_counts, shop.words | PRICE_WORDS, spelling.words_of(colours),
                            spelling.known_words(catalog, languages))
