"""A serving worker and its index (server/state.py): a rebuilt index opened in the background without a restart,
workers reopening one at a time, and the worker's own checkpoints."""

import logging
import shutil
import subprocess
import sys
import time
from dataclasses import replace

from engine.catalog import Catalog
from engine.encoders.bundle import ModelBundle
from engine.engine import SearchEngine
from server import create_app, state

from tests.api_client import KEY


def _health_when(web, ready, seconds: float = 60.0) -> dict:
    """/api/health once ``ready(health)`` holds (requests go on while a worker reopens in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        health = web.get("/api/health").get_json()
        if ready(health) or time.monotonic() > deadline:
            return health
        time.sleep(0.1)


def _served_copy(built_shop, tmp_path, monkeypatch, **settings):
    """A worker (test client) on a copy of the built shop with ``settings``, looking after its index at every request;
    (client, config, its first /api/health, a second Catalog on it: another process's feed)."""
    shutil.copytree(built_shop.path, tmp_path / "shop")
    cfg = replace(built_shop, data_dir=str(tmp_path / "shop"), **settings)
    web = create_app(cfg, api_key=KEY).test_client()
    first = web.get("/api/health").get_json()
    monkeypatch.setattr(state, "RELOAD_CHECK_S", 0.0)
    return web, cfg, first, Catalog(cfg.path / "catalog.db")


def test_a_rebuilt_index_is_served_without_a_restart(built_shop, tmp_path, monkeypatch):
    """`shopsight index` run beside a serving worker: the worker opens the new build in the background and serves
    it; a later save of the same build (categories filled in) is no rebuild; a build that fails to open is left."""
    web, cfg, before, _ = _served_copy(built_shop, tmp_path, monkeypatch)
    assert web.get("/api/health").get_json()["build"] == before["build"]  # nothing rebuilt: nothing reopened
    rebuilt = SearchEngine.build(cfg, ModelBundle.load(cfg.path / "bundle"))  # another process's `shopsight index`
    after = _health_when(web, lambda h: h["build"] != before["build"])
    assert after["build"] == rebuilt.index.build_id and after["snapshot"] == rebuilt.index.folder
    assert web.post("/api/search", json={"text": "mug"}).status_code == 200
    slot = web.application.extensions["shopsight"]
    _health_when(web, lambda h: slot["reloading"] is None)  # the old index collected: the reopening is over
    serving = slot["engine"]
    rebuilt.save()  # the same build saved again: served by sync, not reopened
    web.get("/api/health")
    assert slot["reloading"] is None and slot["engine"] is serving and serving.index.folder == rebuilt.index.folder
    monkeypatch.setattr(SearchEngine, "open", classmethod(lambda cls, config: 1 / 0))
    SearchEngine.build(cfg, ModelBundle.load(cfg.path / "bundle"))
    failed = _health_when(web, lambda h: slot["failed"] is not None)
    assert failed["build"] == after["build"] and web.post("/api/search", json={"text": "mug"}).status_code == 200


def test_workers_reopen_a_rebuilt_index_one_at_a_time(built_shop, tmp_path, monkeypatch):
    """While another worker of the machine reopens (it holds the index root's reopen lock), this one waits its turn
    and serves the old index meanwhile."""
    web, cfg, first, _ = _served_copy(built_shop, tmp_path, monkeypatch)
    before = first["build"]
    other = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom engine.index import writing\n"
                              "with writing.in_turn(sys.argv[1]):\n    print('reopening', flush=True)\n"
                              "    sys.stdin.readline()\n", str(cfg.path / "index" / state.REOPEN_LOCK)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "reopening"
        rebuilt = SearchEngine.build(cfg, ModelBundle.load(cfg.path / "bundle"))
        waited = _health_when(web, lambda h: h["build"] != before, seconds=2.0)
        assert waited["build"] == before and web.post("/api/search", json={"text": "mug"}).status_code == 200
        other.stdin.write("done\n")
        other.stdin.flush()
        assert _health_when(web, lambda h: h["build"] != before)["build"] == rebuilt.index.build_id
    finally:
        other.kill()
        other.wait()
        other.stdin.close()
        other.stdout.close()


def test_a_worker_saves_a_checkpoint_after_many_changes_and_others_do_not_reopen_it(built_shop, tmp_path, monkeypatch):
    web, cfg, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, checkpoint_changes=30)
    other = create_app(cfg, api_key=KEY).test_client()  # a second worker
    other.get("/api/health")
    feed.upsert([p.with_(price=2.5) for p in list(feed)[:20]])
    web.post("/api/search", json={"text": "mug"})  # 20 applied: under 30, nothing saved
    assert _health_when(web, lambda h: False, seconds=0.3)["snapshot"] == first["snapshot"]
    feed.upsert([p.with_(price=3.5) for p in list(feed)[20:40]])
    web.post("/api/search", json={"text": "mug"})  # 40 applied
    saved = _health_when(web, lambda h: h["snapshot"] != first["snapshot"])
    assert saved["build"] == first["build"] and saved["snapshot"] != first["snapshot"]
    assert SearchEngine.open(cfg).index.saved_seq == feed.seq  # a worker starting now has nothing to catch up
    slot = other.application.extensions["shopsight"]
    serving = slot["engine"]
    other.post("/api/search", json={"text": "mug"})
    seen = _health_when(other, lambda h: slot["checkpointing"] is None and h["snapshot"] == saved["snapshot"])
    assert slot["engine"] is serving and seen["build"] == first["build"]  # the same build: not reopened
    assert seen["snapshot"] == saved["snapshot"]  # and not saved again
    assert serving.index.changed_since_save == 0  # the checkpoint as far as its own: noted, not saved again


