"""Catalogue photos given as web addresses: fetched once, checked, kept in the data folder.

Shop feeds name their photos by address (Google Merchant Center's ``image_link`` and
``additional_image_link``, a PIM export's CDN links). An import hands each batch's addresses to
``PhotoStore.localise``, which downloads them ``FetchConfig.workers`` at a time (threads: the work is
waiting on the network and Pillow's decoder), tries again after a connection error, a timeout, HTTP 429
or 5xx, refuses what is larger than ``max_bytes`` or not a photo Pillow decodes the way uploads are
checked (``images.open_image``), and keeps each photo as sent under ``<data_dir>/photos``, named by its
content's hash and written atomically (a temporary file of its own, then renamed): a killed import
leaves no half photo behind, and two addresses of one picture share a file. ``addresses.db`` (SQLite)
remembers which address gave which file (by name, so the data folder can move), so an import run again (a price feed that still carries its
image column) downloads only the addresses it has not kept (``refetch`` downloads them all again).

The catalogue file itself may come from an address too (``download_feed``: a feed the shop publishes,
streamed into a temporary file under ``<data_dir>/feeds``, ``max_feed_bytes`` at most), with the same tries.
Only the command-line import fetches; the HTTP API takes photos as uploads, never as addresses (it
would let anyone holding the key make the server fetch any address on its network).
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from PIL import Image

from . import __version__
from .config import FetchConfig
from .errors import BadImageError, ShopsightError
from .images import open_image
from .sqlite import transaction

USER_AGENT = f"Shopsight/{__version__} (catalogue import)"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
SUFFIX = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}
CHUNK = 1 << 16
STALE_S = 3600.0


class FetchError(ShopsightError):
    """A photo address that gave no photo; ``reason`` says why ("HTTP 404", "timed out", ...)."""

    def __init__(self, address: str, reason: str):
        super().__init__(f"{address}: {reason}")
        self.address = address
        self.reason = reason


def is_address(ref: str) -> bool:
    """True for an http(s) address; anything else in an images cell is a path."""
    return ref[:8].lower().startswith(("http://", "https://"))


@dataclass
class Localised:
    """What ``PhotoStore.localise`` did: the kept file of every address that gave a photo, the reason for
    every one that did not, and how many were downloaded now or reused from an earlier import."""

    files: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    downloaded: int = 0
    reused: int = 0
    bytes: int = 0


class PhotoStore:
    def __init__(self, folder: str | Path, cfg: FetchConfig | None = None, max_pixels: int = 40_000_000):
        self.folder = Path(folder)
        self.cfg = cfg or FetchConfig()
        self.max_pixels = max_pixels
        self._db: sqlite3.Connection | None = None

    def localise(self, addresses) -> Localised:
        """Download (or reuse) every address once; never raises for one address's failure."""
        unique = list(dict.fromkeys(addresses))
        out = Localised()
        if not unique:
            return out
        out.files = {} if self.cfg.refetch else self._kept(unique)
        out.reused = len(out.files)
        todo = [a for a in unique if a not in out.files]
        if todo:
            with ThreadPoolExecutor(max(1, min(self.cfg.workers, len(todo))), thread_name_prefix="fetch") as pool:
                outcomes = list(pool.map(self._try, todo))
            new = {}
            for address, outcome in zip(todo, outcomes):
                if isinstance(outcome, FetchError):
                    out.failed[address] = outcome.reason
                else:
                    new[address] = outcome[0]
                    out.bytes += outcome[1]
            self._remember(new)
            out.files.update(new)
            out.downloaded = len(new)
        return out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _try(self, address: str) -> tuple[str, int] | FetchError:
        try:
            buf = io.BytesIO()
            fetch(address, self.cfg, buf, self.cfg.max_bytes, "image/*")
            data = buf.getvalue()
            return self._keep(data, address), len(data)
        except FetchError as err:
            return err

    def _keep(self, data: bytes, address: str) -> str:
        """Check ``data`` is a photo and keep it as sent; returns the kept file's path."""
        try:
            open_image(data, self.max_pixels, "images")
            with Image.open(io.BytesIO(data)) as img:
                suffix = SUFFIX.get(img.format, ".img")
        except BadImageError as err:
            raise FetchError(address, err.message) from None
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".fetch-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fp:
                    fp.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return str(path.resolve())

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / "addresses.db", timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS fetched (address TEXT PRIMARY KEY, file TEXT NOT NULL, "
                             "fetched REAL NOT NULL)")
            self._sweep()
        return self._db

    def _sweep(self) -> None:
        """Remove temporary files a killed import left an hour or more ago (never another import's live one)."""
        for tmp in self.folder.glob(".fetch-*.part"):
            try:
                if time.time() - tmp.stat().st_mtime > STALE_S:
                    tmp.unlink()
            except FileNotFoundError:
                pass

    def _kept(self, addresses: list[str]) -> dict[str, str]:
        """The files earlier imports kept for ``addresses``, those still on disk."""
        kept = {}
        for start in range(0, len(addresses), 500):
            part = addresses[start:start + 500]
            rows = self._conn().execute(f"SELECT address, file FROM fetched WHERE address IN ({','.join('?' * len(part))})",
                                        part).fetchall()
            for address, name in rows:  # file names, relative to the folder (absolute before it could move)
                path = self.folder.resolve() / name
                if path.exists():
                    kept[address] = str(path)
        return kept

    def _remember(self, files: dict[str, str]) -> None:
        if files:
            now = time.time()
            with transaction(self._conn()) as conn:
                conn.executemany("INSERT OR REPLACE INTO fetched VALUES (?, ?, ?)",
                                 [(a, Path(f).name, now) for a, f in files.items()])


