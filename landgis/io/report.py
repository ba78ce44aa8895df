"""What reading a file did: the typed report every reader hangs on its frame.

A reader validates, repairs and sometimes drops; the audit trail
(``summary.json``) and the messages a user sees must say so.  Each reader fills
one :class:`ReadReport` — the source, rows read and kept, the columns found,
the encoding used and why, the repairs counted, the warnings and (for
registers) the rows set aside — and hangs it on the frame it returns as
``frame.attrs["landgis"]``, the one place users and the pipeline find it.

The report is plain data underneath (a ``dict`` of JSON values, so a frame that
carries it still writes to GeoParquet, which stores ``attrs`` as JSON), with
typed accessors and the few operations readers need.
"""

from __future__ import annotations

import warnings
from typing import Any

from landgis.errors import LandgisWarning

__all__ = ["REPAIRS", "ReadReport", "report_of"]

#: What a reader may repair or drop, counted per layer (``summary.json`` ``repairs``).
REPAIRS = ("repaired", "dropped_empty", "dropped_collapsed", "dropped_z", "dropped_small")

#: The report's own keys; any other key is a fact of a particular reader.
_FIELDS = ("source", "rows_read", "rows", "columns", "encoding", "warnings", "problems")


class ReadReport(dict):
    """What reading one layer or table did.

    Parameters
    ----------
    source
        The file (or "the parcels GeoDataFrame"), as messages name it.
    rows_read
        Rows in the source.
    encoding
        The text encoding used: ``{"name", "reason"[, "declared"]}``.
    facts
        Further facts a particular reader records (raster options, DXF layers,
        the CRS a file claimed …).

    Examples
    --------
    >>> report = ReadReport(source="p.shp", rows_read=3)
    >>> report.count("repaired", 1)
    >>> report.repairs, report["repaired"], report.rows_read
    ({'repaired': 1}, 1, 3)
    """

    def __init__(
        self,
        *,
        source: str = "",
        rows_read: int = 0,
        encoding: dict[str, str] | None = None,
        facts: dict[str, Any] | None = None,
        **values: Any,
    ):
        super().__init__(source=source, rows_read=rows_read, warnings=[], problems=[])
        if encoding:
            self["encoding"] = encoding
        self.update(facts or {})
        self.update(values)

    @property
    def source(self) -> str:
        return self.get("source", "")

    @property
    def rows_read(self) -> int:
        return self.get("rows_read", 0)

    @property
    def rows(self) -> int | None:
        """Rows kept."""
        return self.get("rows")

    @rows.setter
    def rows(self, n: int) -> None:
        self["rows"] = int(n)

    @property
    def columns(self) -> dict[str, str]:
        return self.setdefault("columns", {})

    @property
    def encoding(self) -> dict[str, str] | None:
        return self.get("encoding")

    @property
    def warnings(self) -> list[str]:
        return self.setdefault("warnings", [])

    @property
    def problems(self) -> list[dict]:
        """Register rows set aside: ``{"source", "row", "key", "column", "value", "problem"}``."""
        return self.setdefault("problems", [])

    @property
    def repairs(self) -> dict[str, int]:
        """What was repaired or dropped (:data:`REPAIRS`) → how many."""
        return {key: self[key] for key in REPAIRS if self.get(key)}

    @property
    def facts(self) -> dict[str, Any]:
        """The reader's own facts (every key that is not a field or a repair)."""
        return {k: v for k, v in self.items() if k not in _FIELDS and k not in REPAIRS}

    def warn(self, message: str, *, stacklevel: int = 3) -> None:
        """Record a warning and issue it as a :class:`~landgis.errors.LandgisWarning`."""
        self.note(message)
        warnings.warn(message, LandgisWarning, stacklevel=stacklevel)

    def note(self, message: str) -> None:
        """Record a warning (once) without issuing it again."""
        if message not in self.warnings:
            self.warnings.append(message)

    def count(self, repair: str, n: int) -> None:
        """Add ``n`` to a repair count (zero counts are not recorded)."""
        if repair not in REPAIRS:
            raise ValueError(f"unknown repair {repair!r}; one of {REPAIRS}")
        if n:
            self[repair] = self.get(repair, 0) + int(n)

    def merge(self, other: ReadReport) -> None:
        """Add another report's repairs, warnings and problems (a tile of the same layer)."""
        for key, n in report_of_mapping(other).repairs.items():
            self.count(key, n)
        for message in other.get("warnings", []):
            self.note(message)
        self.problems.extend(other.get("problems", []))


def report_of_mapping(info) -> ReadReport:
    """A :class:`ReadReport` holding ``info`` (a report already, or a plain dict)."""
    if isinstance(info, ReadReport):
        return info
    report = ReadReport()
    report.update(info or {})
    return report


def report_of(frame) -> ReadReport:
    """The :class:`ReadReport` a reader hung on ``frame`` (made if it has none, or a
    plain dict from an older frame)."""
    report = report_of_mapping(frame.attrs.get("landgis"))
    frame.attrs["landgis"] = report
    return report
