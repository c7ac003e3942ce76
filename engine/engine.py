"""SearchEngine: the whole query flow, short enough to read at once.

    query -> price words read as filters, category words found (query_text) -> encoders + heads -> query vector
          -> filter mask -> planner (candidates, exact parts) -> late fusion -> near-duplicate collapse
          -> results with "why"; filters or a price order alone (no words, no photo) browse (browse.py)

Data folder: ``catalog.db`` (SQLite), ``features.db`` (tower feature cache), ``bundle/``, ``index/`` (snapshots).
The catalogue is the source of truth: the index catches up with its changes, any process's, before searching.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Iterable, Sequence

import numpy as np

from . import (anchor, browse, comparative, fusion, lexicon, paging, photo_parts, product_vectors, query_rewrite, refine,
               spelling, synonyms)
from .backlog import Backlog
from .catalog import Catalog
from .config import EngineConfig
from .domain_fit import catalogue_fit
from .encoders.bundle import ModelBundle
from .encoders.embedder import Embedder
from .encoders.extras import photo_extras_of
from .index.product_index import ProductIndex, current_snapshot
from .planner import QueryVectors, retrieve
from .query_encoding import QueryEncoder
from .query_text import CategoryWords, understand, what_was_read
from .rerank import collapse_duplicates, local_rerank, pictured
from .trust import trust
from .types import Candidate, Candidates, Product, Query, SearchResponse, SearchResult
from .unheard import Unheard
from .validation import validate_query

log = logging.getLogger(__name__)
REFIT_SHARE, REFIT_MIN = 0.2, 50  # re-measure the shared-space fit past this change in live products


def limit_blas_threads() -> None:
    """A quarter of the cores for numpy's BLAS: its spinning workers starve torch's (engine/__init__.py)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    from . import BLAS_THREADS

    threadpool_limits(limits=BLAS_THREADS, user_api="blas")


