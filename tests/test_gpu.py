"""GPU paths: the same index and tower code with device="cuda" gives the CPU answers. Marked ``gpu``.

Exact search on CUDA against the brute-force reference runs in tests/test_index.py (device "cuda") and
tests/test_planner.py (plans "gpu-exact" and "gpu-exact-faiss"); here each GPU backend (torch, and
faiss-gpu where the installed faiss has GPU support) is checked on its own with filters of every share.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

from engine.config import ImageTowerSpec, IndexConfig  # noqa: E402
from engine.index import VectorIndex, backends  # noqa: E402
from tests.test_gpu_backends import check_against_reference  # noqa: E402
from tests.tiny import unit_vectors  # noqa: E402

BACKENDS = ["torch", pytest.param("faiss", marks=pytest.mark.skipif(
    not backends.faiss_has_gpu(), reason="needs faiss-gpu"))]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n,seed", [(1, 0), (97, 1), (5_003, 2)])
def test_gpu_backend_matches_the_reference(backend, n, seed):
    rng = np.random.default_rng(seed)
    vecs = unit_vectors(rng, n, 16)
    be = backends.gpu_exact(vecs, "cuda", IndexConfig(gpu_backend=backend))
    assert be.name == {"torch": "torch", "faiss": "faiss-gpu"}[backend]
    check_against_reference(be, vecs, rng)


@pytest.mark.parametrize("backend,name", [("auto", "torch"), ("torch", "torch"), pytest.param(
    "faiss", "faiss-gpu", marks=pytest.mark.skipif(not backends.faiss_has_gpu(), reason="needs faiss-gpu"))])
def test_gpu_backend_setting_picks_the_backend(backend, name):
    index = VectorIndex(8, IndexConfig(kind="flat", device="cuda", gpu_backend=backend))
    index.add(unit_vectors(np.random.default_rng(0), 4, 8), np.arange(4))
    index.build()
    assert index.gpu_backend == name


@pytest.mark.parametrize("backend", BACKENDS)
def test_cuda_index_appends_after_build(backend):
    rng = np.random.default_rng(0)
    index = VectorIndex(16, IndexConfig(kind="flat", device="cuda", gpu_backend=backend))
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
