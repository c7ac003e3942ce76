"""Catalogue files (CSV, TSV or JSONL) to validated ``Product`` rows, stored a batch at a time.

Column names are mapped by a ``ColumnMap`` (``engine/column_map.py``: options, a JSON mapping file or a
preset), so shop exports import without editing. A bad row becomes a ``RowError`` naming its line and
field; the other rows still import.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin

from PIL import Image, UnidentifiedImageError

from . import csv_text
from .column_map import PRESETS, ColumnMap, columns as _columns, header_names
from .errors import CatalogFormatError, ProductNotFoundError, RowError
from .feeds import grouped, named_attributes, plain_text, withdrawn
from .money import price_cell
from .remote_photos import PhotoStore, is_address
from .types import Product
from .xml_feed import read_xml

__all__ = ["PRESETS", "ColumnMap", "ImportReport", "RowError", "Withdrawn", "import_file", "parse_file", "parse_row",
           "read_rows"]


@dataclass(frozen=True)
class Withdrawn:
    """A row for a product the shop no longer sells (``ColumnMap.withdraw_when``)."""

    id: str
    rule: str


@dataclass
class ImportReport:
    """What an import did: how many rows were stored and every row that was refused."""

    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    downloaded: int = 0  # photo addresses fetched now
    reused: int = 0  # photo addresses an earlier import had fetched
    withdrawn: int = 0  # rows marking a product not for sale (removed when stored)
    removed: int = 0  # a full import: stored products the file does not name, removed
    removal_refused: str | None = None  # a full import that would have removed too many: why none was
    warnings: list[RowError] = field(default_factory=list)  # photos left out of rows stored without them (fetch.partial)
    repeated: list[RowError] = field(default_factory=list)  # rows whose id an earlier row of the file had: the later wins
    notes: list[str] = field(default_factory=list)  # how the file was read, where worth saying (not UTF-8)

    def as_dict(self) -> dict:
        return {"imported": self.imported, "errors": [e.as_dict() for e in self.errors],
                "photos_downloaded": self.downloaded, "photos_reused": self.reused, "withdrawn": self.withdrawn,
                "removed": self.removed, "removal_refused": self.removal_refused,
                "warnings": [w.as_dict() for w in self.warnings], "repeated": [r.as_dict() for r in self.repeated],
                "notes": list(self.notes)}


FORMATS = ("csv", "tsv", "jsonl", "xml")


def read_rows(path: str | Path, fmt: str | None = None, notes: list[str] | None = None
              ) -> Iterator[tuple[int, dict | RowError]]:
    """Yield (line, raw row dict) from CSV, TSV, JSONL or an RSS/Atom feed (``engine/xml_feed.py``), the format
    ``fmt`` or else the file's suffix's, or (line, RowError) for undecodable rows; ``notes`` gets how the file was
    read where it is worth saying (its encoding: ``engine/csv_text.py``)."""
    path = Path(path)
    suffix = f".{fmt}" if fmt else path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(path, "\t" if suffix == ".tsv" else ",", notes)
    elif suffix in (".xml", ".rss", ".atom"):
        yield from read_xml(path)
    else:
        raise CatalogFormatError(f"{path}: unknown catalogue format {suffix!r}; use .csv, .tsv, .jsonl or .xml "
                                 "(or name the format: --format csv|tsv|jsonl|xml)")


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict | RowError]]:
    with path.open("rb") as fp:
        for line_no, raw in enumerate(fp, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield line_no, RowError(line_no, "encoding", f"invalid UTF-8 at byte {exc.start}")
                continue
            except json.JSONDecodeError as exc:
                yield line_no, RowError(line_no, "json", exc.msg)
                continue
            if not isinstance(row, dict):
                yield line_no, RowError(line_no, "json", "a row must be a JSON object")
                continue
            yield line_no, row


def _read_csv(path: Path, delimiter: str, notes: list[str] | None = None) -> Iterator[tuple[int, dict | RowError]]:
    text, encoding = csv_text.decode(path.read_bytes())
    if encoding != "utf-8" and notes is not None:
        notes.append(f"read as {encoding} (Windows-1252): the file is not UTF-8")
    delimiter = csv_text.delimiter(text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    last_line = reader.line_num
    for cells in reader:
        line_no, last_line = last_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        bad = next((i for i, c in enumerate(cells) if _has_surrogates(c)), None)
        if bad is not None:
            name = header[bad] if bad < len(header) else f"column {bad + 1}"
            yield line_no, RowError(line_no, name, "invalid UTF-8")
            continue
        if len(cells) != len(header):
            yield line_no, RowError(line_no, "row", f"{len(cells)} cells, header has {len(header)}")
            continue
        yield line_no, dict(zip(header, cells))


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def parse_row(row: dict, line: int, cmap: ColumnMap, root: Path | str, check_images: bool = True) -> Product:
    """Validate one raw row into a Product; raise ``RowError`` naming the first bad field. Photo addresses
    stay addresses here (``import_file`` fetches them a batch at a time)."""
    pid = _text(row.get(cmap.id)).strip()
    if not pid:
        raise RowError(line, cmap.id or "id", "missing id")
    title = _text(row.get(cmap.title)).strip()
    if not title:
        raise RowError(line, cmap.title or "title", "missing title")
    price, stated = _money(row, line, cmap)
    attributes = {k: _text(row.get(col)).strip() for k, col in cmap.attributes.items() if _text(row.get(col)).strip()}
    for name, sep in cmap.attribute_lists.items():  # "summer, linen" -> "summer|linen": each value on its own
        if attributes.get(name):
            attributes[name] = "|".join(v.strip() for v in attributes[name].split(sep) if v.strip())
    category = _category(row, cmap) or (_text(row.get(cmap.category_else)).strip() if cmap.category_else else "")
    return Product(
        id=pid, title=title,
        description=plain_text(_text(row.get(cmap.description)).strip()) if cmap.description else "",
        category=category,
        price=price,
        currency=(_text(row.get(cmap.currency)).strip() if cmap.currency else "") or stated or cmap.default_currency,
        attributes={**_nested_attributes(row, cmap), **named_attributes(row, cmap.named_attributes), **attributes},
        images=_images(row, line, cmap, root, check_images),
        category_predicted=bool(category) and str(row.get("category_predicted", "")).lower() == "true",
    )


def _nested_attributes(row: dict, cmap: ColumnMap) -> dict[str, str]:
    """A JSONL row's "attributes" object (``shopsight export``'s), when the mapping names no attribute columns."""
    nested = row.get("attributes")
    if cmap.attributes or not isinstance(nested, dict):
        return {}
    return {k: v for k, v in _flat(nested) if v}


def _flat(values: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(name, text) of every value, an object's inside named with dots: {"dims": {"h": 10}} -> ("dims.h", "10")."""
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", _text(value).strip()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "|".join(str(v) for v in value)
    return str(value)


