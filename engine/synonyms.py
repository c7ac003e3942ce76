"""A shop's synonyms: the words its shoppers use for what its titles call otherwise ("tee" for "Tshirt",
"trainers" for "Sports Shoes", "lv" for "Louis Vuitton").

The towers know common English synonyms, but not a shop's jargon, its brands' nicknames, or that its own
titles never say the word a shopper types, and the lexicon (``engine/lexicon.py``) matches exact terms. So a
shop may keep a synonyms file, in Solr's format (which Elasticsearch and OpenSearch read too, so an existing
list works as it is):

    tee, tshirt, t-shirt        words meaning one thing: in the lexical part each counts as the others
    lv, l.v. => louis vuitton   one way: the query's "lv" is searched as "louis vuitton", by the towers too
    # a comment

An equivalence line's members are equivalent, a member of several words as a phrase ("sneakers, trainers,
running shoes": a title holding "running" and "shoes" holds the phrase; a query saying "running shoes" meets
"Trainers"); a Chinese word, which the lexicon holds as characters and pairs, joins only through a "=>" rule
("电话 => 手机", matched inside unspaced text). The file lives in the data folder (``synonyms.txt``, ``EngineConfig.synonyms_path``),
is installed with ``shopsight synonyms FILE`` or ``PUT /api/synonyms`` (checked first, then written
atomically) and read again by every worker when its modification time changes. The engine applies the rules
first, then typo correction (which leaves the file's words alone), then reads price phrases.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInputError
from .lexicon import _plain, terms
from .query_text import CJK_RUN

MAX_BYTES = 1_000_000  # a synonyms file larger than this is refused
STALE_S = 3600  # a temporary file this old was left by a killed writer: the next install removes it
_CACHE: dict[str, tuple[int, int, "Synonyms"]] = {}
_LOCK = threading.Lock()


class SynonymsError(BadInputError):
    """A synonyms file that cannot be read: the line and what is wrong with it (a 400 from the API)."""

    def __init__(self, line: int, message: str):
        super().__init__("synonyms", f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class Synonyms:
    rules: tuple[tuple[str, str], ...] = ()  # (phrase as typed, lower-cased; its replacement), longest first
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lexicon term -> its equivalent terms
    words: frozenset[str] = frozenset()  # every plain word the file names (typo correction leaves them be)

    def __bool__(self) -> bool:
        return bool(self.rules or self.groups)

    def sizes(self) -> dict[str, int]:
        """How many one-way rules and equivalent terms it holds (what the CLI and the API report)."""
        return {"rules": len(self.rules), "equivalent_terms": len(self.groups)}

    def rewrite(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` with each one-way rule's phrase (whole words, any case) replaced, and what was."""
        done = {}
        for phrase, replacement in self.rules:  # (Chinese and Japanese have no spaces: no word edge there)
            before = "" if CJK_RUN.match(phrase[0]) else r"(?<![\w.])"
            after = "" if CJK_RUN.match(phrase[-1]) else r"(?![\w])"
            pattern = re.compile(before + re.escape(phrase) + after, re.IGNORECASE)
            if pattern.search(text):
                spaced = not (before and after) and not CJK_RUN.match(replacement[0])  # "华为mate": "huawei mate"
                text = pattern.sub(lambda m: f" {replacement} " if spaced else replacement, text)
                text = re.sub(r" {2,}", " ", text).strip() if spaced else text
                done[phrase] = replacement
        return text, done


def parse(text: str) -> Synonyms:
    """The synonyms of a file's ``text`` (see the module); raises ``SynonymsError`` naming the line."""
    rules: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    words: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise SynonymsError(number, "more than one '=>'")
        left, arrow, right = line.partition("=>")
        members = [m.strip() for m in left.split(",")]
        if any(not m for m in members) or (arrow and not right.strip()):
            raise SynonymsError(number, "an empty member (two commas in a row, or nothing beside '=>')")
        words.update(w for m in [*members, right] for w in re.findall(r"[^\W\d_]+", _plain(m)))
        if arrow:
            replacement = " ".join(m.strip() for m in right.split(",") if m.strip())
            for m in members:
                rules[m.lower()] = replacement
            continue
        if len(members) < 2:
            raise SynonymsError(number, "one word alone: write 'a, b' (equivalent) or 'a => b' (one way)")
        forms = {" ".join(t) for t in map(terms, members) if t and not any(CJK_RUN.match(x) for x in t)}
        for form in forms:
            groups.setdefault(form, set()).update(forms - {form})
    ordered = tuple(sorted(rules.items(), key=lambda r: -len(r[0])))
    return Synonyms(ordered, {t: tuple(sorted(g)) for t, g in groups.items() if g}, frozenset(words))


def load(path: str | Path) -> Synonyms:
    """The synonyms in the file at ``path`` (none when there is no file), read again when it changes."""
    key = str(path)
    try:
        stat = os.stat(key)
    except FileNotFoundError:
        return Synonyms()
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
    found = parse(Path(key).read_text(encoding="utf-8"))
    with _LOCK:
        _CACHE[key] = (stat.st_mtime_ns, stat.st_size, found)
    return found


def install(text: str, path: str | Path) -> Synonyms:
    """Check ``text`` (``parse``) and write it to ``path`` atomically (a reader never sees half a file);
    returns what it holds. Raises ``SynonymsError`` and writes nothing when a line is wrong."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise SynonymsError(0, f"the file is larger than {MAX_BYTES:,} bytes")
    found = parse(text)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + ".*.tmp"):  # left by a writer killed mid-way, an hour ago or more
        try:
            if time.time() - stale.stat().st_mtime > STALE_S:
                stale.unlink(missing_ok=True)
        except FileNotFoundError:  # another writer's, renamed into place since the listing
            pass
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)  # one per writer
    try:
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return found
