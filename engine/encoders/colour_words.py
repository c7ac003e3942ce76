"""Colour words: what a colour named in a query looks like, learned from a catalogue's photos.

A query that names a colour ("gray hoodie", "this, but in navy blue") should prefer photos of that
colour. The shared space reads colour words well on catalogues like the one it was trained on, and
poorly on others (luma's photos against a fashion-trained space). The colour histogram that the look
vectors carry (``colour.py``) does not depend on the catalogue, so a colour word is given a
*prototype* histogram: the normalised mean of the square-rooted histograms of the training photos
whose catalogue colour is that word ("Navy Blue": 1,784 fashion photos). Nothing is written by hand
but the one spelling variant below; the vocabulary is whatever colour values the training catalogue
used (fashion: 46, from "Black" to "Lime Green").

A query's colour phrases are matched longest first on word boundaries ("navy blue" before "blue"),
case-insensitively; names in a script written without spaces (Chinese, Japanese: a shop whose colour
attribute says "红色") are found as substrings ("红色连衣裙"), longest first. Several colours in one
query average their prototypes. Shoppers also write colours the vocabulary names otherwise ("navy",
"golden", "multicolour", and in Chinese "藏青色", "黑色" where the vocabulary is English): ``ALIASES``
maps such words onto the vocabulary's own names, used only where the vocabulary has that name and not
the word itself (a shop whose colour values include "navy" keeps its own "navy"). The engine compares the
prototype with each candidate photo's colour block (fusion part ``colour``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .colour_reader import ColourReader, learn_reader
from .unit import unit

SPELLINGS = {"gray": "grey", "greyish": "grey", "grayish": "grey"}  # US and UK spellings name one colour
ALIASES = {  # word a shopper writes -> the colour name a vocabulary (fashion's base colours) has for it
    "navy": "navy blue", "dark blue": "navy blue", "golden": "gold", "violet": "purple", "fuchsia": "magenta",
    "turquoise": "turquoise blue", "lime": "lime green", "multicolour": "multi", "multicolor": "multi",
    "multicoloured": "multi", "multicolored": "multi", "multi colour": "multi", "multi color": "multi",
    "黑色": "black", "白色": "white", "红色": "red", "蓝色": "blue", "绿色": "green", "黄色": "yellow",
    "灰色": "grey", "粉色": "pink", "粉红色": "pink", "紫色": "purple", "橙色": "orange", "橘色": "orange",
    "棕色": "brown", "褐色": "brown", "咖啡色": "coffee brown", "金色": "gold", "银色": "silver", "米色": "beige",
    "米白色": "off white", "卡其色": "khaki", "酒红色": "burgundy", "藏青色": "navy blue", "藏蓝色": "navy blue",
    "深蓝色": "navy blue", "海军蓝": "navy blue", "天蓝色": "blue", "浅蓝色": "blue", "玫红色": "magenta",
    "驼色": "tan", "奶油色": "cream", "橄榄绿": "olive", "荧光绿": "fluorescent green", "古铜色": "bronze",
    "铜色": "copper", "芥末黄": "mustard", "多色": "multi",
}
MIN_PHOTOS = 5  # a colour value needs at least this many photos to get a prototype
WORD = re.compile(r"[^\W\d_]+")
UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # kana and CJK ideographs


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` with spelling variants mapped to one form."""
    return [SPELLINGS.get(w, w) for w in WORD.findall(text.lower())]


