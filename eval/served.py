"""A real server on a data folder and clients searching it, for the serving benches (``serve_compact_bench``,
``feed_serve_bench``): ``shopsight serve`` (gunicorn) started and stopped, JSON calls, and client threads that search
five short texts in turn, recording each search's end time and latency and any failed request."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .latency import summary

WORDS = ["red mug", "blue dress", "striped hoodie", "green bag", "black watch"]


class Served:
    """``with Served(data_dir, workers, port) as served:`` the server answers ``served.call`` until the block ends."""

    def __init__(self, data_dir: Path, workers: int = 2, port: int = 8765, settings: tuple[str, ...] = (),
                 serve_args: tuple[str, ...] = ()):
        self.data_dir, self.workers, self.port = Path(data_dir), workers, port
        self.cli = [sys.executable, "-m", "engine.cli", "--data-dir", str(self.data_dir)]
        self.settings = [arg for setting in settings for arg in ("--set", setting)]  # the server's config only
        self.serve_args = list(serve_args)  # more options of ``shopsight serve``
        self._server: subprocess.Popen | None = None

    def __enter__(self) -> "Served":
        self._server = subprocess.Popen([*self.cli, *self.settings, "serve", "--workers", str(self.workers), "--port",
                                         str(self.port), *self.serve_args],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                self.call("/api/health")
                return self
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"the server on {self.data_dir} did not answer in 600 s")

    def __exit__(self, *exc) -> None:
        self._server.terminate()
        self._server.wait(timeout=60)

    def call(self, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read())

    def health(self, n: int = 10) -> list[dict]:
        """``/api/health`` ``n`` times in a row (the answers come from whichever workers take them)."""
        return [self.call("/api/health") for _ in range(n)]


class Searching:
    """``with Searching(served, clients):`` that many threads search without pause; ``latency`` holds (end time,
    ms) per search, ``errors`` the failed requests."""

    def __init__(self, served: Served, clients: int = 2):
        self.served, self.clients = served, clients
        self.latency: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "Searching":
        self._threads = [threading.Thread(target=self._search, args=(i,)) for i in range(self.clients)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _search(self, i: int) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                self.served.call("/api/search", {"text": WORDS[i % len(WORDS)], "k": 10})
            except OSError as e:
                self.errors.append(repr(e))
            self.latency.append((time.time(), 1000 * (time.perf_counter() - t)))
            i += 1

    def report(self, phases: dict[str, tuple[float, float]]) -> None:
        """Print the searches' latency in each named phase (``time.time()`` bounds) and the failed requests."""
        for name, (a, b) in phases.items():
            ms = [m for at, m in self.latency if a <= at < b]
            if ms:
                print(f"searches {name}: {summary(ms)}")
        print(f"failed requests: {len(self.errors)} {self.errors[:3]}")
