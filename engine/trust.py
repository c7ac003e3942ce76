"""How much fusion trusts each part that the shared space reads or stands in for, on this catalogue.

The shared space is trained on one catalogue; ``domain_fit`` measures how well it fits the one being
searched (``ProductIndex.shared_fit``, 0 to 1; None when unknown, then every factor is 1). Parts read in
that space weigh by the fit, parts that stand in for it where it fits poorly by 1 - fit, each switch in
``FusionConfig``:
- ``visual`` (photo-only queries; ``visual_by_fit``): fit ** ``fit_power``;
- ``predicted`` (the category predicted from the query photo, made in that space; ``predicted_by_fit``):
  fit ** ``fit_power`` (2: a space that fits a catalogue half as well is trusted a quarter as much; on luma,
  fit 0.18, the photo parts then weigh 0.03, and fashion, fit 0.99, keeps them; twelfth session);
- ``proto`` (the catalogue bridge; ``proto_by_fit``): (1 - fit) ** ``misfit_power`` (1), and 0 when the
  query's words name the shop's categories: the shop's own category then says what kind of product they
  mean, better than a foreign vocabulary (docs/figures.md, "Catalogue bridge");
- ``bridge`` (the zero-shot ImageNet bridge; ``bridge_by_fit``, twenty-first session): (1 - fit) **
  ``misfit_power``: where the space was trained on the catalogue's own kind of titles it reads a text
  better than 1,000 ImageNet class names do, and the bridge only cost it (fashion text -> own photo,
  tuning half R@10 0.831 without it against 0.818 at 0.25); on luma (fit 0.21) it keeps most of its weight;
- ``type_class`` (the type reader, twenty-second session; ``type_by_fit``): fit ** ``fit_power``, since the
  reader learnt the training catalogue's kinds from its photos (on luma, fit 0.21, the factor is 0.04), and 0
  when the query's words name the shop's categories, which say the kind themselves;
- ``colour`` (colour words against the photos' colour histograms and read from their palettes, parts
  ``colour`` and ``colour_class``; ``colour_by_fit``): (1 - fit) ** ``misfit_power``, since a space that
  fits the catalogue reads colour words itself; the colour reader's part (``colour_class``) keeps at least
  ``colour_class_floor`` (0.25) of its weight, since it reads a photo's exact shades, which the space does
  not: on fashion (fit 0.99) its weight is then 0.2 instead of 0.007 (``eval.tune_fusion --weight
  colour_class_floor [--with-names]``: held-out "<colour> <type>" P@10 0.463 -> 0.489 photos only, 0.532 ->
  0.549 with the shop's category names read against the fifteenth session's 0.1; luma unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import FusionConfig
from .planner import QueryVectors


@dataclass(frozen=True)
class Trust:
    """Factors on ``w_visual``, ``w_proto``, ``w_colour``, ``w_predicted_category``, ``w_colour_class``, ``w_bridge``
    and ``w_type_class``."""

    visual: float = 1.0
    proto: float = 1.0
    colour: float = 1.0
    predicted: float = 1.0
    colour_class: float = 1.0
    bridge: float = 1.0
    type_class: float = 1.0


def misfit(fit: float | None, cfg: FusionConfig) -> float:
    """(1 - fit) ** ``misfit_power``, the factor of the parts that stand in for the shared space (1 when
    the fit is unknown); the query encoder's head word weighs by it too (``query_encoding.QueryEncoder.head``)."""
    return (1.0 - fit) ** cfg.misfit_power if fit is not None else 1.0


def trust(fit: float | None, cfg: FusionConfig, qv: QueryVectors, word_fit: np.ndarray | None) -> Trust:
    """The factors for a query (``qv``: photo-only when it has a look; ``word_fit`` not None: its words
    name the shop's categories, ``query_text.CategoryWords``) on a catalogue the shared space fits by ``fit``."""
    def fit_if(on: bool) -> float:
        return fit ** cfg.fit_power if on and fit is not None else 1.0

    def misfit_if(on: bool) -> float:
        return misfit(fit, cfg) if on else 1.0

    return Trust(visual=fit_if(cfg.visual_by_fit and qv.look is not None),
                 proto=0.0 if word_fit is not None else misfit_if(cfg.proto_by_fit),
                 colour=misfit_if(cfg.colour_by_fit),
                 colour_class=max(misfit_if(cfg.colour_by_fit), cfg.colour_class_floor),
                 predicted=fit_if(cfg.predicted_by_fit), bridge=misfit_if(cfg.bridge_by_fit),
                 type_class=0.0 if word_fit is not None else fit_if(cfg.type_by_fit))
