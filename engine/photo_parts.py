"""Which re-ranking parts a query photo gets, and how much each weighs (``rerank.local_rerank``).

A photo query's best fused candidates are re-scored by three parts of the query photo: its cells
(``local``), whether a candidate is the same shot (``same_shot``, also from the cells) and its palette
(``palette``). Which of them a query pays for is decided here, from the engine's config and what the
index keeps, before the tower pass (the cells need extra passes, the palette a thread beside it):
- photo-only queries: ``w_local``, ``w_same_shot``, ``w_palette``;
- photo + text queries: ``w_local_text`` only (the anchor, a photo-only search for the catalogue photo the
  query photo shows, finds the product with all three; the words may ask for another colour), and
  ``w_palette`` as well when the words name no colour (``keeps_colour``: "this, in cotton", "hoodie"
  beside the photo): then the shopper wants the photo's colours (probe
  ``docs/eval/experiments/photo_words_probe.*``: luma photo + its category's name, hit@3 0.876 -> 0.895);
- a query photo smaller than ``rerank.local_min_side`` on its longer side (a thumbnail: fashion's 60 x 80
  px) has no cells worth matching, since they would describe an upscaled blur; its palette still counts.
"""

from __future__ import annotations

from .config import EngineConfig
from .encoders.colour_words import ColourWords
from .index.product_index import ProductIndex
from .types import Query


def anchors(config: EngineConfig, query: Query) -> bool:
    """Whether a query is anchored (photo + text, ``rerank.anchor`` > 0)."""
    return query.image is not None and bool(query.text) and config.rerank.anchor > 0


def reads_cells(config: EngineConfig, query: Query) -> bool:
    """Whether the query photo is large enough for its cells to say more than its look."""
    return query.image is not None and max(query.image.size) >= config.rerank.local_min_side


def keeps_colour(config: EngineConfig, query: Query, colours: ColourWords | None) -> bool:
    """Photo + text: whether the words leave the photo's colour alone: the bundle's colour words find no
    colour in them (without colour words, or with colour words not read, that cannot be told: False)."""
    return (query.image is not None and bool(query.text) and query.read_words and config.read_colours
            and colours is not None and not colours.match(query.text)[0])


def weights(config: EngineConfig, query: Query, colours: ColourWords | None = None) -> tuple[float, float, float]:
    """(cells, same shot, palette) weights of a photo query's re-ranking (``colours``: the bundle's colour words)."""
    cfg, cells = config.fusion, reads_cells(config, query)
    if query.text:
        return cfg.w_local_text * cells, 0.0, cfg.w_palette if keeps_colour(config, query, colours) else 0.0
    return cfg.w_local * cells, cfg.w_same_shot * cells, cfg.w_palette


def cell_weight(config: EngineConfig, query: Query) -> float:
    """The largest weight the query photo's cells get in this query, its anchor's search included."""
    anchored = config.fusion.w_local * anchors(config, query) * reads_cells(config, query)
    return max(*weights(config, query)[:2], anchored)


def cell_scales(config: EngineConfig, index: ProductIndex, weight: float) -> tuple[float, ...] | None:
    """The scales a query photo's cells are taken at (``rerank.local_query_scales`` besides the
    tower's own side) when the index keeps cells and they weigh ``weight`` > 0; else None."""
    return tuple(config.rerank.local_query_scales) if index.cells is not None and weight > 0 else None


def wants_palette(config: EngineConfig, index: ProductIndex, query: Query, colours: ColourWords | None = None) -> bool:
    """Whether the photo's palette counts: kept by the index, weighed > 0, photo-only query, anchor or
    words that name no colour."""
    return (query.image is not None and (not query.text or anchors(config, query) or keeps_colour(config, query, colours))
            and index.palettes is not None and config.fusion.w_palette > 0)