@dataclass
class ColourWords:
    names: list[str]  # colour phrases as words joined by single spaces ("navy blue")
    prototypes: np.ndarray  # (len(names), colour_dim) unit: their photos' mean square-rooted histogram
    stored: torch.Tensor | None = field(default=None, repr=False, compare=False)  # float16 rows as loaded
    reader: ColourReader | None = None  # the photo's colour read from its palette (colour_reader.py)

    def __post_init__(self) -> None:
        self._index = {tuple(n.split()): i for i, n in enumerate(self.names)}
        unspaced = {n.replace(" ", ""): i for i, n in enumerate(self.names) if UNSPACED.search(n)}
        own = {n: i for i, n in enumerate(self.names)}
        self.aliases = {a: n for a, n in ALIASES.items() if n in own and a not in own}  # in use: own names win
        for alias, name in self.aliases.items():
            if UNSPACED.search(alias):
                unspaced.setdefault(alias, own[name])
            else:
                self._index.setdefault(tuple(words_of(alias)), own[name])
        self._longest = max((len(k) for k in self._index), default=0)
        self._unspaced = sorted(unspaced.items(), key=lambda item: -len(item[0]))  # (text, name index)
        self._phrases = _phrase_pattern([*self.names, *self.aliases])

    @property
    def dim(self) -> int:
        return int(self.prototypes.shape[1])

    def __len__(self) -> int:
        return len(self.names)

    def match(self, text: str) -> tuple[list[str], np.ndarray | None]:
        """(colour phrases named in ``text``, each once; their mean prototype, unit)
        or ([], None) when it names none."""
        words = words_of(text)
        found: list[int] = []
        rest = text.lower()
        for name, j in self._unspaced:  # longest first; a found name is blanked out so "蓝色" is not found in "深蓝色"
            if name in rest:
                if j not in found:
                    found.append(j)
                rest = rest.replace(name, " ")
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                hit = self._index.get(tuple(words[i:i + n]))
                if hit is not None:
                    if hit not in found:
                        found.append(hit)
                    i += n
                    break
            else:
                i += 1
        if not found:
            return [], None
        return [self.names[j] for j in found], unit(self.prototypes[found].mean(0))

    def rewritten(self, text: str, keep: Callable[[str], bool] = lambda alias: False) -> str:
        """``text`` with each colour alias in use written as the name it stands for, so a text tower that
        never met the alias reads the colour ("navy hoodie" -> "navy blue hoodie", "黑色T恤" -> "black T恤");
        names and longer phrases are left whole ("navy blue" stays), as are aliases for which
        ``keep(alias)`` is true (words the shop's own texts use: a brand "Old Navy"). The text comes back
        unchanged, byte for byte, when nothing was rewritten."""
        if not self.aliases:
            return text
        changed = False

        def swap(m: re.Match) -> str:
            nonlocal changed
            alias = " ".join(m.group(0).lower().split())
            if alias not in self.aliases or keep(alias):
                return m.group(0)
            changed = True
            return f" {self.aliases[alias]} " if UNSPACED.search(alias) else self.aliases[alias]

        out = self._phrases.sub(swap, text)
        return " ".join(out.split()) if changed else text

    def merged(self, other: "ColourWords") -> "ColourWords":
        """This vocabulary with ``other``'s colours added; ``other`` wins where both name a colour."""
        names = list(other.names) + [n for n in self.names if n not in set(other.names)]
        rows = [other.prototypes[other.names.index(n)] if n in other.names else self.prototypes[self.names.index(n)]
                for n in names]
        return ColourWords(names, np.stack(rows).astype(np.float32), reader=other.reader or self.reader)

    def tensors(self) -> dict[str, torch.Tensor]:
        """float16 rows; words loaded from a bundle give back the rows they were loaded from."""
        rows = self.stored if self.stored is not None else torch.from_numpy(
            np.ascontiguousarray(self.prototypes.astype(np.float16)))
        return {"prototypes": rows, **(self.reader.tensors() if self.reader is not None else {})}

    def meta(self) -> dict:
        return {"names": list(self.names), **({"reader_names": list(self.reader.names)} if self.reader else {})}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], meta: dict) -> "ColourWords":
        reader = ColourReader.from_tensors(tensors, meta["reader_names"]) if "reader_weight" in tensors else None
        return cls(list(meta["names"]), unit(tensors["prototypes"].float().numpy()), stored=tensors["prototypes"],
                   reader=reader)

    def fingerprint_bytes(self) -> bytes:
        data = b"".join(t.numpy().tobytes() for _, t in sorted(self.tensors().items()))
        return data + "|".join(self.names + (self.reader.names if self.reader else [])).encode()


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern:
    """One case-insensitive pattern for the phrases, longest first so "navy blue" wins over "navy":
    spaced ones whole words only (any run of spaces between their words), unspaced (CJK) ones anywhere.
    The word boundaries sit outside the alternatives, tested once a position (100 -> 20 us a query)."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    spaced = [r"\s+".join(map(re.escape, p.split())) for p in ordered if not UNSPACED.search(p)]
    unspaced = [re.escape(p) for p in ordered if UNSPACED.search(p)]
    parts = ([r"(?<![^\W\d_])(?:" + "|".join(spaced) + r")(?![^\W\d_])"] if spaced else []) + unspaced
    return re.compile("|".join(parts) or r"(?!)", re.IGNORECASE)


def learn_colour_words(colours: Sequence[str], histograms: np.ndarray, min_photos: int = MIN_PHOTOS,
                       palettes: np.ndarray | None = None, seed: int = 0) -> ColourWords | None:
    """Prototypes for every colour value given to at least ``min_photos`` photos: ``colours[i]`` is
    photo i's catalogue colour ("" when unknown or several), ``histograms`` (n, colour_dim) their
    square-rooted colour histograms; with their ``palettes`` (n, palette dim) also a reader of those
    values from palettes (``colour_reader.py``, seeded). None when no value has enough photos."""
    hist = unit(np.asarray(histograms, np.float32))
    values, of_photo = np.unique([" ".join(words_of(c)) for c in colours], return_inverse=True)
    of_photo = of_photo.reshape(-1)
    counts = np.bincount(of_photo, minlength=len(values))
    sums = np.zeros((len(values), hist.shape[1]), np.float32)
    np.add.at(sums, of_photo, hist)
    keep = [i for i, v in enumerate(values) if v and counts[i] >= min_photos]  # sorted by name
    if not keep:
        return None
    names = [str(values[i]) for i in keep]
    reader = None
    if palettes is not None and len(keep) >= 2:
        label_of = np.full(len(values), -1)
        label_of[keep] = np.arange(len(keep))
        reader = learn_reader(names, label_of[of_photo], palettes, seed=seed)
    return ColourWords(names, unit(sums[keep] / counts[keep, None]), reader=reader)


def single_colour(attributes: dict) -> str:
    """A product's one stated colour (attribute ``colour`` or ``color``), "" when none or several
    ("Black|Blue", "red, white")."""
    value = str(attributes.get("colour") or attributes.get("color") or "").strip()
    return "" if not value or re.search(r"[|,;/&]| and ", value) else value


def colour_words_of(products: Iterable, embedder, seed: int = 0) -> ColourWords | None:
    """Colour words learned from ``products`` that state one colour and have a photo (first photo's
    colour histogram, from the feature cache when it has them); None when the image tower keeps no
    colour histogram or too few products state a colour."""
    from .colour import colour_dim

    dim = colour_dim(embedder.bundle.image_tower.colour_bins)
    items = [(c, p.images[0]) for p in products if p.images and (c := single_colour(p.attributes))]
    if dim == 0 or not items:
        return None
    paths = [path for _, path in items]
    feats = embedder.image_features(paths)
    return learn_colour_words([c for c, _ in items], feats[:, -dim:], palettes=embedder.photo_extras("palette", paths),
                              seed=seed)
