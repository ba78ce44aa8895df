"""Column mapping and cell helpers shared by the layer and register readers.

Real files never use landgis' column names: :func:`rename_columns` maps their
fields through the alias tables of :mod:`landgis.schema` (user aliases first,
then exact names, then the defaults).  The small helpers turn cells into clean
text and name rows the way a user sees them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from landgis.errors import SchemaError
from landgis.io.report import report_of
from landgis.schema import Aliases, LayerSpec, load_aliases

__all__ = [
    "as_text",
    "fmt_list",
    "fmt_rows",
    "normalize_name",
    "rename_columns",
    "row_numbers",
    "user_aliases",
    "warn",
    "without_controls",
]


def normalize_name(name: str) -> str:
    """A field name as compared: no blanks (full-width included), case folded."""
    return str(name).strip().casefold().replace(" ", "").replace("　", "")


def rename_columns(
    gdf: pd.DataFrame, spec: LayerSpec, aliases: Aliases, origin: str
) -> pd.DataFrame:
    """Rename source fields to canonical names: user aliases, then exact, then defaults."""
    wanted = (*spec.required, *spec.optional)
    geometry = (
        gdf.geometry.name
        if hasattr(gdf, "geometry") and isinstance(gdf, __import__("geopandas").GeoDataFrame)
        else None
    )
    present = [c for c in gdf.columns if c != geometry]
    by_norm: dict[str, list[str]] = {}
    for col in present:
        by_norm.setdefault(normalize_name(col), []).append(col)

    def lookup(name: str) -> list[str]:
        found = by_norm.get(normalize_name(name), [])
        for cut in _dbf_cuts(name):  # a Shapefile cut the field name at 10 bytes
            found = found + [c for c in by_norm.get(cut, []) if c not in found]
        return found

    rename: dict[str, str] = {}
    taken: set[str] = set()
    for canonical in wanted:
        user_sources = [src for src, dst in aliases.columns.items() if dst == canonical]
        candidates: list[str] = []
        for src in user_sources:
            candidates += lookup(src)
        if not candidates:
            candidates = [c for c in present if c == canonical] or lookup(canonical)
        if not candidates:
            for alias in spec.aliases.get(canonical, ()):
                candidates += lookup(alias)
        candidates = [c for c in dict.fromkeys(candidates) if c not in taken]
        if len(candidates) > 1 and canonical not in spec.required:
            warn(
                gdf,
                f"{origin}: columns {candidates} could all be {canonical!r}; none is "
                f"used. Say which with columns={{{candidates[0]!r}: {canonical!r}}}.",
            )
            continue
        if len(candidates) > 1:
            raise SchemaError(
                f"{origin}: columns {candidates} could all be {canonical!r}; say which one "
                f"with columns={{{candidates[0]!r}: {canonical!r}}} (or an alias file)."
            )
        if candidates:
            rename[candidates[0]] = canonical
            taken.add(candidates[0])

    missing = [c for c in spec.required if c not in rename.values()]
    if missing:
        known = ", ".join(spec.aliases.get(missing[0], ())[:6])
        raise SchemaError(
            f"{origin}: required column {missing[0]!r} not found; the layer has columns "
            f"{present}. Map one of them with columns={{'<field>': {missing[0]!r}}} or "
            f"--aliases FILE (names recognised by default: {known} …)."
        )
    # A source column that is renamed away frees its name; drop stale same-named
    # columns only when they would collide.
    clashes = [
        dst
        for src, dst in rename.items()
        if src != dst and dst in gdf.columns and dst not in rename
    ]
    if clashes:
        gdf = gdf.rename(columns={c: f"{c}_original" for c in clashes})
    return gdf.rename(columns=rename)


def _dbf_cuts(name: str) -> set[str]:
    """The shapes a field name takes when a DBF cuts it at 10 bytes (UTF-8 or GBK)."""
    cuts = set()
    for encoding in ("utf-8", "gb18030"):
        data = name.strip().encode(encoding, errors="ignore")
        if len(data) > 10:
            cut = data[:10].decode(encoding, errors="ignore")
            if len(cut) >= 2:
                cuts.add(normalize_name(cut))
    return cuts


def user_aliases(aliases, columns, tenure_values) -> Aliases:
    user = load_aliases(aliases)
    extra = Aliases(columns=dict(columns or {}), tenure=dict(tenure_values or {}))
    if extra.columns or extra.tenure:
        user = user.merged(load_aliases({"columns": extra.columns, "tenure": extra.tenure}))
    return user


def as_text(series: pd.Series) -> pd.Series:
    """Strings without surrounding blanks; missing values become ``""``.

    Whole numbers read as floats (a DBF column with a blank cell) keep their
    integer spelling: 101.0 is the code "101".
    """
    if pd.api.types.is_float_dtype(series) and (series.dropna() % 1 == 0).all():
        series = series.astype("Int64")
    out = series.astype("string").str.strip().fillna("")
    return out.astype(object)


#: C0/C1 control characters (tab, line breaks and DEL included); text from files
#: never needs them, and they break names, XML and terminals downstream.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def without_controls(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    r"""Text cells with control characters removed (line breaks and tabs become a
    space), and where that changed a cell.

    >>> cleaned, changed = without_controls(pd.Series(["泰州\x00华达", "a\tb", 5]))
    >>> cleaned.tolist(), changed.tolist()
    (['泰州华达', 'a b', 5], [True, True, False])
    """

    def clean(value):
        if not isinstance(value, str) or not _CONTROLS.search(value):
            return value
        return _CONTROLS.sub("", re.sub(r"[\t\r\n\v\f]+", " ", value))

    cleaned = series.map(clean)
    changed = pd.Series(
        [isinstance(v, str) and v != c for v, c in zip(series, cleaned, strict=True)],
        index=series.index,
    )
    return cleaned, changed


def cell_text(value) -> str:
    """One cell as display text: missing (None, NaN, NA) → ``""``, dates in ISO form."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # list-like cells
        pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def row_numbers(gdf, mask) -> list[int]:
    """The source row numbers (1-based, kept in the index) where ``mask`` holds."""
    return [int(i) for i in gdf.index[np.asarray(mask, dtype=bool)]]


#: The columns that name a row the way people look it up (宗地代码, 图斑编号).
ID_COLUMNS = ("parcel_id", "footprint_id")


def fmt_rows(frame: pd.DataFrame, mask, limit: int = 8) -> str:
    """The rows where ``mask`` holds, named by their id where the layer has one:
    ``"ZD15B2 (row 2), ZD15B3 (row 3)"``, else ``"rows 2, 3"``.

    >>> frame = pd.DataFrame({"parcel_id": ["ZD1", "ZD2", ""]}, index=[1, 2, 3])
    >>> fmt_rows(frame, [False, True, True])
    'ZD2 (row 2), row 3'
    >>> fmt_rows(pd.DataFrame({"x": [1, 2]}, index=[1, 2]), [True, True])
    'rows 1, 2'
    """
    rows = row_numbers(frame, mask)
    column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if column is None:
        return f"row{'s' if len(rows) != 1 else ''} {fmt_list(rows, limit)}"
    ids = as_text(frame.loc[rows, column]) if rows else pd.Series(dtype=object)
    named = [f"{i} (row {r})" if i else f"row {r}" for r, i in zip(rows, ids, strict=True)]
    return fmt_list(named, limit)


def fmt_list(values, limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" … ({len(values) - limit} more)" if len(values) > limit else "")


def warn(gdf: pd.DataFrame, message: str) -> None:
    """Record a warning in the frame's read report and issue it."""
    report_of(gdf).warn(message, stacklevel=6)
