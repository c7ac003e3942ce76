"""Real pretrained towers on real product data (marked ``slow``; skipped without ../shared/data).

Guards the out-of-the-box quality against regressions: the packaged default bundle with the real
EfficientNet-Lite0 and MiniLM towers, on luma (a shop it never saw), must keep finding products from
their other photos and put the right colour variant near the top for "this, but in <colour>". The
floors sit well under the measured figures (docs/figures.md "Out of the box": R@1 0.674, hit@3 0.891), so only
a real break fails them, not run-to-run noise.
"""

from dataclasses import replace

import pytest

from engine.config import EngineConfig

pytestmark = pytest.mark.slow
datasets = pytest.importorskip("eval.datasets")
if not datasets.DATA.exists():
    pytest.skip("needs ../shared/data", allow_module_level=True)

from engine.encoders.bundle import ModelBundle, default_bundle_path  # noqa: E402
from eval import runner  # noqa: E402


@pytest.fixture(scope="module")
def luma():
    return {t.name: t for t in datasets.luma_tasks()}


def _score(task, tmp_path, queries: int) -> dict:
    task = replace(task, queries=task.queries[:queries])
    cfg = EngineConfig(data_dir=str(tmp_path))
    engine, _ = runner.build_engine(task, ModelBundle.load(default_bundle_path()), cfg, tmp_path / "shop")
    scores, _ = runner.evaluate(runner.engine_rankings(engine, task)[0], task)
    return scores


def test_default_bundle_finds_luma_products_from_their_other_photos(luma, tmp_path):
    scores = _score(luma["luma photo → product (other views)"], tmp_path, 150)
    assert scores["R@1"] >= 0.55 and scores["R@10"] >= 0.8


def test_default_bundle_moves_a_photo_to_the_colour_the_words_ask_for(luma, tmp_path):
    scores = _score(luma["luma photo + colour word → colour variant"], tmp_path, 150)
    assert scores["hit@3"] >= 0.75
