"""The per-worker engine: opened lazily on first use, once per process, and opened again in the background when a
full build (``shopsight index``, or its ``--compact``) replaced the index it serves.

Every ``RELOAD_CHECK_S`` seconds a request asks whether the data folder's current snapshot is of another build
(``SearchEngine.replaced_by``: two small file reads). If so a thread opens and warms the new one while the old one
goes on serving, then swaps it in: no request waits for it, and for that while the worker holds both indexes
(their mapped files are shared by every worker through the page cache); the workers take turns (a lock file in the
index root), so the machine holds one extra index at a time, not one a worker. A snapshot that fails to open is
logged and left (the old index goes on serving) until another build replaces it.

The same check saves a checkpoint once the worker has applied ``checkpoint_changes`` product changes (feeds, API
writes) since its snapshot: the caught-up index as a snapshot of the same build, so that a worker starting later
(a restart, a deploy) catches up from there and not from the build (1M products after five 100k feeds: open 19.1
-> 3.0 s). It runs in the background under the index writer lock (one writer; another worker that finds a
checkpoint as far as its own only notes it) and holds the index lock while it writes (links, tail files, the
row arrays and ANN files). The other workers see a snapshot of their own build and do not reopen it.

With ``auto_compact`` set, the same check runs ``shopsight index --compact`` in another process once that share of
the index's product rows is dead or a store has more than a quarter of its rows added since the build (at most once
an hour a worker); the new build it publishes is then opened like any other.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

from flask import Flask, current_app

from engine.config import EngineConfig, config_to_dict
from engine.engine import SearchEngine
from engine.errors import IndexBusyError
from engine.index import writing
from engine.index.product_index import current_snapshot, snapshot_seq
from engine.index.compact import DUE_DEAD_SHARE, dead_share, whole_stores

log = logging.getLogger(__name__)
_lock = threading.Lock()
RELOAD_CHECK_S = 5.0  # how often a worker looks for a rebuilt index
RELEASE_WAIT_S = 2.0  # after the swap, before the old index's memory is collected and handed back
REOPEN_LOCK = ".reopen.lock"  # in the index root: the workers of a machine reopen a rebuilt index one after another
AUTO_COMPACT_AGAIN_S = 3600.0  # a worker's next automatic compaction is considered this long after its last one


def init_app(app: Flask) -> None:
    app.extensions["shopsight"] = {"engine": None, "checked": 0.0, "reloading": None, "failed": None,
                                   "checkpointing": None, "no_checkpoints": False, "compacting": None,
                                   "compacted_at": -AUTO_COMPACT_AGAIN_S}


def get_engine() -> SearchEngine:
    slot = current_app.extensions["shopsight"]
    if slot["engine"] is None:
        with _lock:
            if slot["engine"] is None:
                engine = SearchEngine.open(current_app.config["ENGINE_CONFIG"])
                engine.warm()
                slot["engine"], slot["checked"] = engine, time.monotonic()
                _hint_compaction(engine)
    else:
        _look_after_the_index(slot, current_app.config["ENGINE_CONFIG"])
    return slot["engine"]


def _hint_compaction(engine: SearchEngine) -> None:
    share = dead_share(engine.index)
    if share > DUE_DEAD_SHARE:
        log.warning("%.0f %% of the index's product rows are those of deleted or re-embedded products (memory, disk and "
                    "scan time): `shopsight index --compact` rewrites it without them, no restart needed", 100 * share)


def _look_after_the_index(slot: dict, config: EngineConfig) -> None:
    now = time.monotonic()
    if now - slot["checked"] < RELOAD_CHECK_S or slot["reloading"] is not None:
        return
    with _lock:
        if now - slot["checked"] < RELOAD_CHECK_S or slot["reloading"] is not None:
            return
        slot["checked"] = now
        try:
            folder = slot["engine"].replaced_by()
        except OSError as e:  # (a snapshot pruned while read: asked again at the next check)
            log.debug("could not read the current index snapshot: %s", e)
            return
        if folder is not None and folder != slot["failed"]:
            slot["reloading"] = threading.Thread(target=_reopen, args=(slot, config, folder), name="reopen", daemon=True)
            slot["reloading"].start()
        elif (config.checkpoint_changes > 0 and slot["checkpointing"] is None and not slot["no_checkpoints"]
              and slot["engine"].index.changed_since_save >= config.checkpoint_changes):
            slot["checkpointing"] = threading.Thread(target=_checkpoint, args=(slot, slot["engine"], config),
                                                     name="checkpoint", daemon=True)
            slot["checkpointing"].start()
        elif slot["compacting"] is None and now - slot["compacted_at"] >= AUTO_COMPACT_AGAIN_S:
            reason = _compaction_due(slot["engine"], config.auto_compact)
            if reason:
                slot["compacting"] = threading.Thread(target=_compact, args=(slot, config, reason), name="compact",
                                                      daemon=True)
                slot["compacting"].start()


def _compaction_due(engine: SearchEngine, share: float) -> str | None:
    """Why the index wants compacting (``auto_compact`` > 0, its backlog applied), else None."""
    if share <= 0 or engine.catalog.seq != engine.index.seq:
        return None
    dead = dead_share(engine.index)
    if dead > share:
        return f"{100 * dead:.0f} % of its product rows are dead"
    whole = whole_stores(engine.index)
    return f"{', '.join(whole)}: more than a quarter of their rows added since the build" if whole else None


def _compact(slot: dict, config: EngineConfig, reason: str) -> None:
    """``shopsight index --compact`` in another process (its own memory and interpreter: the workers go on serving,
    then reopen the new build in turn); one writer at a time, so a second worker's try stops at once."""
    log.info("compacting the index in another process: %s", reason)
    path = None
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config_to_dict(config), f)
            path = f.name
        done = subprocess.run([sys.executable, "-m", "engine.cli", "--config", path, "-q", "index", "--compact"],
                              capture_output=True, text=True)
        if done.returncode:
            log.warning("the automatic compaction stopped (exit %d): %s", done.returncode, done.stderr.strip()[-500:])
        else:
            log.info("the automatic compaction is done: %s", done.stdout.strip()[-300:])
    except OSError as e:
        log.warning("could not start the automatic compaction: %s", e)
    finally:
        if path:
            os.unlink(path)
        slot["compacted_at"], slot["compacting"] = time.monotonic(), None


