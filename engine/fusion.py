"""Late fusion: one documented formula that turns similarity parts and field fits into a score.

    score = w_look * look + w_visual * visual + w_text * text + w_bridge * bridge
            + w_shape * shape + w_text_photo * text_photo + w_proto * proto + w_colour * colour
            + w_colour_shift * colour_shift + w_colour_class * colour_class + w_type_class * type_class
            + w_price * price_fit + w_category * category_fit (or w_predicted_category * predicted_category_fit)
            + w_category_words * category_words_fit + w_lexical * lexical

- ``look`` (photo-only queries): max over the product's photos of cos(query photo, photo) on
  standardised tower features (CNN + colour): photo-to-photo similarity in its own, better space;
- ``visual``: max over the product's photos of cos(query vector, photo vector) in the shared space;
- ``text``: cos(query vector, product text vector) in the shared space;
- ``bridge`` (queries with text, EfficientNet-Lite towers): max over the product's photos of
  cos(query text in the text tower's space, the photo's ImageNet-class mix), see encoders/bridge.py;
- ``proto`` (text-only queries, bundles with a catalogue vocabulary): max over the product's photos of
  cos(the query's prototype, the photo shrunk to the vocabulary's size), see encoders/prototypes.py;
  its weight is w_proto x (1 - the shared space's fit to the catalogue): it stands in for the shared
  space on catalogues unlike the one the bundle was trained on, and keeps out of the way on alike ones
  (and entirely when the query's words name the shop's categories, which say the kind better);
- ``shape`` and ``text_photo`` (photo + text queries, "this, but in brown"): the photo says *what*,
  the words say *how it differs*, so they are compared with the catalogue's photos separately: ``shape``
  = max over the product's photos of cos(query photo, photo) on the looks' CNN blocks (colour left
  out), ``text_photo`` = max over its photos of cos(query text alone, photo) in the shared space;
- ``colour`` (queries whose words name colours, "navy blue hoodie", "this, but in gray"; bundles with
  colour words) = max over the product's photos of cos(the colours' prototype histogram, the photo's
  colour histogram), see encoders/colour_words.py; its weight is w_colour x (1 - the shared space's fit
  to the catalogue), since a space that fits the catalogue reads colour words itself;
- ``colour_class`` (queries whose words name colours the bundle's colour reader knows, indexes that keep
  palettes) = max over the product's photos of the reader's mean over the named colours of
  max(log p(colour | the photo's palette), -10) / 10 + 1, in [0, 1] (encoders/colour_reader.py): tells a
  catalogue's near colours apart ("navy blue" from "blue"), which the prototype's 8 hues cannot; its
  weight is w_colour_class x max(1 - the shared space's fit, colour_class_floor) (engine/trust.py);
- ``type_class`` (text-only queries naming kinds of product the bundle's type reader knows, "black heels";
  indexes whose looks are as the reader was trained on) = max over the product's photos of the probability
  the reader gives their looks of the named kinds, x the share of the query's words that name kinds or
  colours (a whole title's other words single out one product; encoders/type_reader.py): tells the training catalogue's
  neighbouring kinds apart (Heels from Flats), which the shared space blurs; its weight is w_type_class x
  the shared space's fit ** fit_power (the reader learnt that catalogue's kinds from its photos), and 0 when
  the query's words name the shop's own categories (they then say the kind themselves);
- ``colour_shift`` (photo + text queries naming colours, anchored on the catalogue photo the query photo
  shows: engine/anchor.py) = max over the product's photos of cos(photo colour - anchor colour, the
  colours' prototype - anchor colour) x max(shape, 0), on unit colour blocks: "this, but in gray" wants
  the anchor's shape in a colour moved from the anchor's toward gray, not whatever photo is grayest
  (the anchor itself scores 0); weight ``w_colour_shift`` = 2 (eval.tune_fusion --weight w_colour_shift);
- ``price_fit`` = exp(-(ln(price / target))^2 / (2 * price_scale^2)) when the query sets a price
  target (0 for products without a price), else left out;
- ``category_fit`` = shared path depth / depth of the preferred category (1 inside the subtree),
  when the query prefers a category (weight ``w_category``); failing that, ``predicted_category_fit``,
  the same fit to the category predicted from the query photo (weight ``w_predicted_category`` = 0.2 x
  the shared space's fit to the catalogue, since the prediction is made in that space: 0.20 on fashion,
  0.04 on luma; chosen on half of the photo and photo + text queries by ``eval.tune_fusion --weight
  w_predicted_category``);
- ``category_words_fit`` (queries whose words name the shop's categories, "gray hoodie", and no preferred
  category) = the share of those words that the product's category path contains (weight
  ``w_category_words``; see query_text.CategoryWords).
- ``attribute_fit`` (queries preferring attribute values, ``preferences.attributes`` {"brand": "Acme"}) = the share
  of them the product holds (weight ``w_attribute``); ``boost`` = the sum of the shop's standing rules
  (``EngineConfig.boosts``, "availability=out of stock": -0.5) the product's attributes match, added as it is;
- ``lexical`` (queries with words) = the share of the query terms' IDF weight that the product's own terms
  hold (title, category path, attribute values; a term in the description alone at half), in [0, 1]
  (engine/lexicon.py): the exact words a shopper types, a model name, a brand, "striped", which the towers
  blur; weight ``w_lexical`` (eval.lexical_bench).
A product without photos has none of the photo parts (``PHOTO_PARTS``); for a query of words alone it takes, for
each, the median of the candidates that have photos (neither rewarded nor punished for what it cannot show), so its
words decide; a query with a photo asks for looks it cannot have, and it keeps -1 there.
Weights live in ``FusionConfig``. Every part goes into the result's "why". The re-ranking stage then adds
``w_local * local`` (``w_local_text`` for photo + text queries) to the best fused candidates of a query
with a photo (rerank.local_rerank): the photo's cells matched with each candidate photo's, which finds
the same product from another view, in a close-up or in another colour (encoders/cells.py), and, for
photo-only queries, ``w_same_shot * same_shot``: how far the share of mutual cell matches lies above
``rerank.same_shot_from`` (the same product photographed the same way, e.g. in another colour), and
``w_palette * palette``: how much of the query photo's exact shades the candidate's photo shares
(encoders/palette.py).
"""

