"""Training details: shared text views count as positives for every product they describe; short runs
train at all."""

from dataclasses import replace

import numpy as np
import pytest

from engine.train import PairData, _group, _positives, _view_ids


def _pairs() -> PairData:
    # 4 products; views: own title + a short "colour type" text; products 0 and 2 share theirs
    rng = np.random.default_rng(0)
    titles = rng.standard_normal((4, 8)).astype(np.float32)
    navy, red = rng.standard_normal((2, 8)).astype(np.float32)
    text_feats = np.stack([titles[0], navy, titles[1], red, titles[2], navy, titles[3], red * 2])
    text_product = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    return PairData(rng.standard_normal((4, 5)).astype(np.float32), np.arange(4), text_feats, text_product,
                    np.array([0, 2, 4, 6]), 4)


def test_identical_texts_share_an_id_and_products_list_their_views():
    data = _pairs()
    text_id, per_product = _view_ids(data, _group(data.text_product, 4))
    assert text_id[1] == text_id[5]  # "navy" of products 0 and 2
    assert len(set(text_id.tolist())) == 7  # red and red * 2 are different texts
    assert per_product.shape == (4, 2) and (per_product >= 0).all()


def test_a_shared_view_is_a_positive_for_every_product_it_describes():
    data = _pairs()
    views = _view_ids(data, _group(data.text_product, 4))
    batch = np.array([0, 1, 2, 3])
    pos = _positives(views, batch, [1, 2, 4, 7])  # texts: navy (0), title 1, title 2, red*2 (3)
    want = np.eye(4, dtype=bool)
    want[0, 2] = True  # product 0's "navy" is also true of product 2
    assert (pos == want).all()
    pos = _positives(views, batch, [0, 3, 5, 6])  # title 0, red (1), navy (2), title 3
    want = np.eye(4, dtype=bool)
    want[2, 0] = True
    assert (pos == want).all()


@pytest.mark.parametrize("epochs", [1, 2, 3, 5, 11])
def test_short_runs_train_with_any_number_of_steps(epochs):
    """A few epochs on a small catalogue used to stop in torch's OneCycleLR (division by zero)."""
    from engine.config import ImageTowerSpec, SpaceConfig, TextTowerSpec, TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.train import train_space

    rng = np.random.default_rng(1)
    n = 40
    data = PairData(rng.standard_normal((n, 12)).astype(np.float32), np.arange(n),
                    rng.standard_normal((n, 6)).astype(np.float32), np.arange(n), np.arange(n), n)
    bundle = ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8), 12, 6)
    out = train_space(bundle, data, TrainConfig(epochs=epochs, batch_size=16, holdout=0.25), progress=False)
    assert out.metrics["epochs"] == epochs and 0 <= out.metrics["heldout"]["recall@10"] <= 1


def test_a_seed_trains_the_same_heads_every_time():
    """Training from scratch initialises the heads from the seed, so whatever drew from torch's random
    generator before (another model, another training) does not change the result."""
    import torch

    from engine.config import ImageTowerSpec, SpaceConfig, TextTowerSpec, TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.train import train_space

    rng = np.random.default_rng(2)
    n = 200
    data = PairData(rng.standard_normal((n, 32)).astype(np.float32), np.arange(n),
                    rng.standard_normal((n, 16)).astype(np.float32), np.arange(n), np.arange(n), n)

    def weights(draws: int):
        torch.rand(draws)  # other work in the process moves the global generator
        bundle = ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8, head="mlp"), 32, 16)
        out = train_space(bundle, data, TrainConfig(epochs=3, batch_size=64, seed=5), progress=False)
        return np.concatenate([p.detach().numpy().ravel() for p in out.heads.parameters()])

    assert np.array_equal(weights(1), weights(1000))
    other = train_space(ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8, head="mlp"), 32, 16),
                        data, TrainConfig(epochs=3, batch_size=64, seed=6), progress=False)
    assert not np.array_equal(weights(1), np.concatenate([p.detach().numpy().ravel() for p in other.heads.parameters()]))


