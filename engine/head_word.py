"""The head word of a query: the word that names the kind of product ("hoodie" in "Chaz Kangeroo Hoodie").

Product names and shoppers' queries mix words a photo can show with words it cannot: "Chaz Kangeroo
Hoodie" is a hoodie whatever "Chaz Kangeroo" means, "Rocco Gym Tank" a tank top, not a gym bag. A
shared space trained on the shop's own titles has learnt which words matter; a space meeting a foreign
catalogue has not, and the text tower gives the made-up names as much say as the type (issue 7, item 4).
English noun phrases put their head last, before any post-modifier ("running shoes for men",
"Ryker Tee (Crew-neck)", "Yoga Strap 6 foot"), so the head is the last word before the first
preposition or number, leaving out parentheses, markup entities and colour words (those have their own
reading, ``encoders/colour_words.py``). The query encoder embeds it beside the whole text and mixes the
two (``FusionConfig.w_head`` x (1 - the shared space's fit), ``query_encoding.QueryEncoder.head``).

Texts in scripts without spaces between words (Chinese, Japanese) have no head found this way: None.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

# words after which a noun phrase's post-modifier starts ("shoes for men", "bag with zip", "top in blue")
POST_MODIFIERS = frozenset({"for", "with", "without", "in", "under", "over", "from", "of", "by", "on", "to",
                            "and", "or", "at", "made", "like", "but", "except", "near", "around"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_DROPPED = re.compile(r"\([^)]*\)|\[[^\]]*\]|&[A-Za-z]+;|&#\d+;|[®™©]"
                      # a size named after the type ("hoodie size XL", "jeans size 32": the head is not "size")
                      r"|\bsizes?\s*:?\s*(?:x{0,3}[sml]|\d?x[sl]|\d{1,3}(?:[.,]\d)?)(?![\w.,])", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_][\w'\-]*|\d[\w.,]*|\S", re.UNICODE)
_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*(?:[-'][^\W\d_]+)*", re.UNICODE)
MIN_LETTERS = 3
MAX_HEADS = 4096  # head-word vectors a HeadVectors keeps


def head_word(text: str | None, is_colour: Callable[[str], bool] | None = None) -> str | None:
    """The query's head word as typed: the last word of ``MIN_LETTERS`` letters or more that is not a
    colour (``is_colour(word)``) before the first post-modifier or number. None without text, in a
    script without spaces, or when no other such word comes before it: the head alone ("hoodie"), or
    with colour words only ("gray hoodie"), already has the text's say (colours have their own parts)."""
    if not text or _CJK.search(text):
        return None
    tokens = _TOKEN.findall(_DROPPED.sub(" ", text))
    phrase: list[str] = []
    for token in tokens:
        if phrase and (token.lower() in POST_MODIFIERS or token[0].isdigit()):
            break  # "shoes for men", "Yoga Strap 6 foot", "iPhone 12 Pro"
        phrase.append(token)
    words = [t for t in phrase if _WORD.fullmatch(t) and len(t) >= MIN_LETTERS
             and t.lower() not in POST_MODIFIERS]
    seen = [w for w in words if is_colour is None or not is_colour(w)]
    if len(seen) < 2:  # nothing beside the head for it to outweigh ("hoodie", "gray hoodie", "t-shirt for kids")
        return None
    return seen[-1]


class HeadVectors:
    """Head word -> its text-tower vector, computed by ``encode(word)`` once and kept (up to ``MAX_HEADS``,
    then started afresh): head words are few and come back ("Hoodie", "Tee"), and embedding one beside
    every query text had cost a text query 1.2x its p50 (``docs/eval/experiments/head_word_latency.*``)."""

    def __init__(self, encode: Callable[[str], np.ndarray]):
        self._encode = encode
        self._kept: dict[str, np.ndarray] = {}

    def __call__(self, word: str) -> np.ndarray:
        vec = self._kept.get(word)
        if vec is None:
            vec = self._encode(word)
            if len(self._kept) >= MAX_HEADS:
                self._kept.clear()
            self._kept[word] = vec
        return vec
