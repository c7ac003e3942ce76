"""The exception family. Every error names the bad value and, where it helps, the valid choices."""

from __future__ import annotations


class ShopsightError(Exception):
    """Base class of every error the engine raises on purpose."""


class BadInputError(ShopsightError, ValueError):
    """A value supplied by a caller (query, product, upload) is invalid."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BadImageError(BadInputError):
    """An image could not be decoded, is too large, or is not an image at all."""


class RowError(ShopsightError):
    """One catalogue row is invalid. Carries the 1-based line number and the field."""

    def __init__(self, line: int, field: str, message: str):
        super().__init__(f"line {line}: {field}: {message}")
        self.line = line
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


class CatalogFormatError(ShopsightError):
    """A catalogue file as a whole cannot be read (unknown format, missing id column...)."""


class ProductNotFoundError(ShopsightError, KeyError):
    """No product with this id exists in the catalogue."""

    def __init__(self, product_id: str):
        super().__init__(product_id)
        self.product_id = product_id

    def __str__(self) -> str:
        return f"no product with id {self.product_id!r}"


class TrainingDataError(ShopsightError):
    """Too few products with a photo and a title to train on (and to hold some out to check the result)."""


class IndexMissingError(ShopsightError):
    """No index has been built in the data directory yet."""


class IncompatibleModelError(ShopsightError):
    """A model bundle does not match the index (or the features) it is used with."""


class DiskFullError(ShopsightError, OSError):
    """The disk has too little room for an index build's files; the build published nothing."""

    def __init__(self, folder, needed: int, free: int):
        super().__init__(f"not enough disk space in {folder} to build the index: its files need about "
                         f"{needed / 1e9:.1f} GB and {free / 1e9:.1f} GB were free when it started; the current index is unchanged")
        self.needed, self.free = needed, free


class IndexBusyError(ShopsightError):
    """Another process is writing the index (a full build or a compaction); nothing was changed."""


class UnknownComponentError(ShopsightError, ValueError):
    """A config names a tower, index kind or device that does not exist."""

    def __init__(self, what: str, name: str, choices):
        super().__init__(f"unknown {what} {name!r}; choose one of: {', '.join(sorted(choices))}")
        self.what = what
        self.name = name


class BadSettingError(ShopsightError, ValueError):
    """A ``section.key=value`` setting names no field of the config or gives a value of another type."""

    def __init__(self, setting: str, message: str):
        super().__init__(f"setting {setting!r}: {message}")
        self.setting = setting


class MissingDependencyError(ShopsightError, ImportError):
    """An optional heavy dependency is not installed; the message names the extra."""

    def __init__(self, module: str, extra: str):
        super().__init__(f"{module} is not installed; install it with: pip install 'shopsight[{extra}]'")
        self.module = module
        self.extra = extra