def _category(row: dict, cmap: ColumnMap) -> str:
    cols = cmap.category if isinstance(cmap.category, list) else [cmap.category] if cmap.category else []
    parts = []
    for c in cols:
        value = row.get(c)
        parts += [str(v) for v in value] if isinstance(value, list) else [_text(value)]
    if cmap.category_sep != "/":
        parts = [level for p in parts for level in p.split(cmap.category_sep)]
    parts = [p.strip().strip("/") for p in parts]
    return "/".join(p for p in parts if p)


def _money(row: dict, line: int, cmap: ColumnMap) -> tuple[float | None, str]:
    """(price, the currency the cell names or "") from the first price column with a value; of several
    values (a product's variants, ``group_by``) the lowest."""
    for column in _columns(cmap.price):
        value = row.get(column)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            values = value if isinstance(value, list) else [value]
            return min((price_cell(v, line, column) for v in values), key=lambda pc: pc[0])
    return None, ""


def _images(row: dict, line: int, cmap: ColumnMap, root: Path | str, check: bool) -> tuple[str, ...]:
    """The row's photos: addresses as given, paths resolved against ``root`` (checked when ``check``), or,
    when ``root`` is an address (a catalogue fetched from one), paths joined to it as addresses."""
    refs = []
    for column in _columns(cmap.images):
        value = row.get(column)
        if value is None:
            continue
        cells = value if isinstance(value, list) else str(value).split(cmap.images_sep)
        refs += [(str(r).strip(), column) for r in cells if str(r).strip()]
    paths = []
    for ref, column in refs:
        if is_address(ref) or (isinstance(root, str) and is_address(root)):
            paths.append(urljoin(root, ref) if isinstance(root, str) else ref)
            continue
        path = (root / ref).resolve()
        if check:
            _check_image(path, line, column)
        paths.append(str(path))
    return tuple(dict.fromkeys(paths))


