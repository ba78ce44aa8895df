"""The enforcement CSV: opens in Excel with Chinese intact and runs no formula.

UTF-8 with a byte-order mark (Excel needs it to see UTF-8), Chinese headers
and labels by default, English with ``lang="en"``, and every text cell that a
spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, carriage return at
the start) prefixed with an apostrophe, as OWASP recommends.  NUL and the other
control characters (but tab and line breaks) and non-characters are written as
U+FFFD and counted (:mod:`landgis.io.text_out`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from landgis.config import DEADLINE_BASES
from landgis.findings import COLUMNS, EXTRA_COLUMNS
from landgis.io.atomic import atomic_path
from landgis.io.text_out import clean_frame, counted
from landgis.present.units import DECIMALS, fixed_text, round_units
from landgis.rules import CATEGORIES, DEPARTMENTS_EN, GROUPS

__all__ = [
    "HEADERS_ZH",
    "findings_table",
    "neutralize",
    "neutralize_table",
    "write_csv",
    "write_table",
]

#: Chinese headers of the findings columns.
HEADERS_ZH = {
    "finding_id": "编号",
    "category": "类别代码",
    "category_label": "问题类别",
    "holder": "权利人/使用人",
    "parcel_id": "宗地代码",
    "other_holder": "相关权利人",
    "street": "街道",
    "village": "村（社区）",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "action": "处置建议",
    "group": "责任工作组",
    "deadline": "完成时限",
    "lon": "经度",
    "lat": "纬度",
    "other_parcel_id": "相关宗地",
    "use_ratio": "使用率",
    "registered_area_mu": "登记面积（亩）",
    "departments": "协办部门",
    "amount_owed": "欠缴金额（元）",
    "annual_rent": "年租金（元）",
    "months_overdue": "欠缴月数",
    "days_overdue": "逾期天数",
    "deadline_basis": "时限依据",
    "score": "亩均效益得分",
    "land_class": "地类（国土调查）",
    "area_ellipsoid_m2": "椭球面积（平方米）",
}
#: Columns the findings carry only when asked for (``audit(ellipsoidal_areas=True)``).
OPTIONAL_COLUMNS = ["area_ellipsoid_m2"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
#: The Chinese header of ``use_ratio`` in tables for people: a percentage.
USE_RATIO_PERCENT = "使用率（%）"


def neutralize(value):
    """Prefix text that a spreadsheet would evaluate with ``'``; other values pass.

    Examples
    --------
    >>> neutralize("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize("华达机械")
    '华达机械'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def findings_table(findings, *, lang: str = "zh") -> pd.DataFrame:
    """The findings as the CSV shows them: no geometry, rounded, labelled, safe.

    Parameters
    ----------
    findings
        The findings GeoDataFrame.
    lang
        ``"zh"`` (Chinese headers and labels) or ``"en"`` (codes as headers,
        English labels, actions and groups).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang={lang!r}; use 'zh' or 'en'.")
    df = pd.DataFrame(findings).copy()
    for column in EXTRA_COLUMNS:  # findings of an older landgis lack the newer columns
        if column not in df:
            df[column] = "" if column in ("deadline_basis", "land_class") else np.nan
    df = df[[*COLUMNS, *EXTRA_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in df)]]
    if lang == "en":
        cats = [CATEGORIES[c] for c in df["category"]]
        df["category_label"] = [c.label_en for c in cats]
        df["action"] = [c.action_en for c in cats]
        df["group"] = df["group"].map(lambda g: GROUPS.get(g, g))
        df["departments"] = [
            "; ".join(DEPARTMENTS_EN.get(d, d) for d in c.departments) for c in cats
        ]
    df["use_ratio"] = pd.to_numeric(df["use_ratio"], errors="coerce")
    if lang == "zh":  # a percentage, as people read it (7.5, not 0.075)
        df["use_ratio"] = (100 * df["use_ratio"]).round(DECIMALS["percent"])
    else:
        df["use_ratio"] = df["use_ratio"].round(4)
    df = round_units(df)
    df["deadline"] = df["deadline"].map(
        lambda d: d.isoformat() if hasattr(d, "isoformat") else ("" if pd.isna(d) else str(d))
    )
    df["deadline_basis"] = df["deadline_basis"].fillna("").astype(str)
    df["land_class"] = df["land_class"].fillna("").astype(str)
    if lang == "zh":
        df["deadline_basis"] = df["deadline_basis"].map(lambda b: DEADLINE_BASES.get(b, b))
        df = df.rename(columns={**HEADERS_ZH, "use_ratio": USE_RATIO_PERCENT})
    return df


def neutralize_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`neutralize` every text cell (and text header) of a table, vectorized."""
    df = df.copy()
    for col in df.select_dtypes(include=["object", "string"]).columns:
        values = df[col]
        risky = values.map(type).eq(str) & values.astype(str).str.startswith(_FORMULA_START)
        df.loc[risky, col] = "'" + values[risky].astype(str)
    df.columns = [neutralize(c) if isinstance(c, str) else c for c in df.columns]
    return df


@counted
def write_table(df: pd.DataFrame, path: str | Path, *, float_format: str | None = None) -> Path:
    """Write any table as a CSV Excel opens safely: UTF-8 with BOM, CRLF, cells
    neutralized, control characters replaced, numbers of a known unit with that
    unit's decimals (:mod:`landgis.present.units`); atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        clean_frame(fixed_text(neutralize_table(df)), where="CSV").to_csv(
            tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n", float_format=float_format
        )
    return path


def write_csv(findings, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the enforcement CSV (UTF-8 with BOM, safe cells) atomically; return its path."""
    return write_table(findings_table(findings, lang=lang), path)
