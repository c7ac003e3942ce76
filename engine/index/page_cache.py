"""Mapped snapshot files and the page cache every process shares: which files are read into it at load
(``read_through``), and which are read a few rows at a time (``by_row``)."""

from __future__ import annotations

import mmap
import threading
from pathlib import Path

import numpy as np


def read_through(groups: list[list[Path]], budget: int) -> threading.Thread:
    """Read files once in large pieces in a background thread, so that their pages sit in the page cache that
    every process shares: a mapped row asked for later costs no disk read (cold, 10 cells rows took ~3.5 ms a
    query, cached 0.4; the kernel's own read-ahead on request, fadvise WILLNEED, did not warm them here). Only
    ``within(groups, budget)``: reading a snapshot larger than memory through only evicts its own first files (at
    1M products, 39 GB on a 24 GB machine); the rest are read as their rows are asked for."""
    thread = threading.Thread(target=_read_files, args=(within(groups, budget),), daemon=True, name="read-through")
    thread.start()
    return thread


def within(groups: list[list[Path]], budget: int) -> list[str]:
    """The files ``read_through`` reads: group by group, each group's smallest first, every file that still fits
    in ``budget`` bytes in all (one too large is passed over for the smaller ones after it)."""
    chosen, total = [], 0
    for group in groups:
        sizes = []
        for path in group:
            try:
                sizes.append((path.stat().st_size, str(path)))
            except OSError:  # pruned meanwhile
                pass
        for size, path in sorted(sizes):
            if total + size <= budget:
                chosen.append(path)
                total += size
    return chosen


def _read_files(paths: list[str]) -> None:
    buf = bytearray(1 << 23)
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as fp:
                while fp.readinto(buf):
                    pass
        except OSError:  # a snapshot pruned meanwhile: rows are then read as they are asked for
            pass


def by_row(vecs: np.ndarray) -> None:
    """A mapped store read a few rows at a time: a page fault reads only its own pages, not the kernel's read-ahead
    window around them (8 MB on this machine's disk, /sys/block/vda/queue/read_ahead_kb, for one 5 KB look)."""
    if hasattr(mmap, "MADV_RANDOM") and getattr(vecs, "_mmap", None) is not None:
        vecs._mmap.madvise(mmap.MADV_RANDOM)
