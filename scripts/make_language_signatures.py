"""Write engine/language_signatures.json: each Latin-script language's 500 most frequent words in
pyspellchecker's lists (OpenSubtitles frequencies), English included, for telling a catalogue's language
without loading whole lists (``engine/spelling.languages_of``). Rerun after upgrading pyspellchecker:

    .venv/bin/python scripts/make_language_signatures.py
"""

import gzip
import json
from pathlib import Path

import spellchecker

from engine.lexicon import _plain
from engine.spelling import WORD_LISTS

TOP = 500
out = {}
for lang in ("en", *WORD_LISTS):
    counts = json.loads(gzip.decompress((Path(spellchecker.__file__).parent / "resources" / f"{lang}.json.gz").read_bytes()))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    words = []
    for word, _ in ranked:
        plain = _plain(word)
        if plain.isalpha() and plain.isascii() and len(plain) >= 2 and plain not in words:
            words.append(plain)
        if len(words) == TOP:
            break
    out[lang] = words
path = Path(__file__).resolve().parents[1] / "engine" / "language_signatures.json"
path.write_text(json.dumps({"source": f"pyspellchecker {spellchecker.__version__}, {TOP} most frequent words",
                            "languages": out}, ensure_ascii=False))
print(path, path.stat().st_size, "bytes")
