"""One number format per unit, in every file and page landgis writes.

=========  ==========  ==================================================
unit       decimals    where
=========  ==========  ==================================================
m² (平方米)  2           areas
亩          2           areas (1 亩 = 10000/15 m²)
元          2           amounts owed, rents
%          1           use ratios (written as percentages, never 0.075)
score      2           亩均效益 scores
months     1           months of rent owed
days       0           days overdue
degrees    7           longitude, latitude (about 1 cm)
=========  ==========  ==================================================

Tables keep numbers as numbers, rounded to these decimals (Excel cells carry
the matching number format); CSV files write them with exactly these
decimals; pages and the command line show them with thousands separators.
A column's unit is known from its code (``area_mu``, ``amount_owed`` …) or
from its Chinese header (``面积（亩）``, ``金额（元）`` …).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DECIMALS",
    "EXCEL_FORMATS",
    "fixed_text",
    "fmt",
    "headline",
    "round_units",
    "unit_of",
]

#: Decimals per unit.
DECIMALS: dict[str, int] = {
    "m2": 2,
    "mu": 2,
    "yuan": 2,
    "percent": 1,
    "score": 2,
    "months": 1,
    "days": 0,
    "degrees": 7,
}
#: Excel number format per unit.
EXCEL_FORMATS: dict[str, str] = {
    "m2": "#,##0.00",
    "mu": "#,##0.00",
    "yuan": "#,##0.00",
    "percent": "0.0",
    "score": "0.00",
    "months": "0.0",
    "days": "0",
    "degrees": "0.0000000",
}
_SUFFIX = {"m2": " 平方米", "mu": " 亩", "yuan": " 元", "percent": "%", "days": " 天"}

_CODES = {
    "lon": "degrees",
    "lat": "degrees",
    "use_ratio_pct": "percent",
    "months_overdue": "months",
    "days_overdue": "days",
    "days_late": "days",
    "score": "score",
    "rd_intensity": "percent",
}
_HEADER_MARKS = (
    ("（平方米）", "m2"),
    ("（亩）", "mu"),
    ("（元", "yuan"),
    ("（%）", "percent"),
    ("得分", "score"),
    ("天数", "days"),
    ("欠缴月数", "months"),
    ("经度", "degrees"),
    ("纬度", "degrees"),
)


def unit_of(column) -> str | None:
    """The unit of a column, from its code or its Chinese header; ``None`` if unknown.

    Examples
    --------
    >>> unit_of("area_mu"), unit_of("面积（平方米）"), unit_of("欠缴金额（元）"), unit_of("holder")
    ('mu', 'm2', 'yuan', None)
    """
    name = str(column)
    if name in _CODES:
        return _CODES[name]
    if name.startswith("score_"):
        return "score"
    if name.endswith("_mu"):
        return "mu"
    if name.endswith("_m2"):
        return "m2"
    if name.startswith("amount") or name.endswith("_rent") or name in ("due", "paid", "owed"):
        return "yuan"
    for mark, unit in _HEADER_MARKS:
        if mark in name:
            return unit
    return None


def _unit_columns(table: pd.DataFrame):
    """(column, unit) of the numeric (not yes/no) columns whose unit is known."""
    for column in table.columns:
        unit = unit_of(column)
        values = table[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if unit is not None and numeric:
            yield column, unit


def round_units(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns of known unit rounded to its decimals (numbers stay numbers)."""
    table = table.copy()
    for column, unit in _unit_columns(table):
        table[column] = pd.to_numeric(table[column], errors="coerce").round(DECIMALS[unit])
    return table


def fixed_text(table: pd.DataFrame) -> pd.DataFrame:
    """For CSV: numeric columns of known unit written with exactly its decimals."""
    table = table.copy()
    for column, unit in _unit_columns(table):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        table[column] = fixed_decimals(values, DECIMALS[unit])
    return table


def fixed_decimals(values: np.ndarray, digits: int) -> np.ndarray:
    """Numbers as text with exactly ``digits`` decimals (``""`` where not finite),
    as ``f"{v:.{digits}f}"`` writes them but vectorized (whole tables at once).

    >>> fixed_decimals(np.array([2.5, -0.004, 1234.567, np.nan]), 2).tolist()
    ['2.50', '0.00', '1234.57', '']
    """
    finite = np.isfinite(values) & (np.abs(values) < 1e15)  # what int64 holds scaled
    if not finite.all() and (np.isfinite(values) & ~finite).any():
        return np.array(  # a value too large to scale: the slow, exact way
            ["" if not np.isfinite(v) else f"{v:.{digits}f}" for v in values], dtype=object
        )
    scaled = np.rint(np.where(finite, values, 0) * 10**digits).astype(np.int64)
    text = pd.Series(np.abs(scaled)).astype(str)
    if digits:
        text = text.str.zfill(digits + 1)
        text = text.str[:-digits] + "." + text.str[-digits:]
    out = np.where(scaled < 0, "-" + text.to_numpy(dtype=object), text.to_numpy(dtype=object))
    return np.where(finite, out, "").astype(object)


def fmt(value, unit: str, *, suffix: bool = True) -> str:
    """A number for people: thousands separators, the unit's decimals, its unit word.

    Examples
    --------
    >>> fmt(12300, "yuan"), fmt(16.05, "mu"), fmt(7.5, "percent"), fmt(None, "mu")
    ('12,300.00 元', '16.05 亩', '7.5%', '')
    """
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return ""
    text = f"{number:,.{DECIMALS[unit]}f}"
    return text + (_SUFFIX.get(unit, "") if suffix else "")


def headline(totals: dict) -> list[tuple[str, str]]:
    """The headline totals as (name, text) pairs, for titles, legends and reports.

    Examples
    --------
    >>> headline({"findings": 3, "violation_mu": 3.0, "parcel_mu": 15.0, "amount_owed": 0.0})
    [('问题', '3 处'), ('违规用地面积', '3.00 亩'), ('涉及地块面积', '15.00 亩')]
    """
    parts = [("问题", f"{int(totals['findings'])} 处")]
    if totals.get("violation_mu"):
        parts.append(("违规用地面积", fmt(totals["violation_mu"], "mu")))
    if totals.get("parcel_mu"):
        parts.append(("涉及地块面积", fmt(totals["parcel_mu"], "mu")))
    if totals.get("amount_owed"):
        parts.append(("欠缴金额", fmt(totals["amount_owed"], "yuan")))
    return parts
