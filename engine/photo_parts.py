"""Which re-ranking parts a query photo gets, and how much each weighs (``rerank.local_rerank``).

A photo query's best fused candidates are re-scored by three parts of the query photo: its cells
(``local``), whether a candidate is the same shot (``same_shot``, also from the cells) and its palette
(``palette``). Which of them a query pays for is decided here, from the engine's config and what the
index keeps, before the tower pass (the cells need extra passes, the palette a thread beside it):
- photo-only queries: ``w_local``, ``w_same_shot``, ``w_palette``;
- photo + text queries: ``w_local_text`` only (the anchor, a photo-only search for the catalogue photo the
  query photo shows, finds the product with all three; the words may ask for another colour);
- a query photo smaller than ``rerank.local_min_side`` on its longer side (a thumbnail: fashion's 60 x 80
  px) has no cells worth matching, since they would describe an upscaled blur; its palette still counts.
"""

from __future__ import annotations

from .config import EngineConfig
from .index.product_index import ProductIndex
from .types import Query


def anchors(config: EngineConfig, query: Query) -> bool:
    """Whether a query is anchored (photo + text, ``rerank.anchor`` > 0)."""
    return query.image is not None and bool(query.text) and config.rerank.anchor > 0


def reads_cells(config: EngineConfig, query: Query) -> bool:
    """Whether the query photo is large enough for its cells to say more than its look."""
    return query.image is not None and max(query.image.size) >= config.rerank.local_min_side


def weights(config: EngineConfig, query: Query) -> tuple[float, float, float]:
    """(cells, same shot, palette) weights of a photo query's re-ranking."""
    cfg, cells = config.fusion, reads_cells(config, query)
    if query.text:
        return cfg.w_local_text * cells, 0.0, 0.0
    return cfg.w_local * cells, cfg.w_same_shot * cells, cfg.w_palette


def cell_weight(config: EngineConfig, query: Query) -> float:
    """The largest weight the query photo's cells get in this query, its anchor's search included."""
    anchored = config.fusion.w_local * anchors(config, query) * reads_cells(config, query)
    return max(*weights(config, query)[:2], anchored)


def cell_scales(config: EngineConfig, index: ProductIndex, weight: float) -> tuple[float, ...] | None:
    """The scales a query photo's cells are taken at (``rerank.local_query_scales`` besides the
    tower's own side) when the index keeps cells and they weigh ``weight`` > 0; else None."""
    return tuple(config.rerank.local_query_scales) if index.cells is not None and weight > 0 else None


def wants_palette(config: EngineConfig, index: ProductIndex, query: Query) -> bool:
    """Whether the photo's palette counts: kept by the index, weighed > 0, photo-only query or anchor."""
    return (query.image is not None and (not query.text or anchors(config, query))
            and index.palettes is not None and config.fusion.w_palette > 0)
