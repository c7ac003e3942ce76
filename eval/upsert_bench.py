"""Writing products' vectors into the index: one product at a time against one batched call.

    python -m eval.upsert_bench [--n 100000] [--photos 2] [--dim 256]

Random unit vectors for ``n`` products with ``photos`` photos each, in the channels a default index keeps
(shared, look 1,352, bridge 384, signature 48, palette 216; cells left out: 15.7 kB a photo), written into an
empty exact index by ``ProductIndex.upsert`` per product (how a build and a catch-up wrote before the
twenty-eighth session) and by ``ProductIndex.upsert_many`` (after). Prints seconds and products/s of each.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import IndexConfig
from engine.index.product_index import ProductIndex
from engine.types import Product

CHANNELS = {"look": 1352, "bridge": 384, "signature": 48, "palette": 216}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--photos", type=int, default=2)
    ap.add_argument("--dim", type=int, default=256)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    m = args.n * args.photos
    products = [Product(id=str(i), title=f"p{i}", images=tuple(f"{i}-{j}" for j in range(args.photos)))
                for i in range(args.n)]
    photo_vecs = {"shared": rng.standard_normal((m, args.dim), np.float32),
                  **{k: rng.standard_normal((m, d), np.float32) for k, d in CHANNELS.items()}}
    text_vecs = rng.standard_normal((args.n, args.dim), np.float32)
    cfg = IndexConfig(kind="flat", device="cpu")
    print("| write | products | seconds | products/s |")
    print("|---|---|---|---|")
    one = ProductIndex(args.dim, cfg, "bench", CHANNELS)
    t = time.perf_counter()
    for i, p in enumerate(products):
        s = slice(i * args.photos, (i + 1) * args.photos)
        one.upsert(p, {k: v[s] for k, v in photo_vecs.items()}, text_vecs[i])
    dt = time.perf_counter() - t
    print(f"| upsert, one product at a time | {args.n:,} | {dt:.2f} | {args.n / dt:,.0f} |")
    many = ProductIndex(args.dim, cfg, "bench", CHANNELS)
    t = time.perf_counter()
    for start in range(0, args.n, 4096):
        stop = min(args.n, start + 4096)
        many.upsert_many(products[start:stop], {k: v[start * args.photos:stop * args.photos] for k, v in photo_vecs.items()},
                         text_vecs[start:stop])
    dt2 = time.perf_counter() - t
    print(f"| upsert_many, 4,096 a call | {args.n:,} | {dt2:.2f} | {args.n / dt2:,.0f} |")
    print(f"ratio: {dt / dt2:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
