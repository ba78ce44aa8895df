"""The landgis error tree.

Every error a user can cause derives from :class:`LandgisError` *and* from the
matching built-in, so callers may catch either.  Messages name the file, the
row or column, and the fix; the CLI prints them without a traceback and exits
with code 2.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "ConfigError",
    "GeometryError",
    "InputFileError",
    "LandgisError",
    "LandgisWarning",
    "LedgerError",
    "SchemaError",
]


class LandgisError(Exception):
    """Root of every error landgis raises on purpose."""


class InputFileError(LandgisError, OSError):
    """An input file is missing, unreadable or in an unknown format."""


class SchemaError(LandgisError, ValueError):
    """A column is missing or ambiguous, or a value is not allowed."""


class GeometryError(LandgisError, ValueError):
    """Geometries that cannot be audited (wrong type, empty layer …)."""


class CRSError(LandgisError, ValueError):
    """A layer has no coordinate reference system, or an unusable one."""


class ConfigError(LandgisError, ValueError):
    """A configuration or alias file is malformed."""


class LedgerError(LandgisError, ValueError):
    """The case ledger is not a ledger, is damaged, read-only or too new, or a
    request does not fit it."""


class LandgisWarning(UserWarning):
    """Something was repaired or assumed; the audit report records it too."""
