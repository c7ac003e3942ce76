"""Shopsight: product search by photo, by text, or both, in one shared space.

Data flow (see README "Design"):
catalogue file -> Catalog (SQLite) -> frozen towers (torch or ONNX Runtime) -> projection heads -> VectorIndex
(exact, IVF lists, or FAISS HNSW)
query -> same towers/heads -> candidates -> late fusion -> re-ranking -> results.
"""

import os

# numpy's OpenBLAS worker threads keep spinning after each call and starve torch's threads: with two
# cores a photo query took 108 ms instead of 26 ms and a text query 29 ms instead of 10 ms (same run,
# fashion catalogue). On a 16-core machine one thread made a 1M x 256 exact scan 6x slower (17 -> 104 ms),
# so numpy keeps a quarter of the cores. Only effective when ``engine`` is imported before numpy;
# ``SearchEngine`` applies the same limit at run time with threadpoolctl.
BLAS_THREADS = max(1, (os.cpu_count() or 1) // 4)
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(BLAS_THREADS))

__version__ = "0.1.0"
