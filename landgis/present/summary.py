"""Summaries: per category and per holder, as plain DataFrames."""

from __future__ import annotations

import pandas as pd

from landgis.config import INDICATORS
from landgis.crs import to_mu
from landgis.rules import CATEGORIES, GROUPS

__all__ = ["category_summary", "header_zh", "holder_summary", "labelled"]

_HEADERS_ZH = {
    "category": "类别代码",
    "category_label": "问题类别",
    "group": "责任工作组",
    "count": "数量",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "holder": "权利人/使用人",
    "used_m2": "实际使用（平方米）",
    "own_m2": "红线内自用（平方米）",
    "encroachment_m2": "侵占他人（平方米）",
    "outside_redline_m2": "红线外（平方米）",
    "overuse_requisitioned_m2": "少征多用（平方米）",
    "overuse_leased_m2": "少租多用（平方米）",
    "unleased_use_m2": "未租先用（平方米）",
    "park_overuse_m2": "园区超用合计（平方米）",
    "findings": "问题数",
    "land_mu": "用地面积（亩）",
    "score": "综合得分",
    "efficiency_class": "评价类别",
    "tax_per_mu": "亩均税收（万元/亩）",
    "revenue_per_mu": "亩均营业收入（万元/亩）",
    "value_added_per_mu": "亩均工业增加值（万元/亩）",
    "value_added_per_energy": "单位能耗工业增加值（万元/吨标煤）",
    "productivity": "全员劳动生产率（万元/人）",
    "rd_intensity": "研发经费投入强度（%）",
    "source": "文件",
    "row": "行",
    "column": "列",
    "value": "内容",
    "problem": "问题",
}


def header_zh(column: str) -> str:
    """The Chinese header of a summary, evaluation or problems column.

    Examples
    --------
    >>> header_zh("score_tax_per_mu"), header_zh("land_mu")
    ('亩均税收得分', '用地面积（亩）')
    """
    if column in _HEADERS_ZH:
        return _HEADERS_ZH[column]
    if column.startswith("score_") and column[6:] in INDICATORS:
        return INDICATORS[column[6:]].split("（")[0] + "得分"
    return column


def labelled(table: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """A summary table as written to CSV: Chinese headers, or English labels and groups."""
    table = table.copy()
    if lang == "en":
        if "category" in table:
            table["category_label"] = [
                CATEGORIES[c].label_en if c in CATEGORIES else label
                for c, label in zip(table["category"], table["category_label"], strict=True)
            ]
        if "group" in table:
            table["group"] = table["group"].map(lambda g: GROUPS.get(g, g))
        return table
    return table.rename(columns={c: header_zh(c) for c in table.columns})


def category_summary(findings) -> pd.DataFrame:
    """Count, m² and 亩 per category, in DOMAIN.md's order."""
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