def test_checkpoints_can_be_switched_off(built_shop, tmp_path, monkeypatch):
    web, _, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, checkpoint_changes=0)
    feed.upsert([p.with_(price=2.5) for p in list(feed)[:100]])
    web.post("/api/search", json={"text": "mug"})
    assert _health_when(web, lambda h: False, seconds=0.5)["snapshot"] == first["snapshot"]


def test_a_worker_never_checkpoints_by_writing_whole_stores(built_shop, tmp_path, monkeypatch, caplog):
    """Past a quarter of its rows added since the build, a store's save is a whole copy: a worker leaves that to
    `shopsight index --compact` and stops checkpointing, saying so."""
    web, _, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, checkpoint_changes=10)
    feed.upsert([p.with_(id=f"{p.id}-new", title=f"{p.title} new") for p in list(feed)[:120]])  # 120 rows on 328
    slot = web.application.extensions["shopsight"]
    with caplog.at_level(logging.WARNING, logger="server.state"):
        for _ in range(600):  # searches apply the new products (warmed in the background first), then the check
            web.post("/api/search", json={"text": "mug"})
            if slot["no_checkpoints"] and slot["checkpointing"] is None:
                break
            time.sleep(0.1)
    assert slot["no_checkpoints"] and "shopsight index --compact" in caplog.text
    assert web.get("/api/health").get_json()["snapshot"] == first["snapshot"]


def test_a_workers_second_checkpoint_links_the_vectors_files_as_its_first(built_shop, tmp_path, monkeypatch):
    """Each checkpoint's snapshot shares the vectors files of the one before (hard links: at 1M products a copy is
    38 GB), the second one of a process too (its stores once remembered the first's temporary folder)."""
    web, cfg, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, checkpoint_changes=10)
    root = cfg.path / "index"
    inodes = {f.name: f.stat().st_ino for f in (root / first["snapshot"]).glob("*.vectors.npy")}
    assert inodes
    seen = [first["snapshot"]]
    for price in (2.5, 3.5):
        feed.upsert([p.with_(price=price) for p in list(feed)[:20]])
        web.post("/api/search", json={"text": "mug"})
        seen.append(_health_when(web, lambda h: h["snapshot"] != seen[-1])["snapshot"])
        assert {f.name: f.stat().st_ino for f in (root / seen[-1]).glob("*.vectors.npy")} == inodes


def test_a_worker_compacts_the_index_in_another_process_when_asked_to(built_shop, tmp_path, monkeypatch):
    """``auto_compact``: past that share of dead rows a worker runs `shopsight index --compact` in another process,
    then opens the new build like any rebuild."""
    web, _, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, auto_compact=0.2)
    feed.delete_many(feed.ids()[:100])  # 100 of 328 products: 30 % of the rows dead once applied
    web.post("/api/search", json={"text": "mug"})
    assert web.get("/api/health").get_json()["rows_held"] == 328
    health = _health_when(web, lambda h: h["build"] != first["build"], seconds=180)
    assert health["build"] != first["build"] and health["rows_held"] == health["products"] == 228
    slot = web.application.extensions["shopsight"]
    assert _health_when(web, lambda h: slot["compacting"] is None)["rows_held"] == 228


def test_an_automatic_compaction_that_cannot_run_is_logged_and_not_retried_at_once(built_shop, tmp_path, monkeypatch,
                                                                                    caplog):
    from engine.index import writing

    web, cfg, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, auto_compact=0.2)
    feed.delete_many(feed.ids()[:100])
    slot = web.application.extensions["shopsight"]
    with writing.exclusive(cfg.path / "index", "a test holding the index"), \
            caplog.at_level(logging.WARNING, logger="server.state"):
        web.post("/api/search", json={"text": "mug"})
        _health_when(web, lambda h: slot["compacting"] is not None, seconds=30)
        _health_when(web, lambda h: slot["compacting"] is None, seconds=120)
    assert "automatic compaction stopped" in caplog.text and "a test holding the index" in caplog.text
    assert _health_when(web, lambda h: False, seconds=0.5)["build"] == first["build"] and slot["compacting"] is None


def test_a_worker_checkpoints_again_once_a_compaction_gave_it_a_new_build(built_shop, tmp_path, monkeypatch):
    """The stores that made a worker stop checkpointing (too many rows added to link) are gone once it serves the
    compacted build: it checkpoints again."""
    from engine import workflow

    web, cfg, first, feed = _served_copy(built_shop, tmp_path, monkeypatch, checkpoint_changes=10)
    feed.upsert([p.with_(id=f"{p.id}-new", title=f"{p.title} new") for p in list(feed)[:120]])
    slot = web.application.extensions["shopsight"]
    for _ in range(600):
        web.post("/api/search", json={"text": "mug"})
        if slot["no_checkpoints"] and slot["checkpointing"] is None:
            break
        time.sleep(0.1)
    assert slot["no_checkpoints"]
    workflow.compact_index(cfg)  # (another process: `shopsight index --compact`)
    compacted = _health_when(web, lambda h: h["build"] != first["build"] and slot["reloading"] is None)
    assert compacted["build"] != first["build"] and not slot["no_checkpoints"]
    feed.upsert([p.with_(price=4.5) for p in list(feed)[:20]])
    web.post("/api/search", json={"text": "mug"})
    saved = _health_when(web, lambda h: h["snapshot"] != compacted["snapshot"])
    assert saved["build"] == compacted["build"] and saved["snapshot"] != compacted["snapshot"]