def _paired(n: int, seed: int, noise: float) -> PairData:
    """Photos and texts that share a hidden code (so training can learn the pairing)."""
    rng = np.random.default_rng(seed)
    code = rng.standard_normal((n, 6)).astype(np.float32)
    images = np.hstack([code, noise * rng.standard_normal((n, 26))]).astype(np.float32) @ rng.standard_normal((32, 32)).astype(np.float32)
    texts = np.hstack([code, noise * rng.standard_normal((n, 10))]).astype(np.float32) @ rng.standard_normal((16, 16)).astype(np.float32)
    return PairData(images, np.arange(n), texts, np.arange(n), np.arange(n), n)


@pytest.mark.parametrize("race", [True, False])
def test_fine_tuning_keeps_the_best_of_start_fine_tuned_and_scratch(race):
    """With one head set (``head_sets=1``) fine-tuning races new heads from scratch (same split and seed)
    and keeps whichever does best on the held-out split, and says which; the race changes nothing else."""
    import copy

    from engine.config import TrainConfig
    from engine.train import heldout_recall, split_products, train_space

    start = _start_bundle()
    shop = _paired(200, 4, 0.5)
    cfg = TrainConfig(epochs=4, batch_size=64, seed=1, race_scratch=race, head_sets=1)
    out = train_space(copy.deepcopy(start), shop, cfg, progress=False, from_existing=True)
    m = out.metrics
    assert out.colours == "kept" and m["kept"] in ({"start", "trained", "scratch"} if race else {"start", "trained"})
    assert ("scratch_heldout" in m) == race
    _, val = split_products(shop.n_products, cfg.holdout, cfg.seed)
    kept = m["start_heldout"] if m["kept"] == "start" else m["heldout"]
    assert heldout_recall(out, shop, val) == kept  # the metrics describe the heads that were kept
    candidates = [m["start_heldout"]["recall@10"], m["sets_heldout"]["trained"]["recall@10"]] + (
        [m["scratch_heldout"]["recall@10"]] if race else [])
    assert kept["recall@10"] == max(candidates) and out.space_dim == out.space.dim
    plain = train_space(copy.deepcopy(start), shop, TrainConfig(epochs=4, batch_size=64, seed=1, race_scratch=False),
                        progress=False, from_existing=True)
    if m["kept"] == "trained":  # the fine-tuned heads are the same with or without the race
        assert _weights(out.heads) == _weights(plain.heads)


def _start_bundle():
    """A bundle trained on other data than the shop's, with a part that does not depend on the heads."""
    from engine.config import ImageTowerSpec, SpaceConfig, TextTowerSpec, TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.train import train_space

    start = train_space(ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8, head="mlp"), 32, 16),
                        _paired(300, 3, 0.5), TrainConfig(epochs=5, batch_size=64), progress=False)
    start.colours = "kept"
    return start


def _weights(module) -> list:
    return [p.detach().numpy().tolist() for p in module.parameters()]


