"""This process's memory as Linux reports it (``/proc/self/status``), for the benches: a field now, and the peak
of anonymous memory over a block of work (sampled: the kernel keeps a peak only of the resident total, VmHWM, which
also counts the pages of files the process maps)."""

from __future__ import annotations

import threading
from pathlib import Path


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in kB ("VmRSS", "VmHWM", "RssAnon"...), 0 when the kernel has none."""
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    return 0


class PeakAnon:
    """``with PeakAnon() as peak: ...`` then ``peak.mb``: the largest RssAnon seen every ``every`` seconds."""

    def __init__(self, every: float = 0.02):
        self.every, self.mb = every, status_kb("RssAnon") // 1024
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(self.every):
            self.mb = max(self.mb, status_kb("RssAnon") // 1024)

    def __enter__(self) -> "PeakAnon":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.mb = max(self.mb, status_kb("RssAnon") // 1024)
