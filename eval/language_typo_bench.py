"""Typo tolerance in a shop that is not in English: the shop's language's words left alone or not.

    python -m eval.language_typo_bench [--seed 0] [--others 3000]

Builds a German and a French clothing-and-home shop (colour x pattern x noun, 11 x 4 x 20 = 880 products per
shop, titles and one-sentence descriptions in that language) in a catalogue (SQLite, the lexicon; no towers:
typo correction reads only the catalogue's terms) and measures ``query_rewrite.correct`` as the engine runs it:
- the language the catalogue is detected to be in (``spelling.languages_of``);
- queries: every product's title with one seeded typing error (``eval.typo_bench.typo``), the share turned back
  into the title ("restored"), with the English words only (the engine before the twenty-eighth session) and
  with the shop's language's words known too (now);
- real words the shop lacks: the ``--others`` most frequent words of four letters or more in the language's
  list (pyspellchecker's) that no product holds, and the next 10,000 (less common words), the share the
  correction changes into a word the shop has (with English words only, and with the language's).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine import lexicon, query_rewrite, spelling
from engine.catalog import Catalog
from engine.types import Product
from eval.typo_bench import typo

SHOPS = {
    "de": {"colours": ["rot", "blau", "grün", "schwarz", "weiß", "gelb", "braun", "grau", "rosa", "orange", "lila"],
           "patterns": ["gestreift", "gepunktet", "kariert", "uni"],
           "nouns": ["Kapuzenpullover", "Pullover", "T-Shirt", "Hemd", "Bluse", "Kleid", "Rock", "Hose", "Jeans", "Jacke",
                     "Mantel", "Schal", "Mütze", "Tasche", "Rucksack", "Schuhe", "Stiefel", "Tasse", "Teller", "Lampe"],
           "sentence": "Ein schönes Stück ({colour}, {pattern}) aus gutem Material, mit Liebe gemacht und für jeden Tag."},
    "fr": {"colours": ["rouge", "bleu", "vert", "noir", "blanc", "jaune", "marron", "gris", "rose", "orange", "violet"],
           "patterns": ["rayé", "à pois", "à carreaux", "uni"],
           "nouns": ["pull", "sweat à capuche", "t-shirt", "chemise", "chemisier", "robe", "jupe", "pantalon", "jean",
                     "veste", "manteau", "écharpe", "bonnet", "sac", "sac à dos", "chaussures", "bottes", "tasse",
                     "assiette", "lampe"],
           "sentence": "Un bel article ({colour}, {pattern}) en bonne matière, fait avec soin et pour tous les jours."},
}


def shop_products(lang: str) -> list[Product]:
    spec, out = SHOPS[lang], []
    for noun in spec["nouns"]:
        for colour in spec["colours"]:
            for pattern in spec["patterns"]:
                title = f"{noun} {colour} {pattern}" if lang == "de" else f"{noun} {colour} {pattern}"
                out.append(Product(id=f"{lang}{len(out)}", title=title[0].upper() + title[1:],
                                   description=spec["sentence"].format(colour=colour, pattern=pattern), price=20.0))
    return out


def frequent_words(lang: str, n: int, skip: int = 0) -> list[str]:
    import spellchecker

    counts = json.loads(gzip.decompress((Path(spellchecker.__file__).parent / "resources" / f"{lang}.json.gz").read_bytes()))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    plain = [lexicon._plain(w) for w, _ in ranked]
    return [w for w in dict.fromkeys(plain) if w.isalpha() and w.isascii() and len(w) >= spelling.MIN_LENGTH][skip:skip + n]


def measure(catalog: Catalog, products: list[Product], others: list[str], languages: tuple[str, ...], seed: int) -> dict:
    rnd = random.Random(seed)
    restored = kept = 0
    times = []
    for p in products:
        erred = typo(p.title, rnd)
        if erred is None:
            continue
        kept += 1
        t = time.perf_counter()
        fixed = query_rewrite.correct(erred, catalog, None, languages=languages).text
        times.append((time.perf_counter() - t) * 1e3)
        restored += fixed.lower() == p.title.lower()
    held = catalog.term_counts({lexicon.stem(w) for w in others})
    absent = [w for w in others if lexicon.stem(w) not in held]
    return {"kept": kept, "restored": restored / max(kept, 1), "absent": len(absent),
            "changed": changed_share(catalog, absent, languages), "p50": float(np.percentile(times, 50))}


def changed_share(catalog: Catalog, words: list[str], languages: tuple[str, ...]) -> float:
    held = catalog.term_counts({lexicon.stem(w) for w in words})
    absent = [w for w in words if lexicon.stem(w) not in held]
    return sum(query_rewrite.correct(w, catalog, None, languages=languages).changes != {} for w in absent) / max(len(absent), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--others", type=int, default=3000)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="language-typo-"))
    try:
        print("| shop | detected | known words | titles with a typing error | restored | real words the shop lacks "
              "| of them changed | less common words changed | correction p50 ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        for lang in SHOPS:
            catalog = Catalog(tmp / lang / "catalog.db")
            products = shop_products(lang)
            catalog.upsert(products)
            detected = spelling.languages_of(catalog.sample_texts())
            others = frequent_words(lang, args.others)
            rarer = frequent_words(lang, 10_000, skip=args.others)
            for label, languages in (("English only (before)", ("en",)), (f"English + {lang}", (lang,))):
                got = measure(catalog, products, others, languages, args.seed)
                print(f"| {lang} | {', '.join(detected) or 'none'} | {label} | {got['kept']} | {got['restored']:.3f} | "
                      f"{got['absent']} | {got['changed']:.3f} | {changed_share(catalog, rarer, languages):.3f} | "
                      f"{got['p50']:.2f} |", flush=True)
            catalog.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