def _checkpoint(slot: dict, engine: SearchEngine, config: EngineConfig) -> None:
    """Save the worker's caught-up index as a snapshot of the same build (links and tail files, ``VectorIndex.save``),
    so a worker starting later catches up from there; one writer at a time, and none when another worker already
    saved one as far or a rebuild replaced the build (its reopening comes next)."""
    root = config.path / "index"
    try:
        with writing.exclusive(root, "a serving worker's checkpoint"):
            current = current_snapshot(root)
            if current is None or current[1] != engine.index.build_id or engine.catalog.seq != engine.index.seq:
                return  # rebuilt (reopened next), or a backlog still being applied (asked again at the next check)
            if snapshot_seq(current[0]) >= engine.index.seq:  # another worker's checkpoint is as far
                engine.index.changed_since_save = 0
                return
            whole = whole_stores(engine.index)
            if whole:  # rows added since the build: a save would write these stores out whole under the index lock
                slot["no_checkpoints"] = True
                log.warning("no more checkpoints by this worker: the rows added since the index was built would have "
                            "it write %s out whole; `shopsight index --compact` (another process) does that", whole)
                return
            t, changes = time.perf_counter(), engine.index.changed_since_save
            engine.index.save(root)
            log.info("saved a checkpoint of the index (%d product changes since its snapshot) in %.1f s", changes,
                     time.perf_counter() - t)
    except IndexBusyError:  # a build, a compaction or another worker's checkpoint: asked again at the next check
        pass
    except OSError as e:  # a read-only data folder, a full disk: said once
        slot["no_checkpoints"] = True
        log.warning("could not save a checkpoint of the index (%s); this worker will not try again", e)
    finally:
        slot["checkpointing"] = None



def _reopen(slot: dict, config: EngineConfig, folder: str) -> None:
    try:
        with writing.in_turn(config.path / "index" / REOPEN_LOCK):  # one worker at a time holds two indexes
            t = time.perf_counter()
            engine = SearchEngine.open(config)
            engine.warm()
            slot["engine"], slot["failed"] = engine, None
            slot["no_checkpoints"] = False  # (a new build: its stores link again, and its folder took a save)
            _hint_compaction(engine)
            log.info("serving the rebuilt index %s (opened and warmed in %.1f s beside the old one)",
                     engine.index.folder, time.perf_counter() - t)
            del engine
            time.sleep(RELEASE_WAIT_S)  # the searches that had the old engine in hand are done by now, and
            gc.collect()  # its objects, which refer to each other, are freed now (not at some later collection)
            _return_freed_memory()  # and handed back before the next worker opens its copy
    except Exception:  # (whatever it is, the old index goes on serving)
        slot["failed"] = folder
        log.exception("could not open the rebuilt index %s; serving the one opened before", folder)
    finally:
        slot["reloading"] = None


def _return_freed_memory() -> None:
    """Hand the heap's free pages back to the system: glibc keeps them otherwise (a 1M-product worker held 2,951 MB
    after the swap instead of its 1,500 before it, the old index's million small Python objects freed but kept;
    1,783 MB with this; ``eval.reload_bench``, docs/bench/s31/reload_1m_catchup_500k*)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
