"""A consistent copy of a data folder while it serves (``shopsight backup DEST``).

Copying the folder with ``cp`` while the engine writes can catch a SQLite database between its file and
its write-ahead log, or an index snapshot being pruned. ``backup`` copies in the order that keeps the
copy whole: the index snapshot CURRENT names first (its files are never changed once published, so they
are hard-linked where the folders share a file system), then the catalogue through SQLite's online
backup (a snapshot at one sequence number, at or past the index's, so opening the copy catches the index
up as opening the original would; photo paths inside the source folder that older versions stored absolute
are made relative in the copy), then the photos (content-addressed and never rewritten: every photo the
copied catalogue names was written before its row, hence is there; linked or copied), then the
feature cache, the unheard-word counts and the photo address book (SQLite backups too), the bundle, the
synonyms file and any other folder (the demo's sample shop). Everything goes to a hidden sibling of DEST,
renamed to DEST at the end, so an interrupted backup never looks finished; DEST must not exist.
Photos are stored relative to the data folder (``catalog.py``), so the copy serves from where it lies:
``shopsight --data-dir DEST serve``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from .catalog import Catalog, stored_photo
from .config import EngineConfig
from .errors import ShopsightError

DATABASES = ("catalog.db", "unheard.db")
SKIPPED = {"index", "photos", "feeds", "features.db", *DATABASES}


class BackupError(ShopsightError):
    """A backup that cannot be made (the destination exists, the source is no data folder)."""


def backup(config: EngineConfig, dest: str | Path, features: bool = True) -> dict:
    """Copy ``config``'s data folder to ``dest``; returns what was copied (also written to dest/BACKUP.json)."""
    src, dest = config.path, Path(dest)
    if not (src / "catalog.db").exists():
        raise BackupError(f"{src} holds no catalogue (catalog.db): nothing to back up")
    if dest.exists():
        raise BackupError(f"{dest} exists: a backup goes to a new folder")
    tmp = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        made = {"created": time.time(), "source": str(src.resolve()), "index": _index(src / "index", tmp / "index")}
        _database(src / "catalog.db", tmp / "catalog.db")
        made["paths_made_relative"] = _relative_photos(tmp / "catalog.db", src.resolve())
        catalog = Catalog(tmp / "catalog.db")
        made.update(products=len(catalog), catalog_seq=catalog.seq)
        catalog.close()
        made["photos"] = _photos(src / "photos", tmp / "photos")
        made["features"] = features and config.feature_cache_path.exists()
        if made["features"]:
            _database(config.feature_cache_path, tmp / "features.db")
        for name in DATABASES[1:]:
            if (src / name).exists():
                _database(src / name, tmp / name)
        _rest(src, tmp, config)
        (tmp / "BACKUP.json").write_text(json.dumps(made, indent=1))
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return made


def _database(src: Path, dest: Path) -> None:
    """SQLite's online backup: a consistent snapshot while others write."""
    source = sqlite3.connect(src, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.backup(target, pages=4096)
    finally:
        target.close()
        source.close()


def _relative_photos(db: Path, root: Path) -> int:
    """In the copy, photo paths inside the source folder stored absolute (by versions before the twenty-eighth
    session) made relative, so they resolve inside the copy; returns how many products changed."""
    conn = sqlite3.connect(db)
    changed = 0
    try:
        with conn:
            for rowid, images in conn.execute("SELECT rowid, images FROM products").fetchall():
                refs = json.loads(images)
                stored = [stored_photo(ref, root) for ref in refs]
                if stored != refs:
                    conn.execute("UPDATE products SET images = ? WHERE rowid = ?", (json.dumps(stored), rowid))
                    changed += 1
    finally:
        conn.close()
    return changed


def _index(src: Path, dest: Path, tries: int = 5) -> str | None:
    """Copy the snapshot CURRENT names (again if a newer one replaced it while copying); its name."""
    for _ in range(tries):
        pointer = src / "CURRENT"
        if not pointer.exists():
            return None
        name = pointer.read_text().strip()
        try:
            shutil.copytree(src / name, dest / name, copy_function=_link_or_copy)
        except (FileNotFoundError, shutil.Error):  # pruned under us: a newer snapshot is CURRENT now
            shutil.rmtree(dest / name, ignore_errors=True)
            continue
        (dest / "CURRENT").write_text(name)
        return name
    raise BackupError(f"{src}: the index snapshot kept changing while it was copied; try again")


def _photos(src: Path, dest: Path) -> int:
    if not src.exists():
        return 0
    dest.mkdir()
    n = 0
    for path in src.iterdir():
        if (path.name.startswith(".") or not path.is_file() or path.name.startswith("addresses.db")
                or path.suffix in (".tmp", ".part")):  # a writer's file on its way in
            continue
        _link_or_copy(path, dest / path.name)
        n += 1
    if (src / "addresses.db").exists():
        _database(src / "addresses.db", dest / "addresses.db")
    return n


def _rest(src: Path, dest: Path, config: EngineConfig) -> None:
    """The bundle, the synonyms file and any other file or folder (the demo's sample shop), as they are."""
    for path in src.iterdir():
        if path.name in SKIPPED or path.name.startswith(".") or path.name.endswith(("-wal", "-shm")):
            continue
        if path.is_dir():
            shutil.copytree(path, dest / path.name)
        else:
            shutil.copy2(path, dest / path.name)
    if config.synonyms_path.exists() and not (dest / "synonyms.txt").exists():
        shutil.copy2(config.synonyms_path, dest / "synonyms.txt")


def _link_or_copy(src, dest) -> str:
    """Hard-link a file that is never rewritten (a snapshot's, a photo), or copy it across file systems."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)
    return str(dest)
