"""Probe: does the near-duplicate threshold (look cosine >= 0.995) still separate re-encoded copies
from colour variants once looks weigh the colour block on its own (IndexConfig.look_colour_weight)?

    .venv/bin/python docs/eval/experiments/duplicate_looks.py  (needs ../shared/data; ~1 min)

luma: 100 photos re-encoded (JPEG quality 90 same size; quality 60 scaled to 70 %) against their originals, and every pair
of a product's colour variants (main photos of different colours); look cosine with the one-block
formula (None) and with the colour block weighted 0.5 and the default, looks standardised with luma's statistics.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import engine  # noqa: E402,F401
from engine.config import EngineConfig, IndexConfig  # noqa: E402
from engine.encoders.bundle import ModelBundle, resolve_bundle_path  # noqa: E402
from engine.encoders.embedder import Embedder  # noqa: E402
from engine.encoders.look_stats import look_statistics  # noqa: E402
from engine.images import open_image  # noqa: E402
from eval import datasets  # noqa: E402


def main() -> int:
    if datasets.data_missing():
        return 1
    bundle = ModelBundle.load(resolve_bundle_path("default"))
    emb = Embedder.for_config(bundle, EngineConfig(feature_cache="out/figures/features.db"))
    variants = next(t for t in datasets.luma_tasks() if t.kind == "photo+text").products
    paths = [p.images[0] for p in variants]
    feats = emb.image_features(paths)
    head = bundle.heads.image
    emb.look_stats = look_statistics(feats, (head.mean.numpy(), head.std.numpy()))
    owner = np.array([p.id.rsplit(":", 1)[0] for p in variants])
    same = np.triu(owner[:, None] == owner[None, :], 1)
    for quality, scale in ((90, 1.0), (60, 0.7)):
        copy_feats = emb.image_tower.features(emb.image_tower.prepare([open_image(_reencode(p, quality, scale))
                                                                       for p in paths[:100]]))
        for w in (None, 0.5, IndexConfig().look_colour_weight):
            emb.look_colour_weight = w
            looks, copy_looks = emb.looks(feats), emb.looks(copy_feats)
            copy_cos = np.sum(looks[:100] * copy_looks, 1)
            variant_cos = (looks @ looks.T)[same]
            print(f"weight {w}: copies (JPEG q{quality}, {scale:.0%} size) cos min {copy_cos.min():.4f} p5 "
                  f"{np.percentile(copy_cos, 5):.4f} median {np.median(copy_cos):.4f}, share >= 0.995: "
                  f"{np.mean(copy_cos >= 0.995):.2f}; colour variants ({same.sum()} pairs) cos max {variant_cos.max():.4f} "
                  f"p95 {np.percentile(variant_cos, 95):.4f}, share >= 0.995: {np.mean(variant_cos >= 0.995):.3f}", flush=True)
    return 0


def _reencode(path: str, quality: int, scale: float) -> bytes:
    img = Image.open(path).convert("RGB")
    img = img.resize((int(img.width * scale), int(img.height * scale)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


if __name__ == "__main__":
    raise SystemExit(main())
