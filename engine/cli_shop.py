"""The shop's upkeep commands: near-duplicate groups, synonyms, unheard words, exports, backups, the index's status."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .cli_args import EXIT_OK, config_of as _config, existing_data, share as _share


def cmd_duplicates(args) -> int:
    from .duplicates import find_duplicates
    from .engine import SearchEngine

    cfg = _config(args)
    engine = SearchEngine.open(cfg)
    distance = cfg.rerank.same_photo_distance if args.same_photo_distance is None else args.same_photo_distance
    gap = cfg.rerank.fold_price_gap if args.price_gap is None else args.price_gap
    groups = find_duplicates(engine.index, args.threshold, same_photo_distance=distance, price_gap=gap)
    ids = engine.index.table.ids
    for group in groups:
        print(" ".join(ids[r] for r in group))
    print(json.dumps({"groups": len(groups)}), file=sys.stderr)
    return EXIT_OK


def cmd_synonyms(args) -> int:
    """Install the shop's synonyms file (checked first) or, without FILE, print the one in force."""
    from . import synonyms

    path = _config(args).synonyms_path
    if args.file is None:
        print(path.read_text(encoding="utf-8") if path.exists() else "", end="")
        return EXIT_OK
    found = synonyms.install(Path(args.file).read_text(encoding="utf-8"), path)
    print(json.dumps({"synonyms": str(path), **found.sizes()}))
    return EXIT_OK


def cmd_unheard(args) -> int:
    """The words shoppers searched that no product holds, most searched first (``--clear``: forget them)."""
    from .unheard import Unheard

    cfg = _config(args)  # (the engine, with its towers, only for --near)
    log = Unheard(cfg.path / "unheard.db")
    if args.clear:
        print(json.dumps({"forgotten": log.forget()}))
        return EXIT_OK
    rows = log.top(args.k)
    near = {}
    if args.near and rows:  # loads the text tower (seconds)
        from .engine import SearchEngine
        from .unheard import nearest_in

        near = nearest_in(SearchEngine.open(cfg), [r["word"] for r in rows])
    for row in rows:
        print(f"{row['n']:6d}  {row['word']}" + (f"  (near: {', '.join(near[row['word']])})" if near else ""))
    return EXIT_OK


def cmd_export(args) -> int:
    """Every product as a JSONL row that ``shopsight import`` reads back (``--mapping`` none): attributes as an
    object, a predicted category marked, photo paths as the catalogue holds them (absolute). Written to a
    temporary file and renamed, so a killed export leaves no half file under the name."""
    import os
    import tempfile

    from .catalog import Catalog

    dest = Path(args.file)
    if not dest.parent.is_dir():  # said by the folder's name, not the temporary file's
        raise FileNotFoundError(2, "no such folder to write the export in", str(dest.parent))
    catalog = Catalog(existing_data(args).path / "catalog.db")
    fd, tmp = tempfile.mkstemp(dir=dest.parent if str(dest.parent) else ".", prefix=f".{dest.name}.", suffix=".part")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            for product in catalog:
                fp.write(json.dumps(product.as_dict(), ensure_ascii=False) + "\n")
                n += 1
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        catalog.close()
    print(json.dumps({"exported": n, "file": str(dest)}))
    return EXIT_OK


def cmd_backup(args) -> int:
    """A consistent copy of the data folder while it serves (``engine/backup.py``)."""
    from .backup import backup

    print(json.dumps(backup(existing_data(args), args.dest, features=not args.no_features)))
    return EXIT_OK


def cmd_status(args) -> int:
    """The data folder's catalogue and index at a glance, as JSON (``engine/status.py``)."""
    from .status import status

    print(json.dumps(status(existing_data(args)), indent=1))
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("duplicates", help="list groups of near-duplicate products")
    p.add_argument("--threshold", type=float, default=0.995, help="look-vector cosine (default 0.995)")
    p.add_argument("--same-photo-distance", type=float, default=None,
                   help="first photos that are the same picture: largest thumbnail cell distance "
                   "(default: rerank.same_photo_distance, 0.045; 0: off)")
    p.add_argument("--price-gap", type=_share, default=None,
                   help="listings priced more than this share of the higher price apart are variants, never "
                   "duplicates (default: rerank.fold_price_gap, 0.1; 1: prices never keep listings apart)")
    p.set_defaults(fn=cmd_duplicates)

    p = sub.add_parser("synonyms", help="install the shop's synonyms (Solr's format: 'tee, tshirt' and "
                       "'lv => louis vuitton' lines) or print those in force")
    p.add_argument("file", nargs="?", help="the synonyms file to install (checked first; none: print)")
    p.set_defaults(fn=cmd_synonyms)

    p = sub.add_parser("unheard", help="words shoppers searched that no product holds, most searched first")
    p.add_argument("-k", type=int, default=50, help="how many (default 50)")
    p.add_argument("--clear", action="store_true", help="forget the counts")
    p.add_argument("--near", action="store_true", help="with each word the shop's 3 category names nearest to it "
                   "in the text tower's space (loads the tower)")
    p.set_defaults(fn=cmd_unheard)

    p = sub.add_parser("export", help="write every product as JSONL that import reads back")
    p.add_argument("file", help="the JSONL file to write")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("backup", help="copy the data folder, consistently, while it serves (to a new folder)")
    p.add_argument("dest", help="the backup folder (must not exist); serve from it with --data-dir DEST")
    p.add_argument("--no-features", action="store_true", help="leave the tower feature cache out (smaller; a "
                   "restored copy recomputes the features of products changed after its index snapshot)")
    p.set_defaults(fn=cmd_backup)

    p = sub.add_parser("status", help="how far the index is behind the catalogue, its dead rows and tails (is a "
                       "compaction due?), its size, the disk's free space and who writes it now, as JSON")
    p.set_defaults(fn=cmd_status)
