"""Would the packaged default bundle gain from several head sets side by side? Trains the default
bundle's recipe (all fashion products, 30 epochs, its seed) with ``scratch_sets`` sets from scratch and
saves it under --out; compare with `python -m eval run --bundle <out> --out ...` against
`--bundle default` (luma tasks only: the default bundle has never seen luma).

    .venv/bin/python docs/eval/experiments/default_head_sets_probe.py --sets 3 --cache out/cold21/features.db \
        --out out/probes/default-sets3
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import engine  # noqa: F401  (sets BLAS threads before numpy loads)
from engine.config import EngineConfig, SpaceConfig, TrainConfig
from eval import datasets
from eval.__main__ import train_bundle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=3)
    ap.add_argument("--cache", default="out/figures/features.db")
    ap.add_argument("--out", default="out/probes/default-sets")
    args = ap.parse_args()
    if datasets.data_missing():
        return
    cfg = EngineConfig(data_dir=args.out, feature_cache=args.cache, space=SpaceConfig(dim=256, head="mlp"),
                       train=replace(TrainConfig(epochs=30), scratch_sets=args.sets))
    rows = datasets.fashion_rows()
    seconds: dict[str, float] = {}
    bundle = train_bundle(cfg, rows, True, seconds, "default recipe")
    bundle.name = f"default-{args.sets}-sets"
    path = bundle.save(f"{args.out}/bundle", half=True)
    size = sum(f.stat().st_size for f in path.iterdir())
    print(json.dumps({"bundle": str(path), "bytes": size, "seconds": seconds, "heldout": bundle.metrics.get("heldout"),
                      "kept": bundle.metrics.get("kept")}))


if __name__ == "__main__":
    main()
