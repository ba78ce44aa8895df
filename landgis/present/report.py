"""The coordination group's workbook and one dossier per enterprise (一企一策).

``report.xlsx``: a summary sheet — the headline totals (问题总数, 违规用地面积,
涉及地块面积, 欠缴金额; :func:`landgis.present.summary.totals`: each area the
area of a union, so land under several findings counts once, and money in 元,
never 亩), then the same per category, working group and street with a 合计
row that is the total of all (not the sum of the rows) — every finding, one
sheet per working group, the per-mu evaluation and the rent instalments when
there are registers.
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
from landgis.order import pinyin_order
from landgis.present.csv import HEADERS_ZH, findings_table
from landgis.present.excel import fill_sheet, save_workbook
from landgis.present.summary import labelled, totals, totals_by
from landgis.present.units import round_units
from landgis.rules import CATEGORIES, EXCESS_PARTS, GROUPS
from landgis.schema import TENURE_LABELS

__all__ = ["write_dossiers", "write_report"]

#: Categories of land used beyond the grant.
_BEYOND = EXCESS_PARTS

#: Categories about land an enterprise holds or uses (not the zone's leased-in land).
_ENTERPRISE_CATEGORIES = [c for c, cat in CATEGORIES.items() if cat.family != "leased_in"]


#: Headers of the totals in the report (see :func:`landgis.present.summary.totals`).
_TOTAL_HEADERS = {
    "findings": "数量",
    "violation_mu": "违规用地面积（亩）",
    "parcel_mu": "涉及地块面积（亩）",
    "amount_owed": "金额（元）",
}
#: The note under every table of totals.
TOTALS_NOTE = (
    "说明：违规用地面积为超范围用地图斑（少征多用、少租多用、红线外、未租先用、侵占他人用地）"
    "合并后的面积，涉及地块面积为闲置、租入、低效、面积不符、红线重叠所涉宗地合并后的面积；"
    "同一块地属于多个问题只计一次，故各行之和可大于合计。欠费以元计，不计面积。"
)


def _summary(findings: pd.DataFrame, by: str, label: str, *, parcels=None) -> pd.DataFrame:
    """Totals per ``by`` and a 合计 row (the totals of all, land counted once)."""
    table = totals_by(findings, by, parcels=parcels)
    if by == "category":  # a category counts in its own measure only
        for i, code in enumerate(table[by]):
            if code in CATEGORIES:
                measure = CATEGORIES[code].measure
                for column, own in (("violation_mu", "violation"), ("parcel_mu", "parcel")):
                    if measure != own:
                        table.loc[i, column] = np.nan
                if measure != "money" and not table.loc[i, "amount_owed"]:
                    table.loc[i, "amount_owed"] = np.nan
        table[by] = [CATEGORIES[c].label if c in CATEGORIES else c for c in table[by]]
    table = table[[by, *_TOTAL_HEADERS]].rename(columns={by: label, **_TOTAL_HEADERS})
    return round_units(table)


@counted
def write_report(
    path: str | Path,
    findings: pd.DataFrame,
    *,
    evaluation: pd.DataFrame | None = None,
    title: str = "土地资源核查处置",
    parcels: pd.DataFrame | None = None,
    instalments: pd.DataFrame | None = None,
) -> Path:
    """Write the coordination group's workbook; return its path.

    Parameters
    ----------
    path
        The workbook, written atomically.
    findings
        The findings (with geometry, for the totals).
    evaluation
        The per-mu evaluation (sheet 亩均效益评价).
    title
        Heading of the summary sheet.
    parcels
        The red lines, for 涉及地块面积 (:func:`landgis.present.summary.totals`).
    instalments
        Rent instalments (sheet 租金缴纳明细; :func:`landgis.engine.money.rent_instalments`).
    """
    from openpyxl import Workbook

    frame = findings
    sums = totals(frame, parcels=parcels)
    findings = pd.DataFrame(findings).copy()
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    row = fill_sheet(
        ws,
        round_units(
            pd.DataFrame(
                {
                    "项目": [
                        "问题总数",
                        "违规用地面积（亩）",
                        "违规用地面积（平方米）",
                        "涉及地块面积（亩）",
                        "涉及地块面积（平方米）",
                        "欠缴金额（元）",
                    ],
                    "数值": [
                        sums["findings"],
                        round(sums["violation_mu"], 2),
                        round(sums["violation_m2"], 2),
                        round(sums["parcel_mu"], 2),
                        round(sums["parcel_m2"], 2),
                        round(sums["amount_owed"], 2),
                    ],
                }
            )
        ),
        title=title,
        freeze=False,
    )
    ws.cell(row=row - 1, column=1, value=TOTALS_NOTE).data_type = "s"
    row += 1
    for by, label in (("category", "问题类别"), ("group", "责任工作组"), ("street", "街道")):
        row = fill_sheet(
            ws,
            _summary(frame, by, label, parcels=parcels),
            row=row,
            title=f"按{label}",
            freeze=False,
        )
    table = findings_table(findings, lang="zh")
    fill_sheet(wb.create_sheet("问题清单"), table)
    for group in sorted(findings["group"].unique(), key=_group_rank):
        name = _sheet_name(group, wb)
        fill_sheet(wb.create_sheet(name), table.loc[(findings["group"] == group).to_numpy()])
    if evaluation is not None and len(evaluation):
        fill_sheet(
            wb.create_sheet("亩均效益评价"),
            labelled(round_units(evaluation.reset_index()), lang="zh"),
        )
    if instalments is not None and len(instalments):
        fill_sheet(wb.create_sheet("租金缴纳明细"), instalments_table(instalments))
    return save_workbook(wb, path)


#: Chinese headers of the instalment table (租金缴纳明细).
INSTALMENT_HEADERS_ZH = {
    "lease_id": "合同编号",
    "parcel_id": "宗地代码",
    "party": "承租方",
    "schedule": "缴款方式",
    "period_start": "租期起",
    "period_end": "租期止",
    "due_date": "应缴日期",
    "amount": "应缴金额（元）",
    "paid": "已缴金额（元）",
    "outstanding": "欠缴金额（元）",
    "settled": "缴清日期",
    "days_overdue": "逾期天数",
    "days_late": "迟缴天数",
}


def instalments_table(instalments: pd.DataFrame) -> pd.DataFrame:
    """The rent instalments as people read them: Chinese headers and words, ISO dates."""
    from landgis.schema import SCHEDULE_LABELS

    table = pd.DataFrame(instalments).copy()
    table["schedule"] = table["schedule"].map(lambda s: SCHEDULE_LABELS.get(s, s))
    for column in ("period_start", "period_end", "due_date", "settled"):
        table[column] = table[column].map(lambda d: "" if d is None or d != d else str(d)[:10])
    return round_units(table).rename(columns=INSTALMENT_HEADERS_ZH)


def _group_rank(group: str) -> tuple:
    order = list(GROUPS)
    return (order.index(group) if group in order else len(order), group)


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
    for holder in pinyin_order(own["holder"]):
        if not holder:
            continue
        mine = own[own["holder"] == holder]
        wb = Workbook()
        ws = wb.active
        ws.title = "一企一策"
        row = fill_sheet(
            ws,
            _facts(holder, mine, holders, evaluation, parcels=parcels),
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
                        "自用比例（%）": np.round(
                            100 * use["use_ratio"].reindex(held["parcel_id"]).to_numpy(), 1
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


def _facts(holder, mine, holders, evaluation, *, parcels=None) -> pd.DataFrame:
    sums = totals(mine, parcels=parcels)
    facts = [
        ("企业", holder),
        ("问题数", sums["findings"]),
        ("违规用地面积（亩）", round(sums["violation_mu"], 2)),
        ("涉及地块面积（亩）", round(sums["parcel_mu"], 2)),
        ("欠缴金额（元）", round(sums["amount_owed"], 2)),
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
        score = "" if pd.isna(e["score"]) else round(float(e["score"]), 2)
        facts += [("亩均效益得分", score), ("评价类别", e["efficiency_class"])]
    facts.append(("说明", TOTALS_NOTE))
    return pd.DataFrame(facts, columns=["项目", "内容"])


def _sheet_name(name: str, wb) -> str:
    """Excel sheet names: ≤ 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", clean_text(str(name), where="xlsx"))[:28] or "Sheet"
    candidate, n = base, 2
    while candidate in wb.sheetnames:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
