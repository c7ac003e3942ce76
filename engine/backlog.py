"""Catalogue changes a serving engine has not applied yet, and when it applies them.

Before every search the engine catches its index up with the catalogue (``SearchEngine.sync``): products
written by this process, another worker or another process (``shopsight import`` while the server runs).
A few changes (an API write, a price feed: prices need no tower pass) cost the next search little. A large
batch of new photos would make that search run the image tower over every one of them, about 30 photos a
second on two cores, while it holds the index lock: a 10,000-product import would stall every search of
every worker for minutes. Past ``INLINE`` changed products, ``Backlog.ready`` says "not yet" and starts a
thread that computes their vectors ahead (``product_vectors.vectors``: every tower pass lands in the shared
feature cache, keyed by the photo's content); deletions apply at once, and searches go on over the index
as it is. Once the backlog is warm, the next search applies it from the cache (file reads, cache lookups,
the heads). A lock file (``<data_dir>/.backlog.lock``) lets one worker process's warming run at a time: the
next finds the features cached. A warming that fails is logged and the backlog applied as before (inline).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Callable

from .types import Product

log = logging.getLogger(__name__)
INLINE = 64  # changed products a search applies itself; more are warmed in the background first
CHUNK = 512  # products warmed per step (each step's tower passes are cached as they finish)


class Backlog:
    def __init__(self, warm: Callable[[list[Product]], object], lock_path: Path, inline: int = INLINE):
        self._warm = warm
        self._lock_path = Path(lock_path)
        self.inline = inline
        self._warm_keys: set[tuple] = set()  # (id, photos, text) of the changed products whose vectors are computed
        self._pending: tuple[int, list[Product], list[str]] | None = None  # (seq, changed, deleted) last read
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()
        self._cold: tuple[tuple | None, list[Product]] = (None, [])  # (pending seq, warm count): the last cold products

    def changes(self, seq: int, read: Callable[[], tuple[list[Product], list[str]]]) -> tuple[list[Product], list[str]]:
        """The changes up to ``seq`` (read once per sequence: a search during warming does not read them again)."""
        if self._pending is None or self._pending[0] != seq:
            changed, deleted = read()
            self._pending = (seq, changed, deleted)
        return self._pending[1], self._pending[2]

    def ready(self, changed: list[Product]) -> bool:
        """Whether ``changed`` (the changes not yet applied) may be applied now: at most ``inline`` of them are
        still cold (not warmed as they are now: a product changed again since is cold again); if not, the
        cold ones are being warmed."""
        pending = self._pending[0] if self._pending is not None and changed is self._pending[1] else None
        seen = (pending, len(self._warm_keys))  # the same pending changes, nothing warmed since: the same answer
        if pending is not None and self._cold[0] == seen:
            cold = self._cold[1]
        else:
            cold = [p for p in changed if _key(p) not in self._warm_keys]
            self._cold = (seen, cold)
        if len(cold) <= self.inline:
            return True
        with self._mutex:
            if self._thread is None or not self._thread.is_alive():
                log.info("%d changed products: computing their vectors in the background", len(cold))
                self._thread = threading.Thread(target=self._run, args=(cold,), daemon=True, name="backlog")
                self._thread.start()
        return False

    def warmed(self, products) -> None:
        """``products`` (as stored) need no warming: their caller computed their features already."""
        self._warm_keys.update(_key(p) for p in products)

    def applied(self) -> None:
        self._pending = None
        self._warm_keys.clear()
        self._cold = (None, [])

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warming thread, if any (tests, benchmarks); True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _run(self, cold: list[Product]) -> None:
        done = 0
        try:
            with _file_lock(self._lock_path):
                for start in range(0, len(cold), CHUNK):
                    chunk = cold[start:start + CHUNK]
                    self._warm(chunk)
                    self._warm_keys.update(_key(p) for p in chunk)
                    done += len(chunk)
        except Exception:  # a photo the towers cannot read: the inline path meets (and reports) it as before
            log.exception("warming %d changed products failed; the next search applies them itself", len(cold))
            self._warm_keys.update(_key(p) for p in cold[done:])


def _key(product: Product) -> tuple:
    return product.id, product.images, product.text()


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock on ``path`` across processes (POSIX ``flock``; elsewhere none)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: each process warms on its own
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)
