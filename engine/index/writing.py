"""One writer of an index root at a time: a full build (``shopsight index``), a compaction (``--compact``) or a
serving worker's checkpoint; and ``in_turn``, a lock that waits its turn (one worker warming a backlog, one worker
reopening a rebuilt index).

Each publishes a snapshot by replacing ``CURRENT``, and each would publish its own: two at once, the one that
finished last would win, whatever it was made from (a compaction begun before a retraining would replace the new
build with vectors of the old bundle, which the data folder's bundle no longer opens). A lock file in the index root
(POSIX ``flock``: released when the process ends, even killed) lets one run; another stops at once with
``IndexBusyError`` naming the holder. Serving workers take it only to save a checkpoint (``server/state.py``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..errors import IndexBusyError

LOCK_FILE = ".writer.lock"


@contextlib.contextmanager
def exclusive(root: str | Path, what: str):
    """Hold the index root's writer lock for the block (``what``: "a full build", said to whoever finds it taken);
    ``IndexBusyError`` when another process holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no guard
        yield
        return
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+", encoding="utf-8") as fp:
        try:
            fcntl.flock(fp, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fp.seek(0)
            holder = fp.read().strip() or "another process"
            raise IndexBusyError(f"{holder} is writing the index in {root}; nothing was changed: run this again when it "
                                 "has finished") from None
        try:
            fp.seek(0)
            fp.truncate()
            fp.write(f"process {os.getpid()} ({what})")
            fp.flush()
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)


def holder(root: str | Path) -> str | None:
    """Who holds the index root's writer lock now ("process 1234 (a compaction)"), None when nobody does."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fp = open(Path(root) / LOCK_FILE, "a+", encoding="utf-8")
    except OSError:  # no index root (or not writable): nobody writes it
        return None
    with fp:
        try:
            fcntl.flock(fp, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            fp.seek(0)
            return fp.read().strip() or "another process"
        fcntl.flock(fp, fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def in_turn(path: str | Path):
    """An exclusive lock on ``path`` across processes, waited for (POSIX ``flock``; elsewhere none)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: each process goes on its own
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)
