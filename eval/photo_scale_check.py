"""Does the web page's scaling of a phone photo change what a photo search finds?

    python -m eval.photo_scale_check --data-dir D [--photos 40]

For ``--photos`` products spread over an indexed catalogue, its first photo is enlarged to a phone camera's 4,032 px
(JPEG, quality 92) and searched as it is and as the web page sends it (``server/static/app.js``: at most 1,280 px a
side, JPEG 0.9); prints how often the first result is the same and the mean overlap of the two top-10s.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from pathlib import Path

from PIL import Image

from engine.config import load_config
from engine.engine import SearchEngine
from engine.images import open_image
from engine.types import Query

CAMERA_SIDE, PAGE_SIDE = 4032, 1280


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return open_image(buf.getvalue())


def scaled(img: Image.Image, side: int, resample=Image.BILINEAR) -> Image.Image:
    s = side / max(img.size)
    return img.resize((round(img.width * s), round(img.height * s)), resample)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--photos", type=int, default=40)
    args = ap.parse_args(argv)
    engine = SearchEngine.open(replace(load_config(None), data_dir=str(args.data_dir)))
    ids = [i for i, p in engine.catalog.get_many(engine.catalog.ids()).items() if p.images]
    ids = ids[:: max(1, len(ids) // args.photos)][:args.photos]
    same_first, overlap = 0, 0.0
    for pid in ids:
        photo = open_image(engine.config.path / engine.catalog.get(pid).images[0])
        camera = jpeg(scaled(photo, CAMERA_SIDE, Image.BICUBIC), 92)
        sent = jpeg(scaled(camera, PAGE_SIDE), 90)
        a, b = ([r.product.id for r in engine.search(Query(image=img, k=10)).results] for img in (camera, sent))
        same_first += a[0] == b[0]
        overlap += len(set(a) & set(b)) / 10
    print(f"{len(ids)} photos at {CAMERA_SIDE} px vs {PAGE_SIDE} px: same first result {same_first}/{len(ids)}, "
          f"top-10 overlap {overlap / len(ids):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
