"""``shopsight status``: what an operator asks of a data folder without opening its index (a JSON report).

How far the index's snapshot is behind the catalogue (a worker starting now catches that up), how much of it is dead
(deleted and re-embedded products' rows, the reason a compaction is due), each store's rows and its tail (rows added
since its vectors file was written, kept beside it while at most a quarter of it: a serving worker holds them in
memory), its size on disk and the disk's free space, and who is writing the index now. Reads the catalogue's sequence and count, ``CURRENT``, the
snapshot's ``meta.json`` and its files' headers: ~0.3 s at 1M products, while the shop serves.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from .catalog import Catalog
from .config import EngineConfig
from .index import writing
from .index.compact import DUE_DEAD_SHARE
from .index.product_index import current_snapshot, snapshot_seq


def status(config: EngineConfig) -> dict:
    root = config.path
    catalog = Catalog(root / "catalog.db")
    report = {"data_dir": str(root), "catalogue": {"products": catalog.count(), "seq": catalog.seq},
              "index": None, "writer": writing.holder(root / "index"), "compaction_due": []}
    current = current_snapshot(root / "index")
    if current is None:
        return report
    name, build = current
    folder = root / "index" / name
    alive = json.loads((folder / "meta.json").read_text())["alive"]
    live = sum(alive)
    dead = 1.0 - live / len(alive) if alive else 0.0
    stores = {f.name[: -len(".vectors.npy")]: _rows(f) for f in sorted(folder.glob("*.vectors.npy"))}
    tails = {prefix: _rows(folder / f"{prefix}.tail.npy") for prefix in stores
             if (folder / f"{prefix}.tail.npy").exists()}
    report["index"] = {
        "snapshot": name, "build": build, "seq": snapshot_seq(name), "behind": catalog.seq - snapshot_seq(name),
        "product_rows": len(alive), "live": live, "dead_share": round(dead, 4),
        "stores": {prefix: {"rows": rows + tails.get(prefix, 0), "tail": tails.get(prefix, 0)}
                   for prefix, rows in stores.items()},
        "bytes": sum(f.stat().st_size for f in folder.iterdir()), "disk_free_bytes": shutil.disk_usage(folder).free}
    if dead > DUE_DEAD_SHARE:
        report["compaction_due"].append(f"{100 * dead:.0f} % of the product rows are dead")
    return report


def _rows(path: Path) -> int:
    """The rows of an ``.npy`` file, from its header (a mapped open: nothing read)."""
    return int(np.load(path, mmap_mode="r").shape[0])
