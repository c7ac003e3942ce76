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
    """A start bundle trained on other data: fine-tuning races new heads from scratch (same split and seed)
    and keeps whichever does best on the held-out split, and says which; the race changes nothing else."""
    import copy

    from engine.config import ImageTowerSpec, SpaceConfig, TextTowerSpec, TrainConfig
    from engine.encoders.bundle import ModelBundle
    from engine.train import heldout_recall, split_products, train_space

    start = train_space(ModelBundle.new(ImageTowerSpec(), TextTowerSpec(), SpaceConfig(dim=8, head="mlp"), 32, 16),
                        _paired(300, 3, 0.5), TrainConfig(epochs=5, batch_size=64), progress=False)
    start.colours = "kept"  # any part that does not depend on the heads stays with the bundle
    shop = _paired(200, 4, 0.5)
    cfg = TrainConfig(epochs=4, batch_size=64, seed=1, race_scratch=race)
    out = train_space(copy.deepcopy(start), shop, cfg, progress=False, from_existing=True)
    m = out.metrics
    assert out.colours == "kept" and m["kept"] in ({"start", "trained", "scratch"} if race else {"start", "trained"})
    assert ("scratch_heldout" in m) == race
    _, val = split_products(shop.n_products, cfg.holdout, cfg.seed)
    kept = m["start_heldout"] if m["kept"] == "start" else m["heldout"]
    assert heldout_recall(out, shop, val) == kept  # the metrics describe the heads that were kept
    candidates = [m["start_heldout"]["recall@10"], m["heldout"]["recall@10"]] + ([m["scratch_heldout"]["recall@10"]] if race else [])
    assert kept["recall@10"] == max(candidates)
    plain = train_space(copy.deepcopy(start), shop, TrainConfig(epochs=4, batch_size=64, seed=1, race_scratch=False),
                        progress=False, from_existing=True)
    if m["kept"] == "trained":  # the fine-tuned heads are the same with or without the race
        assert all(np.array_equal(a.detach().numpy(), b.detach().numpy())
                   for a, b in zip(out.heads.parameters(), plain.heads.parameters()))


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
