"""Photo extras: vectors of a decoded photo kept beside its tower features in the feature cache.

A tower pass decodes every photo; what else the index needs from the decoded pixels (the same-photo
signature, the palette) is computed from the same decoding and cached under the photo's content hash
in its own namespace, so no photo is decoded twice.
"""

from __future__ import annotations

from .. import signatures
from . import palette

SIGNATURE_TOWER = f"signature{signatures.SIZE}"  # feature-cache namespace of the same-photo signatures
# vectors of a decoded photo kept beside its tower features: kind -> (feature-cache namespace, function, size)
# (the functions are looked up when called, so a test may stand in for them)
PHOTO_EXTRAS = {"signature": (SIGNATURE_TOWER, lambda img: signatures.photo_signature(img), signatures.DIM),
                "palette": (f"palette{palette.HUE_BINS}x{palette.SIDE}", lambda img: palette.photo_palette(img),
                            palette.DIM)}


def photo_extras_of(channels) -> tuple[str, ...]:
    """The ``PHOTO_EXTRAS`` kinds among an index's photo ``channels`` (names), in ``PHOTO_EXTRAS`` order."""
    return tuple(kind for kind in PHOTO_EXTRAS if kind in channels)


def derived_key(feature_key: str, namespace: str) -> str:
    """Another cached vector's key (``namespace``) for the same file as an image feature key (same
    content hash; equal to ``image_key(namespace, path)``)."""
    return f"{namespace}|img|{feature_key.split('|img|', 1)[1]}"
