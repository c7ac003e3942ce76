"""GPU paths: the same index and tower code with device="cuda" gives the CPU answers. Marked ``gpu``."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

from engine.config import ImageTowerSpec, IndexConfig  # noqa: E402
from engine.index import VectorIndex, exact_topk  # noqa: E402


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("n,d,k", [(1, 8, 5), (17, 5, 17), (1000, 64, 100), (100_003, 256, 10)])
def test_cuda_exact_search_matches_the_cpu_reference(n, d, k):
    rng = np.random.default_rng(n)
    vecs = _unit(rng, n, d)
    gpu = VectorIndex(d, IndexConfig(kind="flat", device="cuda"))
    gpu.add(vecs, np.arange(n))
    gpu.build()
    for owner in rng.choice(n, n // 7, replace=False):
        gpu.kill_owner(owner)
    mask = rng.random(n) < 0.5
    q = _unit(rng, 3, d)
    s_gpu, r_gpu = gpu.search_exact(q, k, mask)
    s_cpu, r_cpu = exact_topk(vecs, q, k, mask & gpu.alive)
    assert np.array_equal(r_gpu, r_cpu)
    finite = np.isfinite(s_cpu)
    assert np.allclose(s_gpu[finite], s_cpu[finite], atol=1e-4)


def test_cuda_index_appends_after_build():
    rng = np.random.default_rng(0)
    index = VectorIndex(16, IndexConfig(kind="flat", device="cuda"))
    index.add(_unit(rng, 10, 16), np.arange(10))
    index.build()
    extra = _unit(rng, 5, 16)
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
