"""Return sheets (街道核查反馈表): the street's report back into the ledger.

:meth:`Ledger.write_sheets <landgis.monitor.ledger.Ledger.write_sheets>` writes one
workbook per street listing its open cases; the street fills in five columns and
sends it back; :meth:`Ledger.import_sheets <landgis.monitor.ledger.Ledger.import_sheets>`
reads it into the ledger.  This module knows the form: its columns, how it is
written (through :func:`landgis.present.excel.write_form`) and how a returned
one is read and checked cell by cell.  What the ledger does with the rows lives
in the ledger.

The workbook
------------
Sheet 核查反馈表: a title, a note, then one row per case: 案件编号, 问题类别,
权利人/使用人, 村（社区）, 宗地代码, 经纬度, 面积（亩）, 完成时限, 当前状态,
当前责任人 (locked: the sheet is protected), then the columns to fill in
(unlocked, yellow): 核查结果 (a list: 属实/不属实/部分属实), 处置状态 (a list of
the ledger's statuses), 责任人, 处置说明, 完成日期 (a date).  A very hidden,
protected sheet ``landgis`` keeps, for each case, the stamp of its last change in
the ledger when the sheet was written (the id of its latest event), and the
form's name and version: an edit to a case that changed since is a conflict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from landgis.errors import LedgerError

__all__ = [
    "INPUT_COLUMNS",
    "RESULTS",
    "SHEET_COLUMNS",
    "ImportReport",
    "SheetProblem",
    "SheetRow",
    "read_return_sheet",
    "write_return_sheet",
]

#: The form's name, kept in its hidden sheet.
FORM = "landgis 街道核查反馈表"
FORM_VERSION = 1
#: Name of the visible sheet and of the hidden one.
SHEET = "核查反馈表"
HIDDEN = "landgis"

#: 核查结果: what the street found on site.
RESULTS = ("属实", "不属实", "部分属实")
#: The case columns of the sheet (locked): header → ledger column.
SHEET_COLUMNS = {
    "案件编号": "case_id",
    "问题类别": "category_label",
    "权利人/使用人": "holder",
    "村（社区）": "village",
    "宗地代码": "parcel_id",
    "经纬度": "lonlat",
    "面积（亩）": "area_mu",
    "完成时限": "deadline",
    "当前状态": "status",
    "当前责任人": "person",
}
#: The columns the street fills in: header → what it becomes.
INPUT_COLUMNS = {
    "核查结果": "result",
    "处置状态": "status",
    "责任人": "person",
    "处置说明": "note",
    "完成日期": "date",
}


@dataclass(frozen=True)
class SheetProblem:
    """A cell (or a whole file) that was not applied, and why."""

    file: str
    row: int | None
    column: str
    value: str
    message: str
    kind: str = "invalid"  # invalid, unknown_case, conflict, file

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} 第 {self.row} 行"
        column = f" [{self.column}]" if self.column else ""
        value = f" {self.value!r}" if self.value else ""
        return f"{where}{column}{value}: {self.message}"


@dataclass
class SheetRow:
    """One filled-in row of a returned sheet, its values checked."""

    file: str
    row: int
    case_id: str
    result: str = ""
    status: str = ""
    person: str = ""
    note: str = ""
    date: dt.date | None = None
    problems: list[SheetProblem] = field(default_factory=list)

    @property
    def edited(self) -> list[str]:
        """The input columns filled in (their headers)."""
        return [
            header for header, key in INPUT_COLUMNS.items() if getattr(self, key) not in ("", None)
        ]


@dataclass
class ReturnSheet:
    """A returned sheet as read: its rows, the stamps it was written with, its street."""

    file: str
    street: str
    written: str
    stamps: dict[str, int]
    rows: list[SheetRow]
    problems: list[SheetProblem]


@dataclass
class ImportReport:
    """What :meth:`Ledger.import_sheets` did.

    Attributes
    ----------
    applied
        One dict per case row applied: ``file``, ``row``, ``case_id``, ``changes``
        (what changed, as the event's note says it).
    unchanged
        Rows filled in whose values the ledger already holds (a file imported again).
    problems
        Cells (or files) not applied: unknown case numbers, invalid statuses, results
        or dates, conflicts with changes made in the ledger since the sheet was written.
    files
        The files read.
    """

    applied: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    problems: list[SheetProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing was refused."""
        return not self.problems

    def problem_table(self) -> pd.DataFrame:
        """The problems as a table (文件, 行, 列, 内容, 问题)."""
        return pd.DataFrame(
            [(p.file, p.row, p.column, p.value, p.message) for p in self.problems],
            columns=["文件", "行", "列", "内容", "问题"],
        )

    def __str__(self) -> str:
        lines = [
            f"已导入 {len(self.applied)} 行 · 无变化 {self.unchanged} 行 · "
            f"未导入 {len(self.problems)} 处（{len(self.files)} 个文件）"
        ]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def write_return_sheet(
    path: str | Path,
    cases: pd.DataFrame,
    *,
    street: str,
    statuses: Iterable[str],
    stamps: Mapping[str, int],
    written: str,
    ledger: str,
    title: str = "土地资源核查处置",
) -> Path:
    """Write one street's return sheet (see the module's docstring).

    Parameters
    ----------
    path
        The workbook.
    cases
        The street's cases (columns of :meth:`Ledger.cases`).
    street
        Shown in the title and kept in the hidden sheet.
    statuses
        The choices of 处置状态.
    stamps
        Case → the id of its latest event in the ledger (the conflict check).
    written
        When the sheet was written (ISO timestamp).
    ledger
        The ledger's location (without password), kept for the reader.
    """
    from landgis.present.excel import FormColumn, write_form

    table = pd.DataFrame(
        {
            header: _lonlat(cases) if key == "lonlat" else cases[key].to_numpy()
            for header, key in SHEET_COLUMNS.items()
        }
    )
    inputs = [
        FormColumn("核查结果", choices=RESULTS, width=11, prompt="现场核查是否属实"),
        FormColumn(
            "处置状态",
            choices=tuple(statuses),
            width=12,
            prompt="处置进展；不变则留空",
        ),
        FormColumn("责任人", width=10, prompt="负责处置的人员；不变则留空"),
        FormColumn("处置说明", width=36, prompt="核查、处置情况"),
        FormColumn("完成日期", date=True, width=12, prompt="如 2024-10-01；留空为导入当天"),
    ]
    hidden = pd.DataFrame(
        {
            "案件编号": list(stamps),
            "变更标记": [int(v) for v in stamps.values()],
        }
    )
    meta = pd.DataFrame(
        {
            "key": ["form", "version", "street", "written", "ledger", "cases"],
            "value": [FORM, str(FORM_VERSION), street, written, ledger, str(len(cases))],
        }
    )
    note = (
        f"生成时间 {written[:16].replace('T', ' ')} · 共 {len(cases)} 件 · 请只填写黄色各列"
        "（核查结果、处置状态从下拉列表选择），不要改动案件编号；填好后交回导入台账。"
    )
    return write_form(
        path,
        table,
        inputs,
        sheet=SHEET,
        title=f"{title} · 街道核查反馈表 · {street}",
        note=note,
        hidden={HIDDEN: hidden, f"{HIDDEN}_meta": meta},
        dates={"完成时限"},
    )


def read_return_sheet(
    path: str | Path, *, statuses: Mapping[str, str], today: dt.date | None = None
) -> ReturnSheet:
    """Read a returned sheet: its filled-in rows, each checked cell by cell.

    Parameters
    ----------
    path
        The workbook a street sent back.
    statuses
        Code → Chinese status: the values 处置状态 may take (Chinese or code).
    today
        Dates after this day are refused (default today).

    Raises
    ------
    LedgerError
        The file cannot be read, or is no return sheet written by landgis.
    """
    from openpyxl import load_workbook

    path = Path(path)
    name = path.name
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl's own errors alike
        raise LedgerError(
            f"{path}: cannot be read as an Excel workbook ({exc}); give the .xlsx "
            "written by `landgis ledger sheets`."
        ) from exc
    if SHEET not in wb.sheetnames or HIDDEN not in wb.sheetnames:
        raise LedgerError(
            f"{path}: is not a return sheet (街道核查反馈表) written by `landgis ledger sheets` "
            f"(it has the sheets {wb.sheetnames})."
        )
    meta = {
        str(k): "" if v is None else str(v)
        for k, v in wb[f"{HIDDEN}_meta"].iter_rows(min_row=2, values_only=True)
        if k is not None
    }
    if meta.get("form") != FORM:
        raise LedgerError(f"{path}: is not a return sheet written by `landgis ledger sheets`.")
    if int(meta.get("version") or 0) > FORM_VERSION:
        raise LedgerError(
            f"{path}: was written by a newer landgis (form version {meta['version']}); "
            "upgrade landgis (pip install -U landgis)."
        )
    stamps: dict[str, int] = {}
    for case_id, stamp, *_ in wb[HIDDEN].iter_rows(min_row=2, values_only=True):
        if case_id is not None:
            stamps[str(case_id)] = int(stamp or 0)
    ws = wb[SHEET]
    header_row, columns = 0, {}
    for r, values in enumerate(ws.iter_rows(min_row=1, max_row=10, values_only=True), start=1):
        texts = [str(v).strip() if v is not None else "" for v in values]
        if "案件编号" in texts:
            header_row, columns = r, {t: j for j, t in enumerate(texts) if t}
            break
    missing = [h for h in ("案件编号", *INPUT_COLUMNS) if h not in columns]
    if missing:
        raise LedgerError(
            f"{path}: the sheet {SHEET} lacks the columns {missing}; give the sheet as "
            "`landgis ledger sheets` wrote it."
        )
    choices = {**{zh: zh for zh in statuses.values()}, **statuses}
    today = today or dt.date.today()
    rows: list[SheetRow] = []
    for r, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=1):
        number = header_row + r

        def cell(header: str, values=values):
            j = columns[header]
            return values[j] if j < len(values) else None

        case_id = _text(cell("案件编号"))
        inputs = {h: cell(h) for h in INPUT_COLUMNS}
        if all(_text(v) == "" for v in inputs.values()):
            continue  # nothing filled in
        row = SheetRow(file=name, row=number, case_id=case_id)
        if not case_id:
            row.problems.append(
                SheetProblem(name, number, "案件编号", "", "没有案件编号", kind="unknown_case")
            )
        result = _text(inputs["核查结果"])
        if result and result not in RESULTS:
            row.problems.append(
                SheetProblem(name, number, "核查结果", result, f"应为 {'、'.join(RESULTS)} 之一")
            )
        row.result = result
        status = _text(inputs["处置状态"])
        if status:
            key = status if status in choices else status.lower()
            if key not in choices:
                row.problems.append(
                    SheetProblem(
                        name,
                        number,
                        "处置状态",
                        status,
                        f"不是台账的状态；应为 {'、'.join(statuses.values())} 之一",
                    )
                )
            else:
                row.status = choices[key]
        row.person = _text(inputs["责任人"])
        row.note = _text(inputs["处置说明"])
        raw_date = inputs["完成日期"]
        if _text(raw_date):
            when = _date(raw_date)
            if when is None:
                row.problems.append(
                    SheetProblem(
                        name, number, "完成日期", _text(raw_date), "不是日期；请写成 2024-10-01"
                    )
                )
            elif when > today:
                row.problems.append(
                    SheetProblem(
                        name, number, "完成日期", when.isoformat(), "晚于今天，不能是将来的日期"
                    )
                )
            else:
                row.date = when
        rows.append(row)
    return ReturnSheet(
        file=name,
        street=meta.get("street", ""),
        written=meta.get("written", ""),
        stamps=stamps,
        rows=rows,
        problems=[p for row in rows for p in row.problems],
    )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(value) -> dt.date | None:
    """A date cell: a date (or datetime) as Excel gives it, or text such as 2024-10-01,
    2024/10/1, 2024.10.1 or 2024年10月1日; ``None`` for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _lonlat(cases: pd.DataFrame) -> list[str]:
    out = []
    for lon, lat in zip(cases["lon"], cases["lat"], strict=True):
        ok = lon is not None and lat is not None and lon == lon and lat == lat
        out.append(f"{float(lon):.6f}, {float(lat):.6f}" if ok else "")
    return out