class SearchEngine:
    def __init__(self, config: EngineConfig, catalog: Catalog, embedder: Embedder, index: ProductIndex):
        limit_blas_threads()
        embedder.look_stats, embedder.look_colour_weight = index.look_stats, index.look_colour_weight
        embedder.keep_cells = index.cells is not None  # photos embedded from now on keep their cells
        embedder.keep_extras = photo_extras_of(index.photo_channels)  # ... and their signatures, palettes
        self.boosts = fusion.standing_boosts(config.boosts, config.out_of_stock)
        self.config = config
        self.catalog = catalog
        self.embedder = embedder
        self.index = index
        self._fit_base = len(index)  # live products when the shared-space fit was last measured
        self.unheard = Unheard(config.path / "unheard.db") if config.log_unheard else None
        self.backlog = Backlog(catalog, self._contents, lambda ps, cs: list(map(index.keeps_vectors_of, ps, cs)),
                               lambda products: product_vectors.vectors(embedder, index, products),
                               config.path / ".backlog.lock", restate=self._restate_read)

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, config: EngineConfig, bundle: ModelBundle | None = None) -> "SearchEngine":
        """Open the data directory; the index is loaded and brought up to date with the catalogue."""
        root = config.path
        bundle = bundle or ModelBundle.load(root / "bundle")
        catalog = Catalog(root / "catalog.db")
        embedder = Embedder.for_config(bundle, config)
        index = ProductIndex.load(root / "index", config.index, bundle.fingerprint, lambda: {p.id: p for p in catalog})
        engine = cls(config, catalog, embedder, index)
        engine.sync()
        return engine

    @classmethod
    def build(cls, config: EngineConfig, bundle: ModelBundle, progress: bool = False) -> "SearchEngine":
        """Embed every catalogue product from scratch and save a fresh index snapshot (``full_build.py``)."""
        from . import full_build

        return full_build.build(config, bundle, progress)

    # -- keeping the index current -----------------------------------------------------------
    def sync(self, defer_large: bool = False) -> int:
        """Apply catalogue changes made since the index's sequence; returns how many were applied.
        ``defer_large`` (searches, API writes): deletions at once, the rest in steps when many (a large window read
        in the background, ``backlog.RELABEL_STEP`` products whose vectors stay and ``backlog.STEP`` warm ones to
        embed a search; ``engine/backlog.py``)."""
        seq = self.catalog.seq
        if seq == self.index.seq:
            return 0
        with self.index.lock:
            deleted = self.backlog.read(self.index.seq, seq, defer_large)
            self.index.remove_many(deleted)
            keep, embed, complete = self.backlog.plan(defer_large)
            relabelled, now = self._relabel_unchanged(keep + embed, self.backlog.contents(keep + embed))  # (checked under
            # the lock: a product an API write embedded since it was read is only restated; one to embed, embedded)
            for start in range(0, len(now), product_vectors.CHUNK):  # a chunk's vectors in memory at a time
                self._embed_and_upsert(now[start:start + product_vectors.CHUNK], progress=False)
            self.backlog.applied(relabelled + now)
            applied = len(relabelled) + len(now) + len(deleted)
            self.index.changed_since_save += applied
            if complete:
                self.index.seq = self.backlog.finish(self.index.seq)
                self._refresh_fit()
        return applied

    def _refresh_fit(self) -> None:
        """Re-measure the shared space's fit once the catalogue has grown or shrunk by more than a fifth (at
        least 50 products) since it was measured, products added while serving too (stored vectors only: ms)."""
        n, base = len(self.index), self._fit_base
        if abs(n - base) > max(REFIT_MIN, REFIT_SHARE * base):
            self.index.shared_fit = catalogue_fit(self.index)
            self._fit_base = n

    def _restate_read(self, products: list[Product]) -> None:
        """The backlog reader's chunk restated now (feeds do not wait for searches), unless the index lock stays busy
        (a sync that applies everything may be waiting for the reading: it restates them itself)."""
        if self.index.lock.acquire(timeout=0.05):
            try:
                relabelled = self._relabel_unchanged(products, self.backlog.contents(products))[0]
                self.backlog.applied(relabelled)
                self.index.changed_since_save += len(relabelled)
            finally:
                self.index.lock.release()

    def _contents(self, products: list[Product]) -> list[int]:
        return [product_vectors.content(p, self.catalog.root) for p in products]

    def _relabel_unchanged(self, changed: list[Product], contents: list[int] | None = None):
        """Apply at once those of ``changed`` whose text and photo files are as indexed (a price feed, new
        attributes: ``ProductIndex.relabel``, no vectors computed); returns (them, the others: to embed).
        ``contents``: their fingerprints when taken already (``Backlog.contents``)."""
        keep = list(map(self.index.keeps_vectors_of, changed, self._contents(changed) if contents is None else contents))
        same = [p for p, k in zip(changed, keep) if k]
        self.index.relabel(same)
        return same, [p for p, k in zip(changed, keep) if not k]

    def _embed_and_upsert(self, products: list[Product], progress: bool, feats: np.ndarray | None = None,
                          keys: list[str] | None = None) -> None:
        """Embed and index ``products`` (``product_vectors.vectors``)."""
        if not products:
            return
        photo_vecs, text_vecs = product_vectors.vectors(self.embedder, self.index, products, progress, feats, keys)
        contents = self._contents(products)
        if len({p.id for p in products}) == len(products):
            self.index.upsert_many(products, photo_vecs, text_vecs, contents)
            return
        at = 0  # one id twice (an API batch): in order, the last one stays
        with self.index.lock:
            for p, tv, c in zip(products, text_vecs, contents):
                n = len(p.images)
                self.index.upsert(p, {k: v[at:at + n] for k, v in photo_vecs.items()}, tv, c)
                at += n

    # -- categories from photos ---------------------------------------------------------------
    def category_model(self):
        """The shop's category prototypes (rebuilt when the catalogue has changed)."""
        from .categorize import build_category_model

        cached = getattr(self, "_category_cache", None)
        if cached is None or cached[0] != self.index.seq:
            self._category_cache = (self.index.seq, build_category_model(self.index, self.embedder.embed_texts))
        return self._category_cache[1]

    def predict_category(self, photo_vec: np.ndarray, exclude_rows: Sequence[int] = ()) -> str | None:
        """The category path predicted for a query photo; products in ``exclude_rows`` (the query's
        excluded products, e.g. the product a "more like this" query starts from) do not vote."""
        model = self.category_model()
        if model is None:
            return None
        return model.predict(photo_vec, top=1, exclude_rows=[list(exclude_rows)] if exclude_rows else None)[0][0][0]

    def fill_missing_categories(self) -> int:
        """Predict a category for every product with photos and none given; stored as predicted."""
        from .categorize import fill_missing

        return fill_missing(self)

    def warm(self) -> None:
        """Load both towers and run one tiny query through each (with the cells' passes when the index
        keeps cells: their ONNX exports happen here), and read the shop's category words (with the aliases
        its texts teach, about 0.2 s), so the first real query is fast."""
        from PIL import Image

        self.embedder.embed_pil([Image.new("RGB", (32, 32), "white")],
                                cell_scales=photo_parts.cell_scales(self.config, self.index, self.config.fusion.w_local))
        self.embedder.embed_query_text("warm-up")
        if self.config.read_categories:
            self.category_words()
        spelling.known_words(self.catalog, self.config.typo_languages)  # the words typo correction leaves alone (read once)

    def add_products(self, products: Iterable[Product], keep_photos_of: Sequence[str] = ()) -> int:
        """Store products in the catalogue and make them searchable at once; returns the sequence.
        Products in ``keep_photos_of`` sent without photos keep their stored ones (``Catalog.upsert``)."""
        products = list(products)
        self.embedder.image_features([i for p in products for i in p.images])  # warm the cache first
        self.embedder.text_features([p.text() for p in products], "passage")
        seq = self.catalog.upsert(products, keep_photos_of)
        stored = list(self.catalog.get_many(p.id for p in products).values())
        self.backlog.warmed(stored)  # their tower passes ran above: they count as warm
        self.sync(defer_large=True)
        if self.index.seq < seq:  # another process's large backlog is warming: these go in now, the rest when warm
            with self.index.lock:
                self._embed_and_upsert(self._relabel_unchanged(stored)[1], progress=False)
                self._refresh_fit()
        return seq

    def delete_product(self, product_id: str) -> int:
        seq = self.catalog.delete(product_id)
        self.sync(defer_large=True)
        return seq

    def save(self) -> None:
        self.sync()
        self.index.save(self.config.path / "index")

    def replaced_by(self) -> str | None:
        """The snapshot folder of another full build that has replaced this engine's index in the data folder
        (``shopsight index`` ran since it opened), else None (a later save of the same build is no replacement:
        the catalogue's changes reach this engine by ``sync``)."""
        now = current_snapshot(self.config.path / "index")
        if now is None or now[0] == self.index.folder:
            return None
        if now[1] == self.index.build_id:
            self.index.folder = now[0]
            return None
        return now[0]

    # -- querying ------------------------------------------------------------------------------
    def search(self, query: Query, vectors: QueryVectors | None = None) -> SearchResponse:
        """``vectors``: the photo query's vectors, read beforehand (``similar``: a stored product's photo)."""
        t0 = time.perf_counter()
        shop = synonyms.load(self.config.synonyms_path)  # (read again only when the file changed)
        query, rewritten = query_rewrite.rewrite(query, self.config, self.catalog, self.embedder.bundle.colours, shop)
        asked = query.sort
        query, understood = understand(query, self.config.read_prices, self.config.read_orders) if query.read_words else (query, None)
        if browse.wanted(query, understood):  # filters alone: a category page, a price band ("under 30")
            return replace(browse.browse(self, query), understood=understood.as_dict() if understood else None)
        validate_query(query)
        self.sync(defer_large=True)
        t_sync = time.perf_counter()
        qv = vectors if vectors is not None else self.query_vectors(query)
        page, understood = comparative.relative(self, query, qv, understood, asked)  # "this, but cheaper"
        query = paging.ranking_query(page)
        words = self._words(qv.tower_text or query.text, shop.groups)
        t_enc = time.perf_counter()
        for _ in range(3):
            with self.index.lock:
                qv_a, anchored = self._anchor(query, qv)
                t_anchor = time.perf_counter()
                response, complete = self._search_vector(
                    query, qv_a, words, timings={"sync": _ms(t0, t_sync), "encode": _ms(t_sync, t_enc),
                                          **({"anchor": _ms(t_enc, t_anchor)} if anchored else {})})
                if anchored:
                    response = replace(response, understood={**(response.understood or {}), **anchored})
            if complete:
                break
            self.sync(defer_large=True)  # a product vanished from the catalogue mid-search: catch up and retry
        if words is not None and self.unheard is not None and page.offset == 0:  # (no lock held: it writes)
            self.unheard.record(lexicon.unheard(qv.tower_text or query.text, words))
        ordered = paging.in_order(response.results, page.sort, self.config.rerank.sort_floor)
        response = replace(response, results=paging.cut(ordered, page),
                           ordered=None if page.sort == "relevance" else len(ordered))
        response.timings_ms["total"] = _ms(t0, time.perf_counter())
        return replace(response, understood=what_was_read(understood, response.understood, rewritten, query.text, qv))

    def category_words(self) -> CategoryWords:
        """The shop's category names as words, with the words naming one category in its own texts
        (``query_text.aliases``, from up to 20,000 products); rebuilt when a category is added."""
        cached = getattr(self, "_category_words", None)
        if cached is None or cached.size != len(self.index.table.categories):
            self._category_words = cached = CategoryWords(list(self.index.table.categories),
                                                          self.catalog.category_texts())
        return cached

    def query_vectors(self, query: Query) -> QueryVectors:
        """The query in every space it is compared in (``query_encoding.QueryEncoder``)."""
        return self._encoder().vectors(query)

    def colour_words(self, query: Query) -> tuple[list[str], np.ndarray | None]:
        return self._encoder().colour_words(query)

    def _encoder(self) -> QueryEncoder:
        return QueryEncoder(self.config, self.index, self.embedder, self.catalog)  # the config in force now

    def _search_vector(self, query: Query, qv: QueryVectors, terms: lexicon.Words | None, timings: dict
                       ) -> tuple[SearchResponse, bool]:
        t0 = time.perf_counter()
        table = self.index.table
        mask = table.select(query.filters)
        excluded = [table.row_of[pid] for pid in query.exclude_ids if pid in table.row_of]
        if query.exclude_ids and mask is None:
            mask = table.alive.copy()
        if excluded:
            mask[excluded] = False
        matching = table.n_alive if mask is None else int(np.count_nonzero(mask))  # 3x faster than sum()
        n_cand = max(self.config.rerank.candidates, 4 * query.k)
        term_rows = self._word_matches(terms, mask)
        found = retrieve(self.index, qv, mask, n_cand, self.config.index, matching, also=term_rows)
        t1 = time.perf_counter()
        predicted = self.predict_category(qv.photo, excluded) if qv.photo is not None else None
        words, word_fit = ([], None)
        if query.text and query.read_words and self.config.read_categories and not query.preferences.category:
            words, word_fit = self.category_words().match(query.text)
        trusted = trust(self.index.shared_fit, self.config.fusion, qv, word_fit)

        def fused(cands):
            return fusion.fuse(cands, table, query.preferences, self.config.fusion, predicted, word_fit, trusted,
                               self.boosts, None if qv.photo is not None else pictured(self.index, cands.rows))
        cands = found.candidates
        if terms is not None:  # the words' part for the best candidates without it and those the words found
            keep = np.union1d(fused(cands).top(n_cand).rows, term_rows)
            cands = self._with_lexical(cands.take(np.flatnonzero(np.isin(cands.rows, keep))), terms)
        ranked = fused(cands).top(n_cand)
        if qv.cells is not None or qv.palette is not None:
            w_local, w_shot, w_palette = photo_parts.weights(self.config, query, self.embedder.bundle.colours)
            ranked = local_rerank(self.index, ranked, qv.cells or (), w_local, self.config.rerank.local_candidates,
                                  (w_shot, self.config.rerank.same_shot_from), (w_palette, qv.palette))
        t2 = time.perf_counter()
        final = self._collapse(ranked.to_list(), query.k)
        t3 = time.perf_counter()
        timings.update(retrieve=_ms(t0, t1), fuse=_ms(t1, t2), rerank=_ms(t2, t3))
        results = self._results(final)
        read = {**({"category_words": words} if words else {}),
                **({"colours": list(qv.colour_words)} if qv.colour_words else {}),
                **({"not_within_filters": out} if (out := refine.words_outside(table, mask, words, word_fit)) else {})}
        narrow = refine.counts(table, ranked, self.config.rerank.sort_floor)
        return (SearchResponse(tuple(results), timings, found.plan, matching, predicted, read or None, refine=narrow),
                len(results) == len(final))

    def _words(self, text: str | None, groups: dict) -> lexicon.Words | None:
        """``text`` weighed by the catalogue with the synonyms ``groups`` (``lexicon.weigh``; None: part off)."""
        if not text or self.config.fusion.w_lexical <= 0 or not self.catalog.lexical:
            return None
        return self.catalog.words(text, groups)

    def _word_matches(self, words: lexicon.Words | None, mask: np.ndarray | None) -> np.ndarray | None:
        """The index rows (in ``mask``) of the products the words find (``lexicon.matches``)."""
        if words is None:
            return None
        row_of = self.index.table.row_of
        rows = [row_of[pid] for pid in self.catalog.word_matches(words, self.config.rerank.word_candidates)
                if pid in row_of]
        return np.asarray([r for r in rows if mask is None or mask[r]], np.int64)

    def _with_lexical(self, cands: Candidates, words: lexicon.Words) -> Candidates:
        """``cands`` with part ``lexical``: each candidate's share of the words' weight (read from the
        catalogue for each: 3 µs a candidate, which is why only the likeliest get it)."""
        ids = self.index.table.ids
        part, whole = self.catalog.word_parts(words, [ids[r] for r in cands.rows.tolist()])
        return Candidates(cands.rows, cands.scores, {**cands.parts, "lexical": np.asarray(part, np.float32),
                                                     "all_words": np.asarray(whole, np.float32)})

    def _anchor(self, query: Query, qv: QueryVectors) -> tuple[QueryVectors, dict]:
        """Photo + text: the catalogue photo the query photo shows (a photo-only search, filters
        aside: the anchor is what the shopper holds, not what they want) stands in for it, ``rerank.anchor``
        of the way (``engine/anchor.py``); returns the query vectors and what the response's ``understood``
        says of it: the anchor's product id and title ({}: not anchored)."""
        if not photo_parts.anchors(self.config, query) or qv.photo_look is None or (
                shows := self.shown_product(query, qv)) is None:
            return qv, {}
        moved = anchor.anchor_on(self.index, qv, self.index.table.row_of[shows.id], query.image_weight,
                                 query.text_weight, self.config.rerank.anchor)
        return (qv, {}) if moved is None else (moved, {"anchor": shows.id, "anchor_title": shows.title})

    def shown_product(self, query: Query, qv: QueryVectors) -> Product | None:
        """The product the query's photo shows: a photo-only search's first result, filters aside."""
        with self.index.lock:
            if len(self.index) == 0:
                return None
            found, _ = self._search_vector(Query(image=query.image, k=1), anchor.photo_only(qv), None, timings={})
        return found.results[0].product if found.results else None

    def _collapse(self, ranked: list[Candidate], k: int) -> list[Candidate]:
        cfg = self.config.rerank
        return collapse_duplicates(self.index, ranked, cfg.duplicate_threshold, k, cfg.same_photo_distance,
                                   cfg.fold_price_gap) if cfg.collapse_duplicates else ranked[:k]

    def _results(self, cands: list[Candidate]) -> list[SearchResult]:
        ids = self.index.table.ids
        products = self.catalog.get_many([ids[c.row] for c in cands] +
                                         [ids[d] for c in cands for d in c.duplicates])
        return [SearchResult(products[ids[c.row]], c.score, dict(c.parts),
                             tuple(ids[d] for d in c.duplicates)) for c in cands if ids[c.row] in products]


def _ms(a: float, b: float) -> float:
    return (b - a) * 1000.0

