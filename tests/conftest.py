import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if "SHOPSIGHT_CACHE" not in os.environ:  # ONNX exports of the tiny towers go to a throwaway folder
    import atexit
    import shutil
    import tempfile

    os.environ["SHOPSIGHT_CACHE"] = tempfile.mkdtemp(prefix="shopsight-test-cache-")
    # Removed when the run ends: each run left ~40 MB behind (586 folders, 23 GB, filled the disk).
    atexit.register(shutil.rmtree, os.environ["SHOPSIGHT_CACHE"], True)

from engine.ingest import PRESETS  # noqa: E402
from tests.tiny import make_tiny_text_model, tiny_config  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory) -> Path:
    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text"))


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory) -> Path:
    from engine.sample_shop import generate

    folder = tmp_path_factory.mktemp("sample-shop")
    generate(folder)
    return folder


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory, tiny_text_model, sample_folder):
    """A data directory with the sample shop imported, trained (tiny towers) and indexed."""
    from engine import workflow

    cfg = tiny_config(tmp_path_factory.mktemp("shop"), tiny_text_model)
    report = workflow.import_catalogue(cfg, sample_folder / "products.csv", PRESETS["sample"])
    assert report.imported == 328 and not report.errors
    workflow.train(cfg, progress=False)
    workflow.build_index(cfg, progress=False)
    return cfg


@pytest.fixture()
def engine(built_shop):
    from engine.engine import SearchEngine

    return SearchEngine.open(built_shop)
