"""Decoding at the edge: EXIF orientation, odd modes, any size; bombs and non-images refused."""

import io

import numpy as np
import pytest
from PIL import Image

from engine.errors import BadImageError
from engine.images import crop_box, open_image, pad_square, square_crop


def _bytes(img, fmt="PNG", **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees
    out = open_image(_bytes(img, "JPEG", exif=exif.tobytes()))
    assert out.size == (20, 40)


@pytest.mark.parametrize("mode,fmt", [("RGBA", "PNG"), ("LA", "PNG"), ("L", "PNG"), ("CMYK", "JPEG"),
                                      ("P", "GIF"), ("I;16", "PNG"), ("1", "BMP")])
def test_modes_become_rgb(mode, fmt):
    img = Image.new(mode, (7, 5))
    out = open_image(_bytes(img, fmt))
    assert out.mode == "RGB" and out.size == (7, 5)


def test_transparent_pixels_become_white():
    img = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert open_image(_bytes(img)).getpixel((0, 0)) == (255, 255, 255)


def test_refuses_bombs_and_non_images():
    with pytest.raises(BadImageError, match="exceeds the limit"):
        open_image(_bytes(Image.new("L", (3000, 3000))), max_pixels=1_000_000)
    with pytest.raises(BadImageError, match="not a supported image"):
        open_image(b"<html><body>hi</body></html>")
    with pytest.raises(BadImageError, match="not a supported image"):
        open_image(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    with pytest.raises(BadImageError):
        open_image(_bytes(Image.new("RGB", (50, 50)), "JPEG")[:60])


@pytest.mark.parametrize("size", [(1, 1), (3, 500), (500, 3), (64, 64), (1000, 700)])
def test_any_size_fits_the_tower_input(size):
    img = Image.new("RGB", size, "blue")
    assert square_crop(img, 32).shape == (32, 32, 3)
    assert pad_square(img, 32).shape == (32, 32, 3)


def test_crop_box_validates():
    img = Image.new("RGB", (100, 50))
    assert crop_box(img, (0.5, 0, 1, 1)).size == (50, 50)
    with pytest.raises(BadImageError, match="box"):
        crop_box(img, (0.5, 0, 0.2, 1))


def test_colour_histogram_sees_the_product_not_the_backdrop():
    from engine.encoders.colour import colour_histograms

    red = np.full((1, 16, 16, 3), 250, np.uint8)
    red[0, 4:12, 4:12] = (200, 30, 30)
    blue = red.copy()
    blue[0, 4:12, 4:12] = (30, 30, 200)
    h = colour_histograms(np.concatenate([red, blue]), 8)
    assert h.shape == (2, 72) and np.allclose((h ** 2).sum(1), 1)
    assert float(h[0] @ h[1]) < 0.1
