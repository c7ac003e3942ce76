"""The command line: ``shopsight demo | sample | import | train | index | search | serve`` here, and the shop's
upkeep ``duplicates | synonyms | unheard | backup`` in ``cli_shop.py``.

Exit codes: 0 success; 1 an engine error (message on stderr); 2 bad usage; 3 an import that
stored the good rows but refused some (each refused row is listed by line and field).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace

from .cli_args import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, client_pace, positive_int, share
from .cli_args import config_of as _config
from .cli_shop import add_parsers as add_shop_parsers
from .config import SERVING_THREADS, EngineConfig, config_to_dict
from .errors import ShopsightError
from .ingest import FORMATS, PRESETS, ColumnMap
from .paging import SORTS


def _column_map(args) -> ColumnMap:
    if args.mapping in PRESETS:
        cmap = PRESETS[args.mapping]
    elif args.mapping:
        cmap = ColumnMap.from_file(args.mapping)
    else:
        cmap = ColumnMap()
    overrides = {f: getattr(args, f"map_{f}") for f in ("id", "title", "description", "price", "images")
                 if getattr(args, f"map_{f}")}
    if args.map_category:
        overrides["category"] = args.map_category.split(",") if "," in args.map_category else args.map_category
    if args.currency:
        overrides["default_currency"] = args.currency
    return replace(cmap, **overrides)


def cmd_import(args) -> int:
    from .workflow import import_catalogue

    report = import_catalogue(_config(args), args.file, _column_map(args), progress=not args.quiet,
                              full=args.full, max_removed=args.max_removed, fmt=args.format)
    for err in report.errors:
        print(f"{args.file}: {err}", file=sys.stderr)
    for note in report.warnings:
        print(f"{args.file}: warning: {note} (stored without it)", file=sys.stderr)
    for note in report.repeated:
        print(f"{args.file}: warning: {note}", file=sys.stderr)
    for note in report.notes:
        print(f"{args.file}: {note}", file=sys.stderr)
    if report.removal_refused:
        print(f"{args.file}: {report.removal_refused}", file=sys.stderr)
    counts = {"imported": report.imported, "refused": len(report.errors)}
    if report.downloaded or report.reused:
        counts.update(photos_downloaded=report.downloaded, photos_reused=report.reused)
    if report.withdrawn:
        counts["withdrawn"] = report.withdrawn
    if args.full:
        counts["removed"] = report.removed
    if report.warnings:
        counts["photos_left_out"] = len(report.warnings)
    if report.repeated:
        counts["repeated_ids"] = len(report.repeated)
    print(json.dumps(counts))
    return EXIT_PARTIAL if report.errors or report.removal_refused else EXIT_OK


def cmd_train(args) -> int:
    from .workflow import train

    cfg = _config(args)
    if args.epochs:
        cfg = replace(cfg, train=replace(cfg.train, epochs=args.epochs))
    if args.dim:
        cfg = replace(cfg, space=replace(cfg.space, dim=args.dim))
    if args.head_sets:
        cfg = replace(cfg, train=replace(cfg.train, head_sets=args.head_sets, scratch_sets=args.head_sets))
    bundle = train(cfg, progress=not args.quiet, start_from=args.start_from, from_scratch=args.from_scratch)
    print(json.dumps({"bundle": str(cfg.path / "bundle"), "fingerprint": bundle.fingerprint,
                      "metrics": bundle.metrics}))
    m = bundle.metrics
    if m.get("start_heldout") and m.get("heldout"):  # before and after, for a person (stdout stays JSON)
        print(f"held-out title -> photo recall@10: {m['start_heldout']['recall@10']:.3f} at the start "
              f"({m.get('started_from', 'a bundle')}), {m['heldout']['recall@10']:.3f} kept ({m['kept']}; "
              f"{m['heldout']['n']} held-out products)", file=sys.stderr)
    return EXIT_OK


def cmd_index(args) -> int:
    from .workflow import build_index, compact_index

    if args.compact:
        engine, removed = compact_index(_config(args))
        print(json.dumps({"products": len(engine.index), "photos": engine.index.photos.n_alive,
                          "rows_removed": removed, "snapshot": engine.index.folder}))
        return EXIT_OK
    engine = build_index(_config(args), progress=not args.quiet)
    print(json.dumps({"products": len(engine.index), "photos": engine.index.photos.n_alive,
                      "kind": engine.index.photos.kind}))
    if not len(engine.index):
        print(f"shopsight index: warning: the catalogue in {engine.config.path} is empty; import one first "
              "(shopsight import FILE)", file=sys.stderr)
    return EXIT_OK


def cmd_search(args) -> int:
    from .engine import SearchEngine
    from .images import open_image
    from .types import Filters, Preferences, Query

    engine = SearchEngine.open(_config(args))
    filters = Filters(args.min_price, args.max_price, args.category)
    if args.like:
        from .similar import similar

        response = similar(engine, args.like, args.k, filters, args.than)
    else:
        liked = dict(p.split("=", 1) for p in args.prefer)
        query = Query(image=open_image(args.image, field="--image") if args.image else None, text=args.text,
                      filters=filters, preferences=Preferences(attributes=liked), k=args.k,
                      read_words=not args.as_typed, offset=args.offset, sort=args.sort)
        response = engine.search(query)
    if args.json:
        print(json.dumps(response.as_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{response.matching} matching products; plan {response.plan}; "
          f"{response.timings_ms['total']:.1f} ms")
    if args.like:
        u = response.understood
        print(f"like {u['like']} ({u['like_title']}), by its {u['by']}")
    elif response.understood:
        u = response.understood
        read = [f"{k} {u[k]:g}" for k in ("min_price", "max_price", "price_target") if k in u]
        read += [f"synonyms {', '.join(f'{a} -> {b}' for a, b in u['synonyms'].items())}"] if u.get("synonyms") else []
        read += [f"corrected {', '.join(f'{a} -> {b}' for a, b in u['corrected'].items())}"] if u.get("corrected") else []
        read += [f"category words {', '.join(u['category_words'])}"] if u.get("category_words") else []
        read += [f"colours {', '.join(u['colours'])}"] if u.get("colours") else []
        read += [f"kind of product {u['head_word']!r}"] if u.get("head_word") else []
        read += [{"price_asc": "cheapest first", "price_desc": "dearest first"}[u["sort"]]] if u.get("sort") else []
        read += [f"no {', '.join(u['not_within_filters'])} within the filters"] if u.get("not_within_filters") else []
        read += [f"kinds the type reader knows {', '.join(u['kinds'])}"] if u.get("kinds") else []
        searched = repr(u["text"] or args.text) + (f" as {u['embedded_as']!r}" if u.get("embedded_as") else "")
        searched = "nothing: browsed the filters' matches" if response.plan == "browse" else searched
        print(f"read from the words: {'; '.join(read)} (searched: {searched})")
        if u.get("anchor"):
            print(f"your photo shows {u['anchor']} ({u.get('anchor_title', '')}); the words change that product")
    for i, r in enumerate(response.results, args.offset + 1):
        why = " ".join(f"{k}={v:.3f}" for k, v in r.why.items())
        price = f"{r.product.price:.2f} {r.product.currency}" if r.product.price is not None else "-"
        scored = f"{r.score:.3f}  " if response.plan != "browse" else ""
        print(f"{i:3d}. {scored}{r.product.id}  {r.product.title}  [{r.product.category}]  {price}" + (f"  ({why})" if why else ""))
    return EXIT_OK


def cmd_sample(args) -> int:
    from .sample_shop import generate

    products = generate(args.folder)
    print(json.dumps({"folder": args.folder, "products": len(products)}))
    return EXIT_OK


def cmd_demo(args) -> int:
    """The embedded default: sample shop -> import -> index with the packaged bundle for its towers, no
    training (issue 7; ``--train``, or towers no packaged bundle was made for: train on the shop first) ->
    serve (or print examples)."""
    from . import synonyms
    from .sample_shop import SYNONYMS, generate
    from .workflow import build_index, catalogue_config, default_bundle_for, import_catalogue, train

    cfg = _config(args)
    folder = cfg.path / "sample-shop"
    if not (folder / "products.csv").exists():
        generate(folder)
    report = import_catalogue(cfg, folder / "products.csv", PRESETS["sample"])
    print(f"imported {report.imported} sample products into {cfg.path}")
    if not cfg.synonyms_path.exists():  # the shop's words, as a shop would write them (a file there is kept)
        synonyms.install(SYNONYMS, cfg.synonyms_path)
    cfg = catalogue_config(cfg)  # its texts carry Chinese titles: the multilingual tower where installed
    if not (cfg.path / "bundle" / "bundle.json").exists() and (args.train or default_bundle_for(cfg) is None):
        train(cfg, progress=not args.quiet)
    engine = build_index(cfg, progress=not args.quiet)
    print(f"indexed {len(engine.index)} products ({engine.index.photos.n_alive} photos)")
    if args.no_serve:
        return _print_examples(engine)
    return _serve(cfg, args)


def _print_examples(engine) -> int:
    from .types import Filters, Query

    for text, filters in (("red striped hoodie", Filters()), ("blue bag under 100", Filters()),
                          ("dotted dress", Filters(category="Apparel", max_price=60)),
                          ("红色连衣裙", Filters()), ("blue stirped tshrit", Filters()), ("crimson jumper", Filters()),
                          ("cheapest mug", Filters()), (None, Filters(category="Accessories/Bags", max_price=90))):
        query_sorted = not text  # browsing: cheapest first
        response = engine.search(Query(text=text, filters=filters, k=3, sort="price_asc" if query_sorted else "relevance"))
        read = response.understood or {}
        fixed = (read.get("corrected") or read.get("synonyms")) and read["text"]
        said = ([f"in {filters.category}"] if filters.category else []) + (
            [f"up to {filters.max_price:g}"] if filters.max_price else []) + (
            ["cheapest first"] if read.get("sort") == "price_asc" or query_sorted else [])
        label = f"{text!r}" if text else "browsing, no words"
        print(label + (f" (read as {fixed!r})" if fixed else "") + (f" [{', '.join(said)}]" if said else "") + ": "
              + "; ".join(f"{r.product.title} ({r.score:.2f}, price {r.product.price})" for r in response.results))
    _print_photo_example(engine)
    return EXIT_OK


def _print_photo_example(engine) -> None:
    """"This, but in blue": a catalogue photo with words (the engine anchors on what the photo shows); "this, but
    cheaper": the same photo compared with the product it shows."""
    from .images import open_image
    from .types import Query

    hoodies = sorted((p for p in engine.catalog if p.images and "hoodie" in p.title.lower() and p.price is not None),
                     key=lambda p: p.price)
    if not hoodies:
        return
    product = hoodies[len(hoodies) // 2]  # some cost less
    for words in ("blue", "but cheaper"):
        response = engine.search(Query(image=open_image(product.images[0]), text=words, k=3))
        than = (response.understood or {}).get("cheaper_than")
        print(f"photo of {product.title!r} + {words!r}" + (f" [cheaper than {than['price']:g}]" if than else "")
              + ": " + "; ".join(f"{r.product.title} ({r.score:.2f}, price {r.product.price})" for r in response.results))


def cmd_serve(args) -> int:
    return _serve(_config(args), args)


def _serve(cfg: EngineConfig, args) -> int:
    """Run gunicorn (``args``: host, port, workers, client_pace) on the indexed data folder."""
    from .catalog import Catalog
    from .errors import IndexMissingError
    from .index.product_index import current_snapshot

    if current_snapshot(cfg.path / "index") is None:  # else every worker fails to boot with a traceback
        raise IndexMissingError(f"no index in {cfg.path}: import a catalogue (shopsight --data-dir {cfg.path} import "
                                f"FILE) and index it (shopsight --data-dir {cfg.path} index) first, or run "
                                "shopsight demo for the built-in sample shop")
    if (cfg.path / "catalog.db").exists():  # an older catalogue's words are written here, once, not by every
        Catalog(cfg.path / "catalog.db").close()  # worker at once (49 s at 1M products: past SQLite's lock wait)
    os.environ["SHOPSIGHT_DATA_DIR"] = str(cfg.path.resolve())
    os.environ["SHOPSIGHT_CONFIG_JSON"] = json.dumps(config_to_dict(cfg))  # the workers' config: --config and --set
    os.environ["SHOPSIGHT_CLIENT_PACE"] = args.client_pace  # server/worker.py: slow clients are dropped
    argv = ["gunicorn", "--workers", str(args.workers), "--threads", str(SERVING_THREADS),
            "--worker-class", "server.worker.PacedThreadWorker",
            "--bind", f"{args.host}:{args.port}", "--timeout", "120",
            *(["--access-logfile", args.access_log] if args.access_log else []), "server.wsgi:app"]
    print(f"serving {cfg.path} on http://{args.host}:{args.port}/ (gunicorn, {args.workers} workers)", flush=True)
    os.execvp(sys.executable, [sys.executable, "-m", *argv])
    return EXIT_OK


DESCRIPTION = ("Product search by photo, by text, or both: import a shop's catalogue, index it and serve the "
               "web page and API. 'shopsight demo' does all three for the built-in sample shop.")
EXIT_CODES = ("exit codes: 0 success; 1 an engine error (message on stderr); 2 bad usage; 3 an import that stored "
              "the good rows but refused some (each listed by line and field)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsight", description=DESCRIPTION, epilog=EXIT_CODES)
    parser.add_argument("--config", help="JSON config file (keys mirror engine.config.EngineConfig)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", dest="settings",
                        help="one config field, over the config file: fusion.w_text=0.8 (repeatable)")
    parser.add_argument("--data-dir", help="data directory (default: shopsight-data)")
    parser.add_argument("--cluster", help="compute tower features on Dask: local:N worker processes or a "
                        "scheduler address such as tcp://host:8786 (pip install 'shopsight[cluster]')")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build the sample shop, index it with the packaged bundle and serve it")
    p.add_argument("--no-serve", action="store_true", help="print example searches instead of serving")
    p.add_argument("--train", action="store_true", help="train the shared space on the sample shop before indexing "
                   "(fine-tuned from the packaged bundle; python -m eval.sample_shop_bench measures both)")
    _serve_args(p)
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("sample", help="write the built-in sample shop (CSV + photos) to a folder")
    p.add_argument("folder", help="where to write products.csv and the photos (created if missing)")
    p.set_defaults(fn=cmd_sample)

    p = sub.add_parser("import", help="import a catalogue file (CSV/TSV/JSONL), a path or an http(s) address")
    p.add_argument("file", help="CSV, TSV or JSONL file, or an http(s) address of one")
    p.add_argument("--format", choices=FORMATS, help="the file's format when its name does not say (feed.txt)")
    p.add_argument("--mapping", help=f"a preset ({', '.join(PRESETS)}) or a JSON column-mapping file")
    for f in ("id", "title", "description", "price", "images"):
        p.add_argument(f"--map-{f}", help=f"source column for the product {f}")
    p.add_argument("--map-category", help="source column(s) for the category path, comma-separated")
    p.add_argument("--currency", help="currency when the file has no currency column")
    p.add_argument("--full", action="store_true", help="the file is the whole catalogue: remove stored products it does "
                                                       "not name (none when that would be more than --max-removed of them)")
    p.add_argument("--max-removed", type=share, default=0.5, help="a full import removes at most this share of the "
                                                                  "stored products, else none (default 0.5)")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser("train", help="train the shared space on the catalogue's photo/text pairs")
    p.add_argument("--epochs", type=positive_int, help="passes over the pairs (default: the config's train.epochs)")
    p.add_argument("--dim", type=int, help="size of the shared space")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--start-from", help="fine-tune from this bundle folder, or 'default' / 'default-e5': a packaged "
                                            "bundle, where training starts anyway when one fits the configured towers")
    start.add_argument("--from-scratch", action="store_true", help="train new heads instead of starting from the default bundle")
    p.add_argument("--head-sets", type=positive_int,
                   help="head sets kept side by side, the shared space as many times wider (starting from a "
                        "bundle: the fine-tuned set and N - 1 from scratch, default 3; --from-scratch: N, default 1)")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("index", help="embed every product and write a fresh index (the packaged default "
                                     "bundle is used when no bundle was trained)")
    p.add_argument("--compact", action="store_true",
                   help="instead, rewrite the current index without the rows of deleted and re-embedded products, "
                        "from its own vectors (no tower pass; a running server opens it within seconds); with none, "
                        "save it caught up with the catalogue (workers starting later catch up from there)")
    p.set_defaults(fn=cmd_index)

    p = sub.add_parser("search", help="search by --image, --text, or both")
    p.add_argument("--image", help="a photo file to search by")
    p.add_argument("--text", help="words to search by; price phrases such as 'under 300' become filters")
    p.add_argument("--min-price", type=float, help="hard filter: no cheaper product")
    p.add_argument("--max-price", type=float, help="hard filter: no dearer product")
    p.add_argument("--category", help="category subtree, e.g. Women/Tops")
    p.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--offset", type=int, default=0, help="skip this many results (the next page)")
    p.add_argument("--sort", choices=SORTS, default="relevance",
                   help="price_*: the relevant part of the 200 most relevant matches, by price")
    p.add_argument("--json", action="store_true", help="print the response as the API returns it")
    p.add_argument("--like", metavar="ID", help="products like this stored one (its photo searched; it and its "
                   "near-duplicates left out)")
    p.add_argument("--than", choices=("cheaper", "dearer"), help="with --like: only those cheaper (dearer) than it, "
                   "in its category unless --category is given")
    p.add_argument("--prefer", action="append", default=[], metavar="ATTRIBUTE=VALUE",
                   help="rank products holding this value higher (soft; repeatable): --prefer brand=Acme")
    p.add_argument("--as-typed", action="store_true",
                   help="embed --text as typed: no price phrases or category words read from it")
    p.set_defaults(fn=cmd_search)

    p = sub.add_parser("serve", help="serve the web page and API with gunicorn")
    _serve_args(p)
    p.set_defaults(fn=cmd_serve)

    add_shop_parsers(sub)
    return parser


