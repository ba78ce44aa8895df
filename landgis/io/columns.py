"""Column mapping and cell helpers shared by the layer and register readers.

Real files never use landgis' column names: :func:`rename_columns` maps their
fields through the alias tables of :mod:`landgis.schema` (user aliases first,
then exact names, then the defaults).  The small helpers turn cells into clean
text and name rows the way a user sees them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from landgis.errors import LandgisWarning, SchemaError
from landgis.schema import Aliases, LayerSpec, load_aliases

__all__ = [
    "as_text",
    "fmt_list",
    "normalize_name",
    "rename_columns",
    "row_numbers",
    "user_aliases",
    "warn",
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


def fmt_list(values, limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" … ({len(values) - limit} more)" if len(values) > limit else "")


def warn(gdf: pd.DataFrame, message: str) -> None:
    gdf.attrs.setdefault("landgis", {}).setdefault("warnings", []).append(message)
    warnings.warn(message, LandgisWarning, stacklevel=5)