def _check_image(path: Path, line: int, field_name: str) -> None:
    try:
        with Image.open(path) as img:
            img.verify()
    except FileNotFoundError:
        raise RowError(line, field_name, f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise RowError(line, field_name, f"unreadable image {path}: {type(exc).__name__}") from None


def parse_file(path: str | Path, cmap: ColumnMap | None = None, check_images: bool = True,
               ) -> Iterator[Product | Withdrawn | RowError]:
    """Yield a Product, a RowError, or (``ColumnMap.withdraw_when``) a Withdrawn for every data row of a
    catalogue file (rows of one product merged first with ``ColumnMap.group_by``)."""
    for _, item, _, _ in _parsed(path, cmap, check_images):
        yield item


def _parsed(path: str | Path, cmap: ColumnMap | None, check_images: bool, fmt: str | None = None,
            notes: list[str] | None = None) -> Iterator[tuple[int, Product | Withdrawn | RowError, dict, str]]:
    """(line, Product, Withdrawn or RowError, the raw row, its id or "") for every data row."""
    path = Path(path)
    cmap = cmap or ColumnMap()
    root = cmap.image_root if cmap.image_root and is_address(cmap.image_root) else (
        Path(cmap.image_root) if cmap.image_root else path.parent)
    maps: dict[tuple, ColumnMap] = {}  # the columns a row has -> the mapping resolved for them
    rows = read_rows(path, fmt, notes)
    if names := header_names(cmap):  # (a newer export's headers: the columns the mapping reads)
        rows = ((line, row if isinstance(row, RowError) else {names.get(k.lower(), k): v for k, v in row.items()})
                for line, row in rows)
    if cmap.group_by:
        rows = grouped(rows, cmap.group_by, cmap.collected())
    for line, row in rows:
        if isinstance(row, RowError):
            yield line, row, {}, ""
            continue
        try:  # per set of columns: JSONL rows leave out what they lack ("description" from the first row only)
            resolved = maps.get(tuple(row)) or maps.setdefault(tuple(row), cmap.resolve(list(row)))
        except CatalogFormatError as exc:
            if not maps:  # the first row (a CSV's header) names no id or title: the file is mapped wrong
                raise
            yield line, RowError(line, "id" if "no id" in str(exc) else "title", str(exc)), row, ""
            continue
        pid = _text(row.get(resolved.id)).strip()
        rule = withdrawn(row, resolved.withdraw_when)
        if rule is not None and pid:
            yield line, Withdrawn(pid, rule), row, pid
            continue
        try:
            yield line, parse_row(row, line, resolved, root, check_images), row, pid
        except RowError as err:
            yield line, err, row, pid


def import_file(catalog, path: str | Path, cmap: ColumnMap | None = None, batch_size: int = 500,
                check_images: bool = True, progress: bool = False, photos: PhotoStore | None = None,
                full: bool = False, max_removed: float = 0.5, fmt: str | None = None) -> ImportReport:
    """Validate ``path`` and upsert the good rows into ``catalog`` in transactions of ``batch_size``.

    A crash loses at most the batch in flight; the catalogue never holds half a batch. A row without
    photos (no images column, or an empty cell) for a product already stored keeps its photos, so a
    price feed re-imported without the images column loses nothing. Photos given as addresses are
    fetched a batch at a time into ``photos`` (default: a ``photos`` folder beside the catalogue); a row
    one of whose addresses gives no photo is refused, naming the address and why, and its stored
    version, if any, stays as it was. ``full``: the file is the whole catalogue, so stored products it
    does not name are removed afterwards, in one transaction, unless they are more than ``max_removed``
    of those stored (a truncated file; then none is, and ``report.removal_refused`` says why). A refused
    row still names its product: its stored version stays. ``fmt`` ("csv", "tsv", "jsonl") overrides the
    file's suffix.
    """
    from tqdm import tqdm

    report = ImportReport()
    photos = photos or PhotoStore(Path(catalog.path).parent / "photos")
    named: set[str] = set()
    first_line: dict[str, int] = {}  # product id -> the line of the file's first good row for it
    batch: list[tuple[int, Product | Withdrawn, dict]] = []
    unpriced_currency = 0  # products with a price that names no currency (a Shopify export has no currency column)
    try:
        for line, item, row, pid in tqdm(_parsed(path, cmap, check_images, fmt, report.notes), desc="rows", unit="row",
                                         disable=not progress):
            if pid and full:
                named.add(pid)
            if isinstance(item, RowError):
                report.errors.append(item)
                continue
            if isinstance(item, Product) and first_line.setdefault(item.id, line) != line:
                report.repeated.append(RowError(line, "id", f"{item.id!r} is also on line {first_line[item.id]}: "
                                                            "this later row replaced it"))
            if isinstance(item, Product) and item.price is not None and not item.currency:
                unpriced_currency += 1
            batch.append((line, item, row))
            if len(batch) >= batch_size:
                _store(catalog, batch, photos, report)
                batch = []
        if batch:
            _store(catalog, batch, photos, report)
    finally:
        photos.close()
    report.errors.sort(key=lambda e: e.line)
    if unpriced_currency:
        many = unpriced_currency > 1
        report.notes.append(f"{unpriced_currency} product{'s have' if many else ' has'} a price in no currency (no "
                            "currency column, and the prices name none): shown without one; give it with --currency "
                            "(e.g. --currency EUR)")
    if full:
        _remove_unnamed(catalog, named, max_removed, report)
    return report


def _remove_unnamed(catalog, named: set[str], max_removed: float, report: ImportReport) -> None:
    stored = catalog.ids()
    unnamed = [pid for pid in stored if pid not in named]
    if unnamed and len(unnamed) > max_removed * len(stored):
        report.removal_refused = (f"the file names {len(stored) - len(unnamed)} of the {len(stored)} stored products: "
                                  f"removing the other {len(unnamed)} is more than {max_removed:.0%} of the catalogue, "
                                  "so none was removed (a cut-off file?); allow it with a larger max_removed")
        return
    report.removed = catalog.delete_many(unnamed) if unnamed else 0


def _store(catalog, batch: list[tuple[int, Product | Withdrawn, dict]], photos: PhotoStore,
           report: ImportReport) -> None:
    """Fetch the batch's photo addresses, then upsert the rows whose photos all came (with ``fetch.partial``,
    also those of which at least one came, with those, each photo left out a warning) and remove the stored
    products the batch withdraws."""
    gone = [item.id for _, item, _ in batch if isinstance(item, Withdrawn)]
    batch = [entry for entry in batch if isinstance(entry[1], Product)]
    got = photos.localise(ref for _, product, _ in batch for ref in product.images if is_address(ref))
    report.downloaded += got.downloaded
    report.reused += got.reused
    good = []
    for line, product, row in batch:
        failed = [ref for ref in product.images if ref in got.failed]
        kept = [got.files.get(ref, ref) for ref in product.images if ref not in got.failed]
        notes = [RowError(line, _column_of(ref, row), f"image {ref}: {got.failed[ref]}") for ref in failed]
        if failed and not (photos.cfg.partial and kept):
            report.errors.append(notes[0])
            continue
        report.warnings += notes  # partial: stored with the photos that came
        good.append(product.with_(images=tuple(kept)))
    if good:
        catalog.upsert(good, [p.id for p in good])
        report.imported += len(good)
    report.withdrawn += len(gone)
    for pid in gone:
        try:
            catalog.delete(pid)
        except ProductNotFoundError:
            pass


def _column_of(address: str, row: dict) -> str:
    """The column whose cell holds ``address``, or the path it was joined from (a feed fetched from an
    address: "red.jpg" beside it); a row's photos may come from several columns."""
    def holds(value) -> bool:
        parts = value if isinstance(value, list) else _text(value).replace(",", "|").split("|")
        return any(p.strip() and (p.strip() == address or address.endswith("/" + p.strip().lstrip("/"))) for p in parts)
    return next((column for column, value in row.items() if holds(value)), "images")
