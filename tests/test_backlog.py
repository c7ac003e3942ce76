"""A large batch of catalogue changes made while serving (engine/backlog.py): searches go on over the index
as it is while the new products' vectors are computed in the background; deletions and API writes apply at
once; the backlog then applies from the feature cache."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from engine.catalog import Catalog
from engine.engine import SearchEngine
from engine.types import Query


@pytest.fixture()
def serving(built_shop, tmp_path):
    shutil.copytree(built_shop.path, tmp_path / "shop")
    engine = SearchEngine.open(replace(built_shop, data_dir=str(tmp_path / "shop")))
    engine.backlog.inline = 5
    return engine


def _import_elsewhere(engine, n: int, prefix: str = "N"):
    """Another process's import: new products (the sample shop's photos under new ids) straight into the catalogue."""
    other = Catalog(engine.config.path / "catalog.db")
    source = list(other)[:n]
    other.upsert([p.with_(id=f"{prefix}{i}", title=f"Imported {p.title}") for i, p in enumerate(source)])
    other.close()


def test_a_large_import_is_warmed_in_the_background_and_then_applied(serving, monkeypatch):
    calls = []
    original = serving.embedder.image_features

    def counted(paths, *args, **kwargs):
        calls.append(len(paths))
        return original(paths, *args, **kwargs)
    monkeypatch.setattr(serving.embedder, "image_features", counted)
    before = len(serving.index)
    _import_elsewhere(serving, 40)
    first = serving.search(Query(text="imported red hoodie", k=5))
    assert first.results and len(serving.index) == before and serving.index.seq < serving.catalog.seq
    assert serving.backlog.wait(120)
    assert calls and sum(calls) >= 40  # the towers ran in the background thread
    serving.search(Query(text="imported red hoodie", k=5))
    assert len(serving.index) == before + 40 and serving.index.seq == serving.catalog.seq
    assert "N0" in serving.index.table.row_of


def test_a_few_changes_apply_at_the_next_search(serving):
    before = len(serving.index)
    _import_elsewhere(serving, 3, "F")
    serving.search(Query(text="mug", k=3))
    assert len(serving.index) == before + 3 and serving.backlog.wait(0)


def test_deletions_and_api_writes_apply_at_once_while_a_backlog_warms(serving, monkeypatch):
    import threading

    gate = threading.Event()
    warm = serving.backlog._warm
    monkeypatch.setattr(serving.backlog, "_warm", lambda products: (gate.wait(60), warm(products)))
    _import_elsewhere(serving, 40)
    serving.search(Query(text="bag", k=3))  # starts warming, held at the gate
    other = Catalog(serving.config.path / "catalog.db")
    other.delete("S0001")
    other.close()
    serving.search(Query(text="bag", k=3))
    assert "S0001" not in serving.index.table.row_of  # deleted at once
    mine = serving.catalog.get("S0002").with_(id="API1", title="Written through the API")
    serving.add_products([mine])
    assert "API1" in serving.index.table.row_of and "N0" not in serving.index.table.row_of
    gate.set()
    assert serving.backlog.wait(120)
    serving.search(Query(text="bag", k=3))
    assert "N0" in serving.index.table.row_of and serving.index.seq == serving.catalog.seq


def test_a_warming_that_fails_leaves_the_backlog_to_the_next_search(serving, monkeypatch):
    def broken(products):
        raise RuntimeError("tower down")
    monkeypatch.setattr(serving.backlog, "_warm", broken)
    _import_elsewhere(serving, 40)
    serving.search(Query(text="bag", k=3))
    assert serving.backlog.wait(30)
    serving.search(Query(text="bag", k=3))
    assert "N39" in serving.index.table.row_of