def _serve_args(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default: %(default)s)")
    p.add_argument("--access-log", metavar="FILE", help="log every request there, in gunicorn's access-log format "
                   "(\"-\": standard output; default: none)")
    p.add_argument("--client-pace", type=client_pace, default="10,1000,120", metavar="GRACE,MIN_RATE,LIMIT",
                   help="a request must arrive within GRACE seconds plus one a MIN_RATE bytes received, and LIMIT "
                        "seconds in all, or its connection is dropped (a 408 while a body is read), freeing the "
                        "thread for other shoppers (default: %(default)s)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "search" and args.like and (args.image or args.text):
        print("shopsight search: --like searches by a stored product; give it without --image and --text", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "search" and args.than and not args.like:
        print("shopsight search: --than compares with a stored product: give it with --like ID", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "search" and any("=" not in p for p in args.prefer):
        print("shopsight search: write --prefer as attribute=value", file=sys.stderr)
        return EXIT_USAGE
    filters = args.command == "search" and (args.category or args.min_price is not None or args.max_price is not None
                                            or args.sort != "relevance")
    if args.command == "search" and not (args.image or args.text or args.like or filters):
        print("shopsight search: give --image, --text, or both (or filters or a price --sort alone, to browse)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.fn(args)
    except ShopsightError as exc:
        print(f"shopsight {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # a folder that is not there, no permission, a full disk: said, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"shopsight {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