def test_fine_tuning_keeps_scratch_sets_side_by_side_with_the_fine_tuned_heads():
    """The default (``head_sets=3``): two sets from scratch (seeds s and s + 1000, same split) and the
    fine-tuned heads are kept together; a vector is their unit vectors joined / sqrt(3), so its cosine is
    the mean of the three cosines; each set is the one a separate run would train."""
    import copy

    from engine.config import TrainConfig
    from engine.encoders.heads import HeadSets
    from engine.train import heldout_recall, split_products, train_space

    start, shop = _start_bundle(), _paired(200, 4, 0.5)
    cfg = TrainConfig(epochs=4, batch_size=64, seed=1)
    out = train_space(copy.deepcopy(start), shop, cfg, progress=False, from_existing=True)
    m = out.metrics
    assert m["kept"] == "side by side" and isinstance(out.heads, HeadSets) and out.colours == "kept"
    assert out.space_dim == 3 * out.space.dim and set(m["sets_heldout"]) == {"scratch", "scratch 2", "trained"}
    _, val = split_products(shop.n_products, cfg.holdout, cfg.seed)
    assert heldout_recall(out, shop, val) == m["heldout"]
    scratch = [train_space(copy.deepcopy(start), shop, TrainConfig(epochs=4, batch_size=64, seed=seed, holdout=0.15),
                           progress=False) for seed in (1, 1001)]
    tuned = train_space(copy.deepcopy(start), shop, TrainConfig(epochs=4, batch_size=64, seed=1, race_scratch=False),
                        progress=False, from_existing=True)
    if tuned.metrics["kept"] == "trained":
        assert _weights(out.heads.members[2]) == _weights(tuned.heads)
    assert _weights(out.heads.members[0]) == _weights(scratch[0].heads)
    feats_i, feats_t = shop.image_feats[:5], shop.text_feats[:5]
    joined = out.heads.project_texts(feats_t) @ out.heads.project_images(feats_i).T
    each = [mem.project_texts(feats_t) @ mem.project_images(feats_i).T for mem in out.heads.members]
    assert np.allclose(joined, np.mean(each, axis=0), atol=1e-5)
    assert np.allclose(np.linalg.norm(out.heads.project_images(feats_i), axis=1), 1, atol=1e-5)


def test_fine_tuning_a_side_by_side_bundle_tunes_each_set_and_does_not_grow_it():
    import copy

    from engine.config import TrainConfig
    from engine.encoders.heads import n_head_sets
    from engine.train import train_space

    shop = _paired(200, 4, 0.5)
    first = train_space(_start_bundle(), shop, TrainConfig(epochs=3, batch_size=64, seed=1), progress=False,
                        from_existing=True)
    assert n_head_sets(first.heads) == 3
    again = train_space(copy.deepcopy(first), _paired(200, 5, 0.5), TrainConfig(epochs=3, batch_size=64, seed=2),
                        progress=False, from_existing=True)
    assert n_head_sets(again.heads) == 3 and "scratch 2" not in again.metrics["sets_heldout"]
    if again.metrics["kept"] == "side by side":  # one scratch race only; the fine-tuned sets are the start's
        assert _weights(again.heads) != _weights(first.heads)


def test_training_from_scratch_can_keep_several_sets_and_bad_counts_are_refused():
    from engine.config import ImageTowerSpec, SpaceConfig, TextTowerSpec, TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.errors import BadSettingError
    from engine.train import train_space

    new = lambda: ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8), 32, 16)  # noqa: E731
    out = train_space(new(), _paired(120, 6, 0.5), TrainConfig(epochs=2, batch_size=64, scratch_sets=2), progress=False)
    assert out.space_dim == 16 and out.metrics["kept"] == "side by side" and len(out.metrics["sets_heldout"]) == 2
    with pytest.raises(BadSettingError, match="at least 1"):
        train_space(new(), _paired(120, 6, 0.5), TrainConfig(epochs=2, head_sets=0), progress=False, from_existing=True)


def test_a_side_by_side_bundle_round_trips_and_a_single_set_keeps_its_fingerprint(tmp_path):
    """``head_sets`` is written only for several sets, so bundles saved before it load unchanged and keep
    their fingerprints; several sets load back with the same vectors and fingerprint."""
    import copy

    from engine.config import TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.train import train_space

    start = _start_bundle()
    start.colours = None
    assert "head_sets" not in start.describe()
    single = ModelBundle.load(start.save(tmp_path / "single"))
    assert single.fingerprint == start.fingerprint
    both = train_space(copy.deepcopy(start), _paired(200, 4, 0.5), TrainConfig(epochs=3, batch_size=64, head_sets=2),
                       progress=False, from_existing=True)
    again = ModelBundle.load(both.save(tmp_path / "both"))
    feats = np.random.default_rng(0).standard_normal((3, 32)).astype(np.float32)
    assert again.describe()["head_sets"] == 2 and again.fingerprint == both.fingerprint != start.fingerprint
    assert np.allclose(again.heads.project_images(feats), both.heads.project_images(feats), atol=1e-6)


