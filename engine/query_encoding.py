"""Query encoding: a ``Query`` -> ``QueryVectors``, the query in every space the index compares it in.

The "encoders + heads -> query vector" step of the engine's flow (``engine.py``): the photo through the
image tower (with its cells and palette when the re-ranking will use them), the words through the text
tower (colour aliases the shop never uses written as the colour's name), the colour words read as a
colour histogram and a colour-class reader. A ``QueryEncoder`` is made per search with the engine's
config in force then.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import photo_parts
from .catalog import Catalog
from .config import SERVING_THREADS, EngineConfig
from .encoders.colour_reader import scores as colour_scores
from .encoders.colour import colour_dim
from .encoders.embedder import Embedder
from .encoders.type_reader import chance as kind_chance
from .errors import BadInputError
from .head_word import head_word
from .index.product_index import ProductIndex
from .planner import QueryVectors
from .trust import misfit
from .types import Query

# query photos' palettes, computed beside the tower pass: one thread per concurrent query, so a
# worker's queries do not queue behind each other's
_BESIDE = ThreadPoolExecutor(max_workers=SERVING_THREADS, thread_name_prefix="palette")


@dataclass(frozen=True)
class QueryEncoder:
    config: EngineConfig
    index: ProductIndex
    embedder: Embedder
    catalog: Catalog

    def vectors(self, query: Query) -> QueryVectors:
        """Photo and text combine in the shared space: normalise(w_i * photo + w_t * text).

        The photo's own look is a channel for "find this" queries only: with text, the photo's look
        without its colour block (``shape``) and the text alone (``text``) are compared with the
        catalogue's photos separately, so the words can change what the photo shows ("but in blue").
        The text's tower vector feeds the zero-shot bridge and, for text-only queries, the catalogue
        bridge's prototype (``encoders/prototypes.py``).
        """
        parts, look, bridge, photo, shape, text, proto, cells = [], None, None, None, None, None, None, None
        head = None
        photo_look, shades = None, None
        if query.image is not None:  # decoded once here: threads below read it at once, and a lazily opened
            query.image.load()       # photo (Image.open) decoded by two of them breaks Pillow's reader
        if photo_parts.wants_palette(self.config, self.index, query, self.embedder.bundle.colours):  # beside the tower pass
            shades = _BESIDE.submit(self.embedder.query_palette, query.image)
        if query.image is not None:
            scales = photo_parts.cell_scales(self.config, self.index, photo_parts.cell_weight(self.config, query))
            vecs = self.embedder.embed_pil([query.image], cell_scales=scales)
            if "cells" in vecs:
                cells = tuple(scale[0] for scale in vecs["cells"])
            photo = vecs["shared"][0]
            parts.append(query.image_weight * vecs["shared"][0])
            look = vecs["look"][0] if not query.text else None
            if query.text:
                cnn = vecs["look"][0][: self.embedder.image_tower.backbone_dim]
                shape = (cnn / max(float(np.linalg.norm(cnn)), 1e-12)).astype(np.float32)
                photo_look = vecs["look"][0]
        tower_text = self.tower_text(query)
        if query.text:
            head, head_weight = self.head(query, tower_text)
            shared, raw = self.embedder.embed_query_text(tower_text, head, head_weight)
            parts.append(query.text_weight * shared)
            bridge = raw if self.index.bridges is not None else None
            text = shared if query.image is not None else None
            if query.image is None and self.index.prototypes is not None:
                proto = self.embedder.bundle.prototypes.query(raw)
        q = np.sum(parts, axis=0)
        norm = float(np.linalg.norm(q))
        if norm < 1e-9:
            raise BadInputError("weights", "image_weight and text_weight cancel out; use positive weights")
        colour_words, colour = self.colour_words(query)
        read_type, kinds = self.type_reader(query, tower_text, colour_words)
        return QueryVectors((q / norm).astype(np.float32), look, bridge, photo, shape, text, proto,
                            colour, tuple(colour_words), cells, photo_look, shades.result() if shades is not None else None,
                            read_colour=self.colour_reader(colour_words), tower_text=tower_text, head_word=head,
                            read_type=read_type, kinds=kinds)

    def tower_text(self, query: Query) -> str:
        """The words the text tower embeds: the query's, with colour aliases the bundle's colour words
        know and the shop's own texts never use written as the colour's name ("navy hoodie" -> "navy
        blue hoodie"; ``ColourWords.rewritten``): a space trained on the shop's titles never met "navy",
        and ranked green hoodies first for it. Words the shop uses stay as typed (a brand "Old Navy")."""
        colours = self.embedder.bundle.colours
        if not query.text or not query.read_words or not self.config.read_colours or colours is None:
            return query.text
        return colours.rewritten(query.text, keep=self.catalog.mentions)

    def head(self, query: Query, tower_text: str) -> tuple[str | None, float]:
        """The head word to embed beside ``tower_text`` and its weight (``engine/head_word.py``):
        ``w_head`` x (1 - the shared space's fit) ** ``misfit_power``, like the other parts that stand in
        for a space that fits the catalogue poorly (on fashion, fit 0.99, it is all but off: that space
        learnt from the shop's own titles which words count). (None, 0) without a head or weight."""
        weight = self.config.fusion.w_head * misfit(self.index.shared_fit, self.config.fusion)
        if not query.read_words or weight <= 0:
            return None, 0.0
        colours = self.embedder.bundle.colours
        word = head_word(tower_text, (lambda w: bool(colours.match(w)[0])) if colours is not None else None)
        return (word, weight) if word is not None else (None, 0.0)

    def colour_words(self, query: Query) -> tuple[list[str], np.ndarray | None]:
        """The colour phrases the query text names and their prototype histogram
        (``encoders/colour_words.py``), when the bundle knows colour words and the index keeps the
        looks' colour block in the same histogram layout; else ([], None)."""
        colours = self.embedder.bundle.colours
        if (not query.text or not query.read_words or not self.config.read_colours or colours is None
                or self.index.looks is None or self.index.look_colour_weight is None
                or colours.dim != colour_dim(self.embedder.bundle.image_tower.colour_bins)):
            return [], None
        return colours.match(query.text)

    def colour_reader(self, names: list[str]):
        """The photos' colour log-probabilities (channel "shade"; an index without it: their palettes) ->
        part ``colour_class`` for the named colours the bundle's colour reader knows, when the index keeps
        palettes in the reader's layout and ``w_colour_class`` > 0; else None."""
        reader = self.embedder.bundle.colours.reader if names else None
        ids = reader.knows(names) if reader is not None else []
        palettes, shades = self.index.palettes, self.index.shades
        if not ids or palettes is None or palettes.dim != reader.dim or self.config.fusion.w_colour_class <= 0:
            return None
        if shades is not None:  # the rows index.colour_reads hands the part in rerank.rescore
            return functools.partial(colour_scores, ids=ids) if shades.dim == len(reader.names) else None
        return functools.partial(reader.read, ids=ids)

    def type_reader(self, query: Query, tower_text: str | None, colour_words: list[str]) -> tuple:
        """(the photos' kind probabilities -> part ``type_class``, the kinds' names) for a text-only query
        naming kinds of product the bundle's type reader knows ("black heels"), when the index keeps the
        reader's probabilities (channel "kind") and ``w_type_class`` > 0; else (None, ()). The part is the
        probability of the named kinds times the share of the words that name kinds or colours
        (``TypeReader.share``)."""
        reader, kinds = self.embedder.bundle.types, self.index.kinds
        if (reader is None or kinds is None or kinds.dim != len(reader.names) or query.image is not None
                or not tower_text or not query.read_words or self.config.fusion.w_type_class <= 0):
            return None, ()
        ids, share = reader.share(tower_text, colour_words)
        if not ids:
            return None, ()
        return (lambda probs: share * kind_chance(probs, ids)), tuple(reader.names[i] for i in ids)
