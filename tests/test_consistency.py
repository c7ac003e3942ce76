"""Catalogue and index stay consistent: adds, updates, deletes, crashes, and bundle mismatches."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine import synonyms
from engine.catalog import Catalog
from engine.encoders.bundle import ModelBundle
from engine.encoders.colour import colour_dim
from engine.engine import SearchEngine
from engine.errors import IncompatibleModelError, ProductNotFoundError
from engine.index.product_index import ProductIndex, maps_channels
from engine.types import Product, Query


@pytest.fixture()
def shop_copy(built_shop, tmp_path):
    import shutil

    shutil.copytree(built_shop.path, tmp_path / "shop")
    return replace(built_shop, data_dir=str(tmp_path / "shop"))


def test_add_update_delete_are_visible_to_the_next_search(shop_copy, tmp_path):
    engine = SearchEngine.open(shop_copy)
    Image.new("RGB", (64, 64), (250, 250, 250)).save(tmp_path / "new.png")
    n = len(engine.index)
    from engine.types import Filters

    new = Product(id="NEW1", title="Turquoise teapot", price=33.0, attributes={"brand": "Zed"},
                  images=(str(tmp_path / "new.png"),))
    engine.add_products([new])
    assert len(engine.index) == n + 1
    hits = engine.search(Query(text="Turquoise teapot", k=3, filters=Filters(attributes={"brand": "zed"})))
    assert [r.product.id for r in hits.results] == ["NEW1"]
    engine.add_products([new.with_(price=5.0)])
    assert len(engine.index) == n + 1
    cheap = engine.search(Query(text="Turquoise teapot", k=400, filters=Filters(max_price=5.0)))
    assert "NEW1" in [r.product.id for r in cheap.results]
    assert [r.product.price for r in cheap.results if r.product.id == "NEW1"] == [5.0]
    engine.delete_product("NEW1")
    assert len(engine.index) == n
    assert "NEW1" not in [r.product.id for r in engine.search(Query(text="Turquoise teapot", k=400)).results]
    with pytest.raises(ProductNotFoundError):
        engine.delete_product("NEW1")


def test_mapped_channels_answer_as_in_memory_ones_through_writes(shop_copy, sample_folder):
    """Workers map the snapshot's photo channels (IndexConfig.mapped_channels); writes while serving
    land beside them, and every search answers as an engine holding the channels in memory does."""
    import numpy as np

    from engine.images import open_image

    maps = maps_channels(shop_copy.index)  # on CUDA the searched copy is the GPU's: nothing mapped
    mapped = SearchEngine.open(shop_copy)
    copied = SearchEngine.open(replace(shop_copy, index=replace(shop_copy.index, mapped_channels=False)))
    assert isinstance(mapped.index.cells._base, np.memmap) == maps and copied.index.cells._base is None
    photo = open_image(sample_folder / "images" / "S0041-0.png")
    mapped.add_products([Product(id="TWIN", title="Twin hoodie", price=20.0, images=(str(sample_folder / "images" / "S0041-0.png"),))])
    mapped.delete_product("S0007")
    for query in (Query(image=photo, k=8), Query(image=photo, text="blue", k=8), Query(text="red hoodie", k=8)):
        a, b = mapped.search(query), copied.search(query)  # the second catches up through the catalogue
        assert [r.product.id for r in a.results] == [r.product.id for r in b.results]
        np.testing.assert_allclose([r.score for r in a.results], [r.score for r in b.results], rtol=1e-5)
    cells = mapped.index.cells
    twin_rows = cells.rows_of(mapped.index.table.row_of["TWIN"])
    if maps:
        assert isinstance(cells._base, np.memmap) and min(twin_rows) >= len(cells._base)  # the snapshot stays in its file
    np.testing.assert_array_equal(cells.take(twin_rows), cells.take(cells.rows_of(mapped.index.table.row_of["S0041"])))


def test_a_mapped_worker_outlives_the_snapshot_another_process_replaces(shop_copy, sample_folder):
    """A serving worker maps snapshot files; an import elsewhere saves a new snapshot and prunes the old
    folder. The worker keeps answering (its mapping holds the deleted files) and catches up as ever."""
    import numpy as np

    from engine.images import open_image

    worker = SearchEngine.open(shop_copy)
    old = sorted(p.name for p in (shop_copy.path / "index").iterdir() if p.name.startswith("v"))
    importer = SearchEngine.open(shop_copy)
    importer.delete_product("S0003")
    importer.save()
    assert not any((shop_copy.path / "index" / name).exists() for name in old)  # pruned
    photo = open_image(sample_folder / "images" / "S0041-0.png")
    response = worker.search(Query(image=photo, k=5))
    assert response.results and "S0003" not in worker.index.table.row_of
    assert isinstance(worker.index.cells._base, np.memmap) == maps_channels(shop_copy.index)
    reopened = SearchEngine.open(shop_copy)
    assert [r.product.id for r in reopened.search(Query(image=photo, k=5)).results] == \
        [r.product.id for r in response.results]


def test_another_process_sees_changes_through_the_catalogue(shop_copy):
    reader = SearchEngine.open(shop_copy)
    writer = SearchEngine.open(shop_copy)
    writer.delete_product("S0001")
    assert "S0001" not in reader.index.table.row_of or reader.sync() >= 1
    assert "S0001" not in reader.index.table.row_of
    assert len(reader.index) == len(writer.index)


def test_reopen_after_changes_without_saving(shop_copy):
    engine = SearchEngine.open(shop_copy)
    engine.delete_product("S0002")
    reopened = SearchEngine.open(shop_copy)
    assert "S0002" not in reopened.index.table.row_of
    assert len(reopened.index) == len(Catalog(shop_copy.path / "catalog.db"))


def test_killed_import_reopens_cleanly(shop_copy, sample_folder, tmp_path):
    """SIGKILL an import mid-way: the catalogue holds whole batches only and the index catches up."""
    big = tmp_path / "big.csv"
    lines = (sample_folder / "products.csv").read_text(encoding="utf-8").splitlines()
    body = [l.replace("S0", "K", 1) if l.startswith("S0") else l for l in lines[1:]]
    rows = [lines[0]] + [l.replace("K", f"K{i}-", 1) for i in range(40) for l in body]
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(os.getcwd())!r})
        from engine.catalog import Catalog
        from dataclasses import replace
        from engine.ingest import PRESETS, import_file
        cmap = replace(PRESETS['sample'], image_root={str(sample_folder)!r})
        import_file(Catalog({str(shop_copy.path / 'catalog.db')!r}), {str(big)!r}, cmap, batch_size=50)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    catalog = Catalog(shop_copy.path / "catalog.db")
    deadline = time.time() + 60
    while len(catalog) < 328 + 200 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the import ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n = len(catalog)
    assert 328 < n < 328 + len(rows) - 1, "the import should have been killed mid-way"
    assert (n - 328) % 50 == 0, "only whole batches are committed"
    reopened = Catalog(shop_copy.path / "catalog.db")  # the words were written in the same transactions
    conn = reopened._conn()
    assert reopened.count() == conn.execute("SELECT count(*) FROM lexicon").fetchone()[0] == n
    for term in ("hoodie", "red", "striped"):
        held = conn.execute("SELECT count(*) FROM lexicon WHERE lexicon MATCH ?", (f'"{term}"',)).fetchone()[0]
        assert conn.execute("SELECT n FROM lexicon_df WHERE term = ?", (term,)).fetchone()[0] == held > 0
    engine = SearchEngine.open(shop_copy)
    assert len(engine.index) == n
    assert engine.search(Query(text="Red hoodie", k=5)).results
    engine.save()
    assert len(SearchEngine.open(shop_copy).index) == n


def test_index_refuses_a_different_bundle(shop_copy):
    bundle = ModelBundle.load(shop_copy.path / "bundle")
    with pytest.raises(IncompatibleModelError, match="built with model bundle custom-.* but the loaded bundle is other-"):
        other = ModelBundle.new(bundle.image_tower, bundle.text_tower, bundle.space, bundle.image_dim,
                                bundle.text_dim, name="other")
        ProductIndex.load(shop_copy.path / "index", shop_copy.index, other.fingerprint, {})


def test_bundle_round_trip(shop_copy, tmp_path):
    import numpy as np

    bundle = ModelBundle.load(shop_copy.path / "bundle")
    bundle.save(tmp_path / "b2")
    again = ModelBundle.load(tmp_path / "b2")
    assert again.fingerprint == bundle.fingerprint
    feats = np.random.default_rng(0).standard_normal((3, bundle.image_dim)).astype(np.float32)
    assert np.allclose(again.heads.project_images(feats), bundle.heads.project_images(feats), atol=1e-6)
    assert "heldout" in again.metrics


def test_look_vectors_use_the_catalogue_statistics_and_they_survive_reopening(shop_copy):
    """The index standardises look vectors with its own catalogue's photo statistics (not the
    bundle's training ones); the statistics are in the snapshot, so a reopened engine (another
    worker) embeds query photos the same way."""
    import numpy as np

    engine = SearchEngine.open(shop_copy)
    mean, std = engine.index.look_stats
    feats = engine.embedder.image_features([p for prod in engine.catalog for p in prod.images])
    assert np.allclose(mean, feats.mean(0), atol=1e-5) and np.allclose(std, np.maximum(feats.std(0), 1e-3), atol=1e-5)
    assert engine.embedder.look_stats is engine.index.look_stats
    row = engine.index.table.row_of[next(iter(engine.catalog)).id]
    stored = engine.index.looks.vectors[engine.index.looks.rows_of(row)[0]]
    first = next(iter(engine.catalog)).images[0]
    assert np.allclose(engine.embedder.looks(engine.embedder.image_features([first]))[0], stored, atol=1e-5)


def test_look_vectors_weigh_the_colour_block_as_the_index_says(shop_copy):
    """Looks join a unit CNN block and a unit colour block weighted by the index's
    ``look_colour_weight`` (saved in the snapshot); a snapshot from before it (no weight) keeps the
    one-block formula, so its stored looks and its query looks still agree."""
    import numpy as np

    engine = SearchEngine.open(shop_copy)
    w = engine.index.look_colour_weight
    assert w == engine.config.index.look_colour_weight and engine.embedder.look_colour_weight == w
    colour = colour_dim(engine.embedder.bundle.image_tower.colour_bins)
    feats = engine.embedder.image_features([next(iter(engine.catalog)).images[0]])
    look = engine.embedder.looks(feats)[0]
    assert np.isclose(np.linalg.norm(look), 1.0, atol=1e-5)
    cnn, col = np.linalg.norm(look[:-colour]), np.linalg.norm(look[-colour:])
    assert np.isclose(cnn, 1 / np.sqrt(1 + w * w), atol=1e-5) and np.isclose(col, w / np.sqrt(1 + w * w), atol=1e-5)
    hist = feats[0, -colour:]  # the colour block is the (square-rooted) histogram itself, not standardised
    assert np.allclose(look[-colour:] * np.sqrt(1 + w * w) / w, hist / np.linalg.norm(hist), atol=1e-5)
    engine.embedder.look_colour_weight = None  # an old snapshot's formula
    mean, std = engine.index.look_stats
    z = (feats[0] - mean) / std
    assert np.allclose(engine.embedder.looks(feats)[0], z / np.linalg.norm(z), atol=1e-5)


def test_look_statistics_fall_back_to_the_bundle_for_small_catalogues():
    import numpy as np

    from engine.encoders.look_stats import MIN_PHOTOS_FOR_LOOK_STATS, look_statistics

    feats = np.random.default_rng(3).standard_normal((MIN_PHOTOS_FOR_LOOK_STATS, 10)).astype(np.float32) * 2 + 1
    fallback = (np.zeros(10, np.float32), np.full(10, 4.0, np.float32))
    mean, std = look_statistics(feats, fallback)
    assert np.allclose(mean, feats.mean(0), atol=1e-6) and np.allclose(std, feats.std(0), atol=1e-6)
    mean, std = look_statistics(feats[:5], fallback)
    assert np.allclose(mean, 0) and np.allclose(std, 4.0)


def test_shared_space_fit_tells_a_fitting_space_from_a_foreign_one():
    import numpy as np

    from engine.domain_fit import MIN_PRODUCTS, shared_space_fit

    rng = np.random.default_rng(5)
    texts = rng.standard_normal((500, 16)).astype(np.float32)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    near = texts + 0.1 * rng.standard_normal(texts.shape).astype(np.float32)  # photos beside their texts
    far = rng.standard_normal(texts.shape).astype(np.float32)  # photos unrelated to their texts
    assert shared_space_fit(near, texts) > 0.9 and shared_space_fit(far, texts) < 0.2
    assert shared_space_fit(far[: MIN_PRODUCTS - 1], texts[: MIN_PRODUCTS - 1]) is None
    same = np.repeat(texts[:1], 50, axis=0)  # identical texts (hidden titles) say nothing against the space
    assert shared_space_fit(far[:50], same) == 1.0


def test_photo_queries_weigh_the_shared_space_by_its_fit_and_the_fit_is_saved(shop_copy):
    """The fit is measured at index time and saved in the snapshot (this engine was reopened); a photo
    query with fit 0 ranks as with w_visual 0; text queries and visual_by_fit=False are not scaled."""
    engine = SearchEngine.open(shop_copy)
    fit = engine.index.shared_fit
    assert fit is not None and 0.0 <= fit <= 1.0
    with open(next(iter(engine.catalog)).images[0], "rb") as fp:
        query = Query(image=Image.open(fp).convert("RGB"), k=5)
    engine.index.shared_fit = 0.0  # a foreign space: photo queries rank by the look alone
    foreign = engine.search(query)
    base = engine.config
    engine.config = replace(base, fusion=replace(base.fusion, w_visual=0.0))
    look_only = engine.search(query)
    assert [(r.product.id, round(r.score, 5)) for r in foreign.results] == \
        [(r.product.id, round(r.score, 5)) for r in look_only.results]
    from engine.trust import trust

    text_vectors = engine.query_vectors(Query(text="red hoodie"))
    assert trust(engine.index.shared_fit, engine.config.fusion, text_vectors, None).visual == 1.0
    engine.config = replace(base, fusion=replace(base.fusion, visual_by_fit=False))
    assert trust(engine.index.shared_fit, engine.config.fusion, engine.query_vectors(query), None).visual == 1.0


def synonym_versions() -> list[str]:
    return ["".join(f"w{v}x{n}, u{v}x{n}\n" for n in range(20_000)) for v in range(2)]


def test_a_killed_synonyms_writer_leaves_a_whole_file(tmp_path):
    """SIGKILL a process installing large synonyms files over and over: the file is always one of them, whole."""
    path, versions = tmp_path / "synonyms.txt", synonym_versions()
    synonyms.install(versions[0], path)
    written = path.stat().st_mtime_ns
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(os.getcwd())!r})
        from engine import synonyms
        from tests.test_consistency import synonym_versions
        files = synonym_versions()
        for i in range(1, 100_000):
            synonyms.install(files[i % 2], {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while path.stat().st_mtime_ns == written and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)  # writing now, over and over
    assert proc.poll() is None, "the writer ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert path.read_text() in versions and len(synonyms.load(path).groups) == 40_000
    left = list(tmp_path.glob("synonyms.txt.*.tmp"))  # the killed writer's temporary file, if it had one open
    for stale in left:
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
    synonyms.install(versions[1], path)
    assert not list(tmp_path.glob("synonyms.txt.*.tmp")) and path.read_text() == versions[1]


def test_a_full_build_in_chunks_indexes_what_one_pass_did(shop_copy, monkeypatch):
    """SearchEngine.build embeds and indexes ``product_vectors.CHUNK`` products at a time: the same rows, owners
    and vectors in every channel as the whole catalogue at once (the sample shop's 328 products in chunks of 7)."""
    from engine import product_vectors

    whole = SearchEngine.open(shop_copy).index
    monkeypatch.setattr(product_vectors, "CHUNK", 7)
    chunked = SearchEngine.build(shop_copy, ModelBundle.load(shop_copy.path / "bundle")).index
    assert chunked.table.ids == whole.table.ids
    for name in ["photos", "texts", *whole.channels]:
        a = getattr(whole, name) if name in ("photos", "texts") else whole.channels[name]
        b = getattr(chunked, name) if name in ("photos", "texts") else chunked.channels[name]
        np.testing.assert_array_equal(b.owner, a.owner)
        np.testing.assert_allclose(np.asarray(b.vectors, np.float32), np.asarray(a.vectors, np.float32), atol=1e-5)


def test_a_reopened_engine_has_the_catalogues_changes_since_its_snapshot(shop_copy):
    """The attribute table opens as the snapshot saved it; what the catalogue changed since (another process's
    price and attribute update, a deletion) is applied by the sync on opening, never lost."""
    from engine.types import Filters

    engine = SearchEngine.open(shop_copy)
    engine.save()
    before = engine.catalog.get("S0042")
    catalog = Catalog(shop_copy.path / "catalog.db")  # another process, after the snapshot
    catalog.upsert([before.with_(price=1.5, attributes={**before.attributes, "brand": "Later"})])
    catalog.delete("S0043")
    catalog.close()
    reopened = SearchEngine.open(shop_copy)
    table = reopened.index.table
    assert "S0043" not in table.row_of and reopened.index.seq == reopened.catalog.seq
    assert int(table.mask(Filters(attributes={"brand": "later"})).sum()) == 1
    assert table.price[table.row_of["S0042"]] == 1.5
    hits = reopened.search(Query(text=before.title, k=5, filters=Filters(max_price=2.0)))
    assert [r.product.id for r in hits.results] == ["S0042"]


def test_a_catalogue_without_photos_indexes_and_takes_photos_later(built_shop, tmp_path, sample_folder):
    """A shop that imports titles and prices first (no photos yet): the build used to fail on the empty
    photo store; its products are found by their words, and a photo added later is searched by photos."""
    import shutil

    from engine import workflow
    from engine.ingest import PRESETS

    cfg = replace(built_shop, data_dir=str(tmp_path / "plain"))
    shutil.copytree(built_shop.path / "bundle", cfg.path / "bundle")
    (tmp_path / "plain.csv").write_text("sku,name,price\nM1,Red striped mug,12\nM2,Blue plain hoodie,30\n")
    assert workflow.import_catalogue(cfg, tmp_path / "plain.csv", PRESETS["luma"]).imported == 2
    engine = workflow.build_index(cfg, progress=False)
    assert engine.search(Query(text="red striped mug", k=2)).results[0].product.id == "M1"
    photo = next((sample_folder / "images").iterdir())
    engine.add_products([Product(id="M3", title="Pictured", images=(str(photo),))])
    found = engine.search(Query(image=Image.open(photo), k=1)).results
    assert [r.product.id for r in found] == ["M3"]


def test_a_product_without_photos_is_found_by_its_own_words(shop_copy):
    """Among products with photos, one without (photo parts -1 before: out of the results altogether) is
    scored on its words, the photo parts taken as the candidates' median."""
    engine = SearchEngine.open(shop_copy)
    engine.add_products([Product(id="NP1", title="Walnut cutting board", category="Home/Kitchen/Boards", price=25.0)])
    found = engine.search(Query(text="walnut cutting board", k=5)).results
    assert found[0].product.id == "NP1" and found[0].why["visual"] > -1 and found[0].why["lexical"] == 1.0


def test_photo_parts_of_products_without_photos_are_the_pictured_median():
    from engine.fusion import without_photos_neutral

    parts = {"visual": np.float32([0.2, -1, 0.6, 0.4, -1]), "text": np.float32([0.1, 0.9, 0.3, 0.2, 0.5]),
             "lexical": np.float32([0, 1, 0, 0, 0])}
    pictured = np.array([True, False, True, True, False])
    got = without_photos_neutral(parts, pictured)
    assert got["visual"].tolist() == pytest.approx([0.2, 0.4, 0.6, 0.4, 0.4])
    assert got["text"] is parts["text"] and got["lexical"] is parts["lexical"]  # not photo parts: as they were
    assert without_photos_neutral(parts, np.ones(5, bool)) is parts
    assert without_photos_neutral(parts, np.zeros(5, bool))["visual"].tolist() == [0.0] * 5


def test_a_photo_query_does_not_lift_a_product_without_photos(shop_copy, sample_folder):
    """Its photo parts stay -1 for a query with a photo (it cannot look like anything), even when its title
    is the query photo's product's."""
    engine = SearchEngine.open(shop_copy)
    photo_of = engine.catalog.get("S0041")
    engine.add_products([photo_of.with_(id="BARE", images=())])
    found = engine.search(Query(image=Image.open(photo_of.images[0]), text=photo_of.title, k=400)).results
    bare = next((r for r in found if r.product.id == "BARE"), None)
    assert bare is None or (bare.why["visual"] == -1 and found.index(bare) > 10)
