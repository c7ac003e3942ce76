"""GPU paths: the same index and tower code with device="cuda" gives the CPU answers. Marked ``gpu``.

Exact search on CUDA against the brute-force reference runs in tests/test_index.py (device "cuda").
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

from engine.config import ImageTowerSpec, IndexConfig  # noqa: E402
from engine.index import VectorIndex  # noqa: E402
from tests.tiny import unit_vectors  # noqa: E402


def test_cuda_index_appends_after_build():
    rng = np.random.default_rng(0)
    index = VectorIndex(16, IndexConfig(kind="flat", device="cuda"))
    index.add(unit_vectors(rng, 10, 16), np.arange(10))
    index.build()
    extra = unit_vectors(rng, 5, 16)
    index.add(extra, np.arange(10, 15))
    _, rows = index.search_exact(extra[2], 1)
    assert rows[0][0] == 12


def test_image_tower_on_cuda_matches_cpu():
    pytest.importorskip("efficientnet_lite_pytorch")
    from PIL import Image

    from engine.encoders import build_image_tower

    spec = ImageTowerSpec(pretrained=False, image_size=96)
    cpu, gpu = build_image_tower(spec, "cpu"), build_image_tower(spec, "cuda")
    imgs = [Image.new("RGB", (120, 90), c) for c in ("red", "navy", "gold")]
    a, b = cpu.features(cpu.prepare(imgs)), gpu.features(gpu.prepare(imgs))
    assert np.allclose(a, b, atol=1e-3, rtol=1e-3)