from __future__ import annotations

import numpy as np

from .attributes import AttributeTable
from .config import FusionConfig
from .errors import BadSettingError
from .trust import Trust
from .types import Candidates, Preferences


PHOTO_PARTS = ("visual", "look", "bridge", "shape", "text_photo", "proto", "colour", "colour_shift", "colour_class",
               "type_class")


def without_photos_neutral(parts: dict, pictured: np.ndarray | None) -> dict:
    """``parts`` with each photo part of the candidates not ``pictured`` (no live photo) set to the median
    of the pictured candidates' (0 when none is): otherwise they score -1 there, and a product imported
    before its photos, whose title the shopper typed word for word, falls out of the results."""
    if pictured is None or pictured.all():
        return parts
    out = dict(parts)
    for name in PHOTO_PARTS:
        if name in parts:
            part = parts[name]
            fill = float(np.median(part[pictured])) if pictured.any() else 0.0
            out[name] = np.where(pictured, part, np.float32(fill)).astype(np.float32)
    return out


def price_fit(prices: np.ndarray, target: float, scale: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.exp(-np.log(prices / target) ** 2 / (2 * scale ** 2))
    return np.nan_to_num(fit, nan=0.0)


def category_fit(path: str, preferred: str) -> float:
    want = [p for p in preferred.lower().strip("/").split("/") if p]
    have = [p for p in path.lower().strip("/").split("/") if p]
    shared = 0
    for a, b in zip(want, have):
        if a != b:
            break
        shared += 1
    return shared / len(want) if want else 0.0


OUT_OF_STOCK = ("out_of_stock", "out of stock", "sold out", "sold_out")  # "availability" values (any case)


def standing_boosts(boosts: dict[str, float], out_of_stock: float) -> dict[str, float]:
    """The rules fused into every score: ``out_of_stock`` for each spelling of an availability that says so (a
    Google feed writes "out_of_stock": a quarter of such a shop's top 10s were, ``docs/figures.md``), then the
    shop's own ``boosts`` (checked), which win for the same rule."""
    check_boosts(boosts)
    standing = {f"availability={v}": out_of_stock for v in OUT_OF_STOCK} if out_of_stock else {}
    return {**standing, **{rule.lower(): weight for rule, weight in boosts.items()}}  # (values match in any case)


def check_boosts(boosts: dict[str, float]) -> None:
    """``BadSettingError`` naming a rule that is not "attribute=value" -> a number."""
    for rule, weight in boosts.items():
        name, sep, value = str(rule).partition("=")
        if not (sep and name.strip() and value.strip()):
            raise BadSettingError(f"boosts.{rule}", 'write a rule as "attribute=value", e.g. "availability=out of stock"')
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(weight):
            raise BadSettingError(f"boosts.{rule}", f"the weight {weight!r} is not a number")


def fuse(cands: Candidates, table: AttributeTable, prefs: Preferences, cfg: FusionConfig,
         predicted_category: str | None = None, word_fit: np.ndarray | None = None,
         trust: Trust = Trust(), boosts: dict[str, float] | None = None, pictured: np.ndarray | None = None
         ) -> Candidates:
    """Score every candidate with the formula above (vectorised); parts are kept for "why". ``trust``
    scales ``w_visual``, ``w_proto``, ``w_colour``, ``w_colour_class``, ``w_type_class``, ``w_bridge`` and ``w_predicted_category`` by the shared space's fit
    to the catalogue (``engine/trust.py``). ``pictured``: per candidate, whether it has a photo (None: all)."""
    if len(cands) == 0:
        return cands
    given = without_photos_neutral(cands.parts, pictured)
    parts = {"visual": given["visual"], "text": given["text"]}
    score = cfg.w_visual * trust.visual * parts["visual"] + cfg.w_text * parts["text"]
    for name, weight in (("look", cfg.w_look), ("bridge", cfg.w_bridge * trust.bridge), ("shape", cfg.w_shape),
                         ("text_photo", cfg.w_text_photo), ("proto", cfg.w_proto * trust.proto),
                         ("colour", cfg.w_colour * trust.colour), ("colour_shift", cfg.w_colour_shift),
                         ("colour_class", cfg.w_colour_class * trust.colour_class),
                         ("type_class", cfg.w_type_class * trust.type_class), ("lexical", cfg.w_lexical)):
        if name in given:
            parts[name] = given[name]
            score = score + weight * parts[name]
    if "all_words" in given:  # no weight: whether the title holds every word, which a price order narrows by
        parts["all_words"] = given["all_words"]
    if prefs.price_target:
        parts["price_fit"] = price_fit(table.price[cands.rows], prefs.price_target, cfg.price_scale).astype(np.float32)
        score = score + cfg.w_price * parts["price_fit"]
    preferred, weight, part = prefs.category, cfg.w_category, "category_fit"
    if not preferred and predicted_category and cfg.w_predicted_category > 0:
        preferred, weight, part = predicted_category, cfg.w_predicted_category * trust.predicted, "predicted_category_fit"
    if preferred:
        fit_by_code = np.asarray([category_fit(c, preferred) for c in table.categories], np.float32)
        parts[part] = fit_by_code[table.category_code[cands.rows]]
        score = score + weight * parts[part]
    if word_fit is not None and not prefs.category and cfg.w_category_words > 0:
        fit_by_code = np.zeros(len(table.categories), np.float32)
        fit_by_code[: len(word_fit)] = word_fit[: len(fit_by_code)]
        parts["category_words_fit"] = fit_by_code[table.category_code[cands.rows]]
        score = score + cfg.w_category_words * parts["category_words_fit"]
    if prefs.attributes and cfg.w_attribute > 0:
        parts["attribute_fit"] = table.holding(cands.rows, list(prefs.attributes.items())).mean(axis=1).astype(np.float32)
        score = score + cfg.w_attribute * parts["attribute_fit"]
    if boosts:
        pairs = [tuple(rule.split("=", 1)) for rule in boosts]
        boost = (table.holding(cands.rows, pairs) * np.asarray(list(boosts.values()), np.float32)).sum(axis=1)
        if boost.any():
            parts["boost"] = boost.astype(np.float32)
            score = score + parts["boost"]
    return Candidates(cands.rows, score.astype(np.float32), parts)

