"""Tower features on a Dask cluster: indexing a catalogue past what one machine's towers can embed.

    shopsight --cluster tcp://scheduler:8786 index     # workers started with `dask worker tcp://...`
    shopsight --cluster local:4 index                  # a LocalCluster of 4 worker processes here

The frozen towers are what takes the time when a catalogue is indexed (tower features are computed
once per photo and text and cached; heads, index build and catalogue take seconds by comparison, see
docs/figures.md), so they are what is spread over machines. The coordinator (the process running
``shopsight index`` or ``train``) finds the photos and texts the feature cache lacks and sends them in
chunks to the workers: photo *bytes*, so workers need no shared filesystem; workers also return each
photo's same-photo signature, so the coordinator never decodes a photo. Each worker process loads
the towers named by the bundle once (from the same installed packages: `pip install 'shopsight[cluster]'`
on every worker) and sends the features back; at most ``2 x workers`` chunks are in flight, so the
coordinator's memory stays bounded on any catalogue size. The coordinator stores the features in its
feature cache (every few thousand photos, so a killed run keeps what came back) and goes on exactly as
without a cluster: a tower forward pass is the same computation
wherever it runs (``tests/test_cluster.py`` compares them). Query encoding never leaves the serving
process: batches under ``MIN_BATCH`` are computed locally.

A worker that raises (an unreadable photo) re-raises in the coordinator, as in one process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from .errors import BadInputError, MissingDependencyError

log = logging.getLogger(__name__)
MIN_BATCH = 64  # smaller batches (queries, a few new products) are embedded in-process

_TOWERS: dict = {}  # in a worker process: (kind, tower id, device, runtime) -> loaded tower


def _tower(kind: str, spec, device: str, runtime: str):
    """The worker's tower for ``spec``, built on first use and kept for the process's life."""
    from .encoders import build_image_tower, build_text_tower
    from .features import tower_id

    key = (kind, tower_id(spec), device, runtime)
    if key not in _TOWERS:
        tower = (build_image_tower if kind == "image" else build_text_tower)(spec, device)
        tower.use_runtime(runtime)
        _TOWERS[key] = tower
    return _TOWERS[key]


def image_chunk_features(blobs: list[bytes], spec, device: str, runtime: str, max_pixels: int,
                         extras: tuple[str, ...] = ()) -> np.ndarray:
    """Runs on a worker: (len(blobs), image_dim) float32 tower features of encoded photos, followed by
    each photo's ``extras`` (kinds of ``encoders.extras.PHOTO_EXTRAS``: same-photo signature, palette;
    their sizes' more columns, in that order), so the coordinator never decodes the photos itself."""
    from .encoders.extras import PHOTO_EXTRAS
    from .images import open_image

    tower = _tower("image", spec, device, runtime)
    images = [open_image(b, max_pixels) for b in blobs]
    feats = tower.features(tower.prepare(images)).astype(np.float32)
    columns = [np.stack([PHOTO_EXTRAS[kind][1](img) for img in images]) for kind in extras]
    return np.hstack([feats, *columns]).astype(np.float32) if columns else feats


def text_chunk_features(texts: list[str], role: str, spec, device: str, runtime: str) -> np.ndarray:
    """Runs on a worker: (len(texts), text_dim) float32 tower features."""
    return _tower("text", spec, device, runtime).encode(texts, role=role).astype(np.float32)


@dataclass(frozen=True)
class ClusterAddress:
    """``local:N`` (a LocalCluster of N single-threaded worker processes) or a scheduler address."""

    address: str

    def __post_init__(self):
        if self.address.startswith("local:"):
            n = self.address.split(":", 1)[1]
            if not n.isdigit() or int(n) < 1:
                raise BadInputError("cluster", f"{self.address!r}: local:N needs a worker count N >= 1")
        elif "://" not in self.address:
            raise BadInputError("cluster", f"{self.address!r}: expected local:N or a scheduler address "
                                           "such as tcp://host:8786")


class ClusterTowers:
    """Computes tower features for large batches on a Dask cluster (connected on first use)."""

    def __init__(self, address: str, chunk: int = 128):
        self.address = ClusterAddress(address).address
        self.chunk = chunk
        self._client = None
        self._local = None

    @property
    def client(self):
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise MissingDependencyError("dask.distributed", "cluster") from None
            if self.address.startswith("local:"):
                self._local = LocalCluster(n_workers=int(self.address.split(":", 1)[1]), threads_per_worker=1,
                                           processes=True, dashboard_address=":0")
                self._client = Client(self._local)
            else:
                self._client = Client(self.address)
            log.info("tower features on %s (%d workers)", self.address, len(self.workers()))
        return self._client

    def workers(self) -> dict:
        return self.client.scheduler_info()["workers"]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._local is not None:
            self._local.close()
        self._client = self._local = None

    def cache_block(self) -> int:
        """Photos per feature-cache write on the cluster: four windows, so the pipeline drains rarely."""
        return max(2048, 4 * self._window() * self.chunk)

    def _window(self) -> int:
        return max(2, 2 * len(self.workers()))

    def image_features(self, paths: Sequence[str], spec, device: str, runtime: str, max_pixels: int,
                       bar=None, extras: tuple[str, ...] = ()) -> np.ndarray:
        def args(chunk):
            return [_read(p) for p in chunk], spec, device, runtime, max_pixels, tuple(extras)

        return self._map(image_chunk_features, list(paths), args, bar)

    def text_features(self, texts: Sequence[str], role: str, spec, device: str, runtime: str) -> np.ndarray:
        return self._map(text_chunk_features, list(texts), lambda chunk: (chunk, role, spec, device, runtime))

    def _map(self, fn: Callable, items: list, args: Callable, bar=None) -> np.ndarray:
        """``fn(*args(chunk))`` for every chunk of ``items`` on the cluster, results in order; at most
        two chunks per worker in flight (``args`` reads a chunk's photos only when it is sent)."""
        from distributed import as_completed

        client = self.client
        chunks = [items[i:i + self.chunk] for i in range(0, len(items), self.chunk)]
        window = self._window()
        results: list = [None] * len(chunks)
        position: dict[str, int] = {}
        pending = as_completed()

        def submit(i: int) -> None:
            future = client.submit(fn, *args(chunks[i]), pure=False)
            position[future.key] = i
            pending.add(future)

        for i in range(min(window, len(chunks))):
            submit(i)
        sent = min(window, len(chunks))
        for future in pending:
            i = position.pop(future.key)
            results[i] = future.result()  # a worker's exception is raised here
            future.release()
            if bar is not None:
                bar.update(len(chunks[i]))
            if sent < len(chunks):
                submit(sent)
                sent += 1
        return np.concatenate(results) if results else np.zeros((0, 0), np.float32)


def _read(path: str) -> bytes:
    from .errors import BadImageError

    try:
        with open(path, "rb") as fp:
            return fp.read()
    except OSError as exc:
        raise BadImageError("image", f"cannot read {path}: {exc.strerror}") from exc
