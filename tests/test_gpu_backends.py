"""The exact GPU search backends' filter logic against the brute-force reference.

``FaissGpuExact`` applies a filter to an exact top-k' over all rows and falls back to an exact pass over
the allowed rows when k' would pass faiss's GPU limit or a query comes back short. That logic runs here
on the CPU over a faiss ``IndexFlatIP`` standing in for the ``GpuIndexFlatIP`` (same search contract);
tests/test_gpu.py runs both backends on a real GPU.
"""

import numpy as np
import pytest

from engine.config import IndexConfig
from engine.errors import MissingDependencyError, UnknownComponentError
from engine.index import backends
from tests.tiny import unit_vectors


def _cpu_stand_in(vectors: np.ndarray) -> backends.FaissGpuExact:
    faiss = pytest.importorskip("faiss")
    be = backends.FaissGpuExact.__new__(backends.FaissGpuExact)
    be.index = faiss.IndexFlatIP(vectors.shape[1])
    be.append(vectors)
    return be


def check_against_reference(be, vecs: np.ndarray, rng: np.random.Generator) -> None:
    """``be.search`` gives the exact filtered top-k for awkward sizes, shares and k."""
    n = len(vecs)
    for share in (0.0, "k", 0.0005, 0.01, 0.3, 1.0):
        for k in (1, 10, 2_500):
            allowed = np.zeros(n, bool)
            if share == "k":
                allowed[rng.choice(n, min(k, n), replace=False)] = True
            else:
                allowed[rng.random(n) < share] = True
            q = unit_vectors(rng, 3, vecs.shape[1])
            s, r = be.search(q, k, allowed, vecs)
            assert s.shape == r.shape == (3, k)
            for i in range(3):
                ref = np.where(allowed, vecs @ q[i], -np.inf)
                want = np.argsort(-ref, kind="stable")[: min(k, int(allowed.sum()))]
                got = r[i][r[i] >= 0]
                assert len(got) == len(want)  # min(k, allowed): never short, never padded with disallowed
                assert allowed[got].all()
                assert np.allclose(np.sort(ref[got]), np.sort(ref[want]), atol=1e-5)  # ties may swap rows
                assert np.allclose(s[i][: len(got)], ref[got], atol=1e-5)
                assert np.all(np.diff(s[i][: len(got)]) <= 1e-6)  # best first


@pytest.mark.parametrize("n,seed", [(1, 0), (97, 1), (5_003, 2)])
def test_faiss_gpu_filter_logic_matches_the_reference(n, seed):
    rng = np.random.default_rng(seed)
    vecs = unit_vectors(rng, n, 16)
    check_against_reference(_cpu_stand_in(vecs), vecs, rng)


def test_faiss_gpu_appends_after_build():
    rng = np.random.default_rng(3)
    vecs = unit_vectors(rng, 50, 8)
    be = _cpu_stand_in(vecs[:40])
    be.append(vecs[40:])
    _, r = be.search(vecs[45], 1, np.ones(50, bool), vecs)
    assert r[0][0] == 45


def test_gpu_backend_choice():
    vecs = unit_vectors(np.random.default_rng(0), 4, 8)
    assert backends.gpu_exact(vecs, "cpu", IndexConfig()) is None
    with pytest.raises(UnknownComponentError):
        backends.gpu_exact(vecs, "cuda", IndexConfig(gpu_backend="cupy"))
    if not backends.faiss_has_gpu():  # faiss-cpu installed: asking for faiss-gpu names the extra
        with pytest.raises(MissingDependencyError, match=r"shopsight\[gpu\]"):
            backends.gpu_exact(vecs, "cuda", IndexConfig(gpu_backend="faiss"))


@pytest.mark.parametrize("n,seed", [(1, 0), (97, 1), (5_003, 2)])
def test_torch_backend_matches_the_reference(n, seed):
    """TorchExact (the GPU path without faiss-gpu) keeps the same contract; torch runs it on the CPU here."""
    rng = np.random.default_rng(seed)
    vecs = unit_vectors(rng, n, 16)
    check_against_reference(backends.TorchExact(vecs, "cpu"), vecs, rng)


def test_torch_backend_grows_its_buffer_and_keeps_every_row():
    rng = np.random.default_rng(4)
    vecs = unit_vectors(rng, 3_000, 16)
    be = backends.TorchExact(vecs[:10], "cpu")
    for start in range(10, 3_000, 7):  # many small appends cross several doublings
        be.append(vecs[start:start + 7])
    assert be.n == 3_000 and np.allclose(be.vectors.numpy(), vecs)
    check_against_reference(be, vecs, rng)


@pytest.mark.parametrize("make", ["faiss", "torch"])
def test_no_filter_means_every_row(make):
    rng = np.random.default_rng(5)
    vecs = unit_vectors(rng, 700, 16)
    be = _cpu_stand_in(vecs) if make == "faiss" else backends.TorchExact(vecs, "cpu")
    q = unit_vectors(rng, 2, 16)
    s_none, r_none = be.search(q, 7, None, vecs)
    s_all, r_all = be.search(q, 7, np.ones(700, bool), vecs)
    assert np.array_equal(r_none, r_all) and np.allclose(s_none, s_all)
    assert np.array_equal(r_none[0], np.argsort(-(vecs @ q[0]), kind="stable")[:7])