def test_training_decodes_each_photo_once(tmp_path, tiny_text_model, sample_folder, monkeypatch):
    """The tower pass keeps the photos' palettes, so learning the colour reader decodes none again; a
    file that two listings share is decoded once."""
    from collections import Counter

    from engine import workflow
    from engine.catalog import Catalog
    from engine.encoders import embedder as embedder_module
    from engine.ingest import PRESETS
    from tests.tiny import tiny_config

    cfg = tiny_config(tmp_path, tiny_text_model)
    cfg = replace(cfg, train=replace(cfg.train, epochs=2))
    assert not workflow.import_catalogue(cfg, sample_folder / "products.csv", PRESETS["sample"]).errors
    listed = Counter(str(path) for p in Catalog(cfg.path / "catalog.db") for path in p.images)
    assert max(listed.values()) > 1  # the sample shop re-lists products with the same photo file
    opened, real = [], embedder_module.open_image
    monkeypatch.setattr(embedder_module, "open_image", lambda path, *a, **k: opened.append(str(path)) or real(path, *a, **k))
    bundle = workflow.train(cfg, progress=False)
    assert bundle.colours is not None and bundle.colours.reader is not None
    assert opened and Counter(opened) == Counter(set(listed))


def test_a_shop_fine_tuned_side_by_side_indexes_and_searches(tmp_path, built_shop, sample_folder, capsys):
    """``shopsight train --start-from <bundle>`` on a shop: the kept bundle (three sets side by side) builds
    an index three times as wide that answers text, photo and photo + text queries, and opens again."""
    import json
    import shutil

    from engine import cli, workflow
    from engine.config import config_to_dict
    from engine.engine import SearchEngine
    from engine.images import open_image
    from engine.ingest import PRESETS
    from engine.types import Query

    start = shutil.copytree(built_shop.path / "bundle", tmp_path / "start")
    cfg = replace(built_shop, data_dir=str(tmp_path / "shop"), train=replace(built_shop.train, epochs=3))
    workflow.import_catalogue(cfg, sample_folder / "products.csv", PRESETS["sample"])
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config_to_dict(cfg)))
    assert cli.main(["--config", str(config_file), "--quiet", "train", "--start-from", str(start)]) == 0
    out, err = capsys.readouterr()
    m = json.loads(out)["metrics"]
    assert f"{m['start_heldout']['recall@10']:.3f} at the start" in err and "kept (side by side" in err
    bundle = workflow.build_index(cfg, progress=False).embedder.bundle
    assert bundle.metrics["kept"] == "side by side"  # seeded: the start does not beat it on the held-out split
    engine = SearchEngine.open(cfg)
    assert engine.index.dim == bundle.space_dim == 3 * cfg.space.dim
    photo = open_image(next(iter(engine.catalog)).images[0])
    for query in (Query(text="blue t-shirt", k=5), Query(image=photo, k=5), Query(image=photo, text="in red", k=5)):
        assert len(engine.search(query).results) == 5


def test_too_few_products_with_photos_are_refused_before_any_training(tmp_path, tiny_text_model):
    """With fewer than MIN_TRAIN_PRODUCTS products with a photo nothing is held out to check the heads: training
    used to 'succeed' on 0 pairs and save heads trained on nothing over the packaged bundle."""
    from engine import workflow
    from engine.errors import TrainingDataError
    from engine.ingest import PRESETS
    from tests.tiny import tiny_config

    cfg = tiny_config(tmp_path, tiny_text_model)
    (tmp_path / "c.csv").write_text("sku,name,price\n" + "".join(f"P{i},Mug {i},3\n" for i in range(30)))
    assert workflow.import_catalogue(cfg, tmp_path / "c.csv", PRESETS["luma"]).imported == 30
    with pytest.raises(TrainingDataError, match="at least 20 products with a photo.*has 0"):
        workflow.train(cfg, progress=False)
    assert not (cfg.path / "bundle").exists()
