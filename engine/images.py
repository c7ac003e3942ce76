"""Image decoding and preprocessing with Pillow + numpy (no torchvision).

Handles EXIF orientation, RGBA/LA/P (composited on white), CMYK, 16-bit and grayscale, any size,
and refuses decompression bombs and non-images with ``BadImageError``.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImageError

DEFAULT_MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"})


def open_image(src, max_pixels: int = DEFAULT_MAX_PIXELS, field: str = "image") -> Image.Image:
    """Decode ``src`` (path, bytes or PIL image) into an upright RGB image.

    Raises ``BadImageError`` naming ``field`` when it is not a supported raster image or is larger
    than ``max_pixels``.
    """
    if isinstance(src, Image.Image):
        return to_rgb(ImageOps.exif_transpose(src))
    try:
        fp = io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else Path(src).open("rb")
    except OSError as exc:
        raise BadImageError(field, f"cannot read {src}: {exc.strerror}") from exc
    with fp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(fp)
                _check_header(img, max_pixels, field)
                img.load()
        except (UnidentifiedImageError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            raise BadImageError(field, f"not a supported image ({type(exc).__name__})") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise BadImageError(field, f"broken image data: {exc}") from exc
        return to_rgb(ImageOps.exif_transpose(img))


def _check_header(img: Image.Image, max_pixels: int, field: str) -> None:
    if img.format not in ALLOWED_FORMATS:
        raise BadImageError(field, f"format {img.format} not allowed; use one of {sorted(ALLOWED_FORMATS)}")
    w, h = img.size
    if w * h > max_pixels:
        raise BadImageError(field, f"{w}x{h} = {w * h} pixels exceeds the limit of {max_pixels}")
    if w < 1 or h < 1:
        raise BadImageError(field, "empty image")


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparent areas become white."""
    if img.mode == "RGB":
        return img
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        span = max(float(arr.max() - arr.min()), 1e-6)
        img = Image.fromarray(((arr - arr.min()) / span * 255).astype(np.uint8))
    return img.convert("RGB")


def square_crop(img: Image.Image, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` and centre-crop: returns (size, size, 3) uint8."""
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def pad_square(img: Image.Image, size: int) -> np.ndarray:
    """Fit the whole image into a white ``size`` square (keeps tall product shots whole)."""
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0), ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def crop_box(img: Image.Image, box) -> Image.Image:
    """Crop to ``box`` = (x0, y0, x1, y1) in 0..1 fractions of the image (search by region)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise BadImageError("box", f"{box} must be fractions 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1")
    w, h = img.size
    return img.crop((int(x0 * w), int(y0 * h), max(int(x1 * w), int(x0 * w) + 1),
                     max(int(y1 * h), int(y0 * h) + 1)))
