"""What every ``shopsight`` command shares: exit codes, the config from the command line, argument types."""

from __future__ import annotations

import argparse
from dataclasses import replace

from .config import EngineConfig, load_config, with_settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def config_of(args) -> EngineConfig:
    cfg = with_settings(load_config(args.config), args.settings)
    if args.data_dir:
        cfg = replace(cfg, data_dir=args.data_dir)
    if getattr(args, "cluster", None):
        cfg = replace(cfg, cluster=args.cluster)
    return cfg


def existing_data(args) -> EngineConfig:
    """``config_of(args)`` for a command that reads a data folder (export, backup, status): one with no catalogue
    is an error naming it (a mistyped --data-dir would otherwise get an empty catalogue made and reported on)."""
    from .errors import ShopsightError

    cfg = config_of(args)
    if not (cfg.path / "catalog.db").exists():
        raise ShopsightError(f"no catalogue in {cfg.path}: is --data-dir right? (`shopsight import` makes one)")
    return cfg


def positive_int(value: str) -> int:
    """argparse type: a whole number >= 1 (a usage error, exit 2, otherwise)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def share(value: str) -> float:
    """argparse type: a number from 0 to 1 (a usage error, exit 2, otherwise)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"{value!r} must be from 0 to 1")
    return number


def client_pace(value: str) -> str:
    """argparse type of ``serve --client-pace``: "GRACE,MIN_RATE,LIMIT" (seconds, bytes a second, seconds), each
    above 0 and GRACE <= LIMIT; handed to the serving workers as it was given (``server/worker.py``)."""
    parts = value.split(",")
    try:
        grace, rate, limit = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected GRACE,MIN_RATE,LIMIT, e.g. 10,1000,120") from None
    if not (0 < grace <= limit < float("inf") and 0 < rate < float("inf")):
        raise argparse.ArgumentTypeError(f"{value!r}: each must be above 0, and GRACE at most LIMIT")
    return value
