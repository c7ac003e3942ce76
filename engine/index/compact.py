"""Compaction: the index without the rows of deleted and re-embedded products, made from its own stored vectors.

    the table's live rows -> the same products renumbered 0, 1, ... (attribute table subset, fingerprints)
      -> per store, a block of products at a time: their live vector rows copied into a build-folder file
      -> ANN structures trained again -> (saved by the caller) a snapshot of a new build

A deleted product, and a product embedded again because its title or photos changed, leave their old rows in the
table and in every store (a price or attribute feed leaves none: restated in place). Searches skip them, but they
hold memory, disk and scan time until the next full build, which runs the towers, heads and channels over the
whole catalogue again. Compaction copies the live vectors as they are: no tower, no catalogue read. The result is
a new build, so serving workers open it in the background (``server/state.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .product_index import ProductIndex

BLOCK = 65_536  # products whose vector rows are copied together
DUE_DEAD_SHARE = 0.25  # past this share of dead rows a compaction is due (a worker's log hint, ``shopsight status``)


def dead_share(index: ProductIndex) -> float:
    """The share of the table's rows that are dead (0 for an empty index)."""
    n = len(index.table)
    return 0.0 if n == 0 else 1.0 - index.table.n_alive / n


def whole_stores(index: ProductIndex) -> list[str]:
    """The stores a save would write out whole (``VectorIndex.saves_whole``: more than a quarter of their rows added
    since their file was written), which only a compaction (a new build) makes linkable again."""
    return [prefix for prefix, store in index.stores().items() if store.saves_whole]


def compacted(index: ProductIndex, root: str | Path) -> ProductIndex:
    """A new index (a new build id) of ``index``'s live products only, its stores' files in a build folder in index
    root ``root`` until its ``save``. Raises ``DiskFullError`` before writing when the disk cannot hold the files."""
    root = Path(root)
    live = np.flatnonzero(index.table.alive)
    new = ProductIndex(index.dim, index.cfg, index.fingerprint, index.photo_channels)
    new.table = index.table.subset(live)
    content = np.zeros(len(live), np.uint64)
    known = live < len(index._content)
    content[known] = index._content[live[known]]
    new._remember(np.arange(len(live)), content)
    new.seq, new.look_stats = index.seq, index.look_stats
    new.look_colour_weight, new.shared_fit = index.look_colour_weight, index.shared_fit
    with new.building(root, index.photos.n_alive, len(live)):
        targets = new.stores()
        for prefix, store in index.stores().items():
            for start in range(0, len(live), BLOCK):
                vector_rows, which = store.rows_of_owners(live[start:start + BLOCK])
                targets[prefix].add(store.take(vector_rows), start + which)
        new.build()
    return new