def download_feed(address: str, folder: Path, cfg: FetchConfig, fmt: str | None = None) -> Path:
    """Download a catalogue file from ``address`` into a temporary file under ``folder`` whose suffix names its
    format (``fmt``, else the address's own: .csv, .tsv, .jsonl, .ndjson, .xml, .rss, .atom); the caller removes it."""
    suffix = f".{fmt}" if fmt else PurePosixPath(urlsplit(address).path).suffix.lower()
    if suffix not in (".csv", ".tsv", ".jsonl", ".ndjson", ".xml", ".rss", ".atom"):
        raise FetchError(address, f"cannot tell the file's format from {suffix or 'no suffix'!r}: name it "
                                  "(--format csv|tsv|jsonl|xml)")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".feed-", suffix=suffix)
    try:
        with os.fdopen(fd, "w+b") as sink:
            fetch(address, cfg, sink, cfg.max_feed_bytes)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def fetch(address: str, cfg: FetchConfig, sink, max_bytes: int, accept: str = "*/*") -> int:
    """Write the address's bytes to ``sink`` (a seekable binary file), after at most ``cfg.retries`` more
    tries for failures that may pass; returns how many. ``FetchError`` says why it gave nothing."""
    for attempt in range(cfg.retries + 1):
        sink.seek(0)
        sink.truncate()
        try:
            return _download(address, cfg, sink, max_bytes, accept)
        except FetchError as err:
            if attempt == cfg.retries or not getattr(err, "passing", False):
                raise
        time.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


def _download(address: str, cfg: FetchConfig, sink, max_bytes: int, accept: str) -> int:
    request = urllib.request.Request(address, headers={"User-Agent": USER_AGENT, "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout_s) as response:
            size = response.headers.get("Content-Length")
            if size and size.isdigit() and int(size) > max_bytes:
                raise FetchError(address, f"{int(size)} bytes, more than the limit of {max_bytes}")
            return _copy(response, sink, address, max_bytes)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response's socket
        raise _passing(FetchError(address, f"HTTP {exc.code}"), exc.code in RETRY_STATUS) from None
    except urllib.error.URLError as exc:
        raise _passing(FetchError(address, f"cannot connect: {_reason(exc.reason)}"), True) from None
    except (TimeoutError, OSError) as exc:  # socket timeouts and resets while reading
        raise _passing(FetchError(address, f"download broke off: {_reason(exc)}"), True) from None


def _copy(response, sink, address: str, max_bytes: int) -> int:
    n = 0
    while chunk := response.read(CHUNK):
        n += len(chunk)
        if n > max_bytes:
            raise FetchError(address, f"more than the limit of {max_bytes} bytes")
        sink.write(chunk)
    return n


def _passing(err: FetchError, passing: bool) -> FetchError:
    err.passing = passing  # worth another try
    return err


def _reason(reason) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    return str(reason) or type(reason).__name__
