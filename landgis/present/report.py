"""The coordination group's workbook and one dossier per enterprise (一企一策).

``report.xlsx``: a summary sheet (per category, working group and street:
count, 亩, amounts owed), every finding, one sheet per working group, and the
per-mu evaluation when there is one.  A finding's area is the land it
concerns (for arrears and idle land the whole parcel), so one parcel can count
in several categories: compare areas within a category, not their total.
``dossiers/<enterprise>.xlsx``: one page per enterprise — its parcels, its
use, its findings with amounts, its class, and what to do.  Chinese
throughout, numbers as numbers, text never a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from landgis.crs import to_mu
from landgis.io.paths import safe_filename
from landgis.io.text_out import clean_text, counted
from landgis.present.csv import HEADERS_ZH, findings_table
from landgis.present.excel import fill_sheet, save_workbook
from landgis.present.summary import labelled
from landgis.rules import CATEGORIES
from landgis.schema import TENURE_LABELS

__all__ = ["write_dossiers", "write_report"]

#: Categories of land used beyond the grant.
_BEYOND = (
    "encroachment",
    "outside_redline",
    "overuse_requisitioned",
    "overuse_leased",
    "unleased_use",
)

#: Categories about land an enterprise holds or uses (not the zone's leased-in land).
_ENTERPRISE_CATEGORIES = [c for c in CATEGORIES if not c.startswith("leased_in")]


def _summary(findings: pd.DataFrame, by: str, label: str) -> pd.DataFrame:
    owed = findings["amount_owed"] if "amount_owed" in findings else pd.Series(0.0)
    table = (
        findings.assign(owed=owed.fillna(0.0))
        .groupby(by, sort=False)
        .agg(数量=("finding_id", "size"), 面积平方米=("area_m2", "sum"), 欠缴金额元=("owed", "sum"))
    )
    table.insert(2, "面积亩", to_mu(table["面积平方米"].to_numpy()))
    table = table.reset_index().rename(
        columns={
            by: label,
            "面积平方米": "面积（平方米）",
            "面积亩": "面积（亩）",
            "欠缴金额元": "欠缴金额（元）",
        }
    )
    total = {
        label: "合计",
        "数量": int(table["数量"].sum()),
        "面积（平方米）": table["面积（平方米）"].sum(),
        "面积（亩）": table["面积（亩）"].sum(),
        "欠缴金额（元）": table["欠缴金额（元）"].sum(),
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True).round(2)


@counted
def write_report(
    path: str | Path,
    findings: pd.DataFrame,
    *,
    evaluation: pd.DataFrame | None = None,
    title: str = "土地资源核查处置",
) -> Path:
    """Write the coordination group's workbook; return its path."""
    from openpyxl import Workbook

    findings = pd.DataFrame(findings).copy()
    findings["类别"] = findings["category"].map(lambda c: CATEGORIES[c].label)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    row = fill_sheet(
        ws,
        pd.DataFrame(
            {
                "项目": ["问题总数", "面积（亩）", "欠缴金额（元）"],
                "数值": [
                    len(findings),
                    round(to_mu(float(findings["area_m2"].sum())), 2),
                    round(
                        float(findings.get("amount_owed", pd.Series(dtype=float)).fillna(0).sum()),
                        2,
                    ),
                ],
            }
        ),
        title=title,
        freeze=False,
    )
    for by, label in (("类别", "问题类别"), ("group", "责任工作组"), ("street", "街道")):
        row = fill_sheet(
            ws, _summary(findings, by, label), row=row, title=f"按{label}", freeze=False
        )
    table = findings_table(findings, lang="zh")
    fill_sheet(wb.create_sheet("问题清单"), table)
    for group in sorted(findings["group"].unique()):
        name = _sheet_name(group, wb)
        fill_sheet(wb.create_sheet(name), table.loc[(findings["group"] == group).to_numpy()])
    if evaluation is not None and len(evaluation):
        fill_sheet(
            wb.create_sheet("亩均效益评价"), labelled(evaluation.reset_index().round(4), lang="zh")
        )
    return save_workbook(wb, path)


@counted
def write_dossiers(
    folder: str | Path,
    findings: pd.DataFrame,
    *,
    parcels: pd.DataFrame,
    holders: pd.DataFrame,
    parcel_use: pd.DataFrame,
    evaluation: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """One workbook per enterprise with findings (一企一策); returns holder → path."""
    from openpyxl import Workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    own = findings[findings["category"].isin(_ENTERPRISE_CATEGORIES)]
    use = parcel_use.set_index("parcel_id")
    written: dict[str, Path] = {}
    taken: set[str] = set()
    for holder in sorted(own["holder"].unique()):
        if not holder:
            continue
        mine = own[own["holder"] == holder]
        wb = Workbook()
        ws = wb.active
        ws.title = "一企一策"
        row = fill_sheet(
            ws,
            _facts(holder, mine, holders, evaluation),
            title=f"一企一策 · {holder}",
            freeze=False,
        )
        held = parcels[(parcels["holder"] == holder)]
        if len(held):
            row = fill_sheet(
                ws,
                pd.DataFrame(
                    {
                        "宗地代码": held["parcel_id"].to_numpy(),
                        "取得方式": [TENURE_LABELS.get(t, t) for t in held["tenure"]],
                        "面积（亩）": np.round(
                            to_mu(use["area_m2"].reindex(held["parcel_id"]).to_numpy()), 2
                        ),
                        "自用比例": np.round(
                            use["use_ratio"].reindex(held["parcel_id"]).to_numpy(), 3
                        ),
                        "街道": held.get("street", pd.Series("", index=held.index)).to_numpy(),
                    }
                ),
                row=row,
                title="宗地",
                freeze=False,
            )
        listed = findings_table(mine, lang="zh")[
            [
                HEADERS_ZH[c]
                for c in (
                    "finding_id",
                    "category_label",
                    "parcel_id",
                    "area_mu",
                    "amount_owed",
                    "action",
                    "group",
                    "deadline",
                )
            ]
        ]
        fill_sheet(ws, listed, row=row, title="问题与处置", freeze=False)
        stem = safe_filename(holder, taken=taken)
        written[holder] = save_workbook(wb, folder / f"{stem}.xlsx")
    return written


def _facts(holder, mine, holders, evaluation) -> pd.DataFrame:
    facts = [
        ("企业", holder),
        ("问题数", len(mine)),
        ("问题面积（亩）", round(to_mu(float(mine["area_m2"].sum())), 2)),
        (
            "欠缴金额（元）",
            round(float(mine.get("amount_owed", pd.Series(dtype=float)).fillna(0).sum()), 2),
        ),
    ]
    if holder in holders.index:
        h = holders.loc[holder]
        facts += [
            ("实际使用（亩）", round(to_mu(float(h["used_m2"])), 2)),
            ("红线内自用（亩）", round(to_mu(float(h["own_m2"])), 2)),
            ("超出红线使用（亩）", round(to_mu(float(h["used_m2"] - h["own_m2"])), 2)),
        ]
    if evaluation is not None and holder in evaluation.index:
        e = evaluation.loc[holder]
        score = "" if pd.isna(e["score"]) else round(float(e["score"]), 1)
        facts += [("亩均效益得分", score), ("评价类别", e["efficiency_class"])]
    return pd.DataFrame(facts, columns=["项目", "内容"])


def _sheet_name(name: str, wb) -> str:
    """Excel sheet names: ≤ 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", clean_text(str(name), where="xlsx"))[:28] or "Sheet"
    candidate, n = base, 2
    while candidate in wb.sheetnames:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
