"""How many out-of-stock products a shop's top 10s hold, with and without ``EngineConfig.out_of_stock``.

    python -m eval.out_of_stock_check --data-dir D [--queries "black watch" "red kurta" ...]

``D``: an indexed shop whose products carry an "availability" attribute (a Google feed imported with
``--mapping google``); the default queries suit a fashion catalogue.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import load_config
from engine.engine import SearchEngine
from engine.fusion import OUT_OF_STOCK
from engine.types import Query

QUERIES = ["black watch", "red kurta", "blue jeans", "white shirt", "sports shoes", "handbag", "sunglasses",
           "green tshirt", "women heels", "men wallet", "yoga pants", "backpack"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--queries", nargs="+", default=QUERIES)
    args = ap.parse_args(argv)
    base = replace(load_config(None), data_dir=str(args.data_dir))
    for weight in (0.0, base.out_of_stock):
        eng = SearchEngine.open(replace(base, out_of_stock=weight))
        shown = [r.product.attributes.get("availability", "").lower() for q in args.queries
                 for r in eng.search(Query(text=q, k=10)).results]
        print(f"out_of_stock {weight:+.2f}: {sum(a in OUT_OF_STOCK for a in shown)} of {len(shown)} results in "
              f"{len(args.queries)} top 10s are out of stock")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
