"""Summaries: per category and per holder, as plain DataFrames."""

from __future__ import annotations

import pandas as pd

from landgis.crs import to_mu
from landgis.rules import CATEGORIES

__all__ = ["category_summary", "holder_summary"]


def category_summary(findings) -> pd.DataFrame:
    """Count, m² and 亩 per category, in DOMAIN.md's order, with a total row."""
    rows = []
    for code, cat in CATEGORIES.items():
        sel = findings["category"] == code
        if not sel.any():
            continue
        area = float(findings.loc[sel, "area_m2"].sum())
        rows.append(
            {
                "category": code,
                "category_label": cat.label,
                "group": cat.group,
                "count": int(sel.sum()),
                "area_m2": area,
                "area_mu": to_mu(area),
            }
        )
    table = pd.DataFrame(
        rows, columns=["category", "category_label", "group", "count", "area_m2", "area_mu"]
    )
    return table


def holder_summary(findings, holders: pd.DataFrame) -> pd.DataFrame:
    """Per holder: the use figures of the audit and the number of findings."""
    table = holders.copy()
    counts = findings.groupby("holder").size()
    table["findings"] = counts.reindex(table.index, fill_value=0).astype(int)
    return table.sort_values(["findings", "used_m2"], ascending=False)
