"""Vector rows kept in a file while an index is built, so that a build needs memory for a chunk of products, not
for the whole catalogue's vectors (about 29 kB a photo across the channels: 600,000 photos filled this 24 GB machine).

``GrowingArray`` is an ``.npy`` file whose rows grow in place: the header leaves room for any shape, growing
lengthens the file (sparse, nothing is copied) and maps it again, and ``finish`` writes the real shape, cuts the
spare rows and moves the file where the snapshot wants it. Build folders are named ``.build-<pid>-<ns>`` inside
the index root (the snapshot's file system, so moving a file is a rename); one whose process is gone is removed
by the next snapshot's prune (``product_index._prune``).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

HEADER = 128  # bytes of .npy header: magic, version, length, then the dict padded with spaces (any shape fits)
PREFIX = ".build-"


class GrowingArray:
    def __init__(self, path: Path, dtype, dim: int):
        self.path, self.dtype, self.dim = Path(path), np.dtype(dtype), dim
        self.row_bytes = self.dtype.itemsize * dim
        with open(self.path, "wb") as fp:
            fp.write(_header(self.dtype, (0, dim)))

    def reserve(self, rows: int) -> np.memmap:
        """A writable map of the first ``rows`` rows (at least one); the file grows to hold them, rows written
        before keep their values (an earlier, shorter map stays valid). The disk space is allocated here, so a
        full disk raises ``OSError`` (ENOSPC) now rather than killing the process (SIGBUS) when a row is written."""
        rows = max(int(rows), 1)
        size, want = os.path.getsize(self.path), HEADER + rows * self.row_bytes
        if size < want:
            if hasattr(os, "posix_fallocate"):
                with open(self.path, "r+b") as fp:
                    os.posix_fallocate(fp.fileno(), size, want - size)
            else:
                os.truncate(self.path, want)
        return np.memmap(self.path, self.dtype, "r+", offset=HEADER, shape=(rows, self.dim))

    def finish(self, rows: int, dest: Path) -> Path:
        """Make the file an ``.npy`` of its first ``rows`` rows, on disk, at ``dest``. Maps of it taken before must
        not read past ``rows`` afterwards (the spare rows are cut from the file)."""
        with open(self.path, "r+b") as fp:
            fp.write(_header(self.dtype, (int(rows), self.dim)))
            fp.truncate(HEADER + int(rows) * self.row_bytes)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(self.path, dest)
        self.path = Path(dest)
        return self.path


def build_folder(root: Path) -> Path:
    """A new, empty build folder in index root ``root`` (those of ended processes removed first)."""
    root.mkdir(parents=True, exist_ok=True)
    prune(root)
    folder = root / f"{PREFIX}{os.getpid()}-{time.time_ns()}"
    folder.mkdir()
    return folder


def prune(root: Path) -> None:
    """Remove the build folders in index root ``root`` whose process has ended."""
    for child in root.glob(f"{PREFIX}*"):
        if child.is_dir() and abandoned(child):
            remove(child)


def abandoned(folder: Path) -> bool:
    """A build folder whose process has ended (killed, or failed without cleaning up)."""
    try:
        pid = int(folder.name[len(PREFIX):].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _header(dtype: np.dtype, shape: tuple[int, int]) -> bytes:
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    body = HEADER - 10
    if len(text) + 1 > body:
        raise ValueError(f"shape {shape} does not fit an .npy header of {HEADER} bytes")
    return b"\x93NUMPY\x01\x00" + body.to_bytes(2, "little") + (text.ljust(body - 1) + "\n").encode("latin1")


def linked(source: Path | None, dest: Path) -> bool:
    """Hard-link ``source`` at ``dest`` (a published snapshot's files never change, so two snapshots can share one);
    False where that cannot be done (another file system, a file gone): the caller writes a copy."""
    try:
        return source is not None and os.link(source, dest) is None
    except OSError as e:
        logging.getLogger(__name__).debug("could not link %s into the new snapshot (%s): copying it", source, e)
        return False
