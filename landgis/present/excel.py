"""The enforcement table as an Excel workbook: ids stay text, nothing is a formula.

Excel opens a CSV by guessing types, and turns a 12-digit 宗地代码 into
3.21202E+11 (and drops digits after the 15th).  In a workbook every text cell
is typed as text — openpyxl would store text starting with ``=`` as a formula —
so ids survive and ``=…`` names show as written, without the CSV's apostrophe.
Characters XML cannot hold (control and non-characters) are written as U+FFFD and
counted (:mod:`landgis.io.text_out`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from landgis.io.atomic import atomic_path
from landgis.io.text_out import clean_text, counted
from landgis.present.csv import findings_table
from landgis.present.units import EXCEL_FORMATS, unit_of

__all__ = [
    "FormColumn",
    "fill_sheet",
    "save_workbook",
    "sheet_title",
    "write_form",
    "write_workbook",
    "write_xlsx",
]


@counted
def write_xlsx(findings, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the findings table to ``path`` (.xlsx) atomically; return the path."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单" if lang == "zh" else "findings"
    fill_sheet(ws, findings_table(findings, lang=lang))
    return save_workbook(wb, path)


@counted
def write_workbook(
    path: str | Path,
    sheets: Mapping[str, Any],
    *,
    highlight: Mapping[str, Any] | None = None,
    dates: Collection[str] = (),
    title: str | None = None,
) -> Path:
    """Write tables to an .xlsx, one sheet each, atomically (see :func:`fill_sheet`).

    Parameters
    ----------
    path
        The workbook.
    sheets
        Sheet name → table (headers as they should read).
    highlight
        Sheet name → boolean per row: those rows are filled light red with dark
        red text (Excel's "bad" style), e.g. overdue cases.
    dates
        Column names whose ISO text (``2024-06-30``) is written as Excel dates.
    title
        Written into the workbook's properties.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    if title:
        wb.properties.title = _clean(title)
    for name, table in sheets.items():
        marks = (highlight or {}).get(name)
        fill_sheet(wb.create_sheet(sheet_title(name)), table, dates=dates, highlight=marks)
    return save_workbook(wb, path)


@dataclass(frozen=True)
class FormColumn:
    """An input column of a form (:func:`write_form`): people fill it in.

    Attributes
    ----------
    name
        The header.
    choices
        The values a drop-down list offers (data validation refuses others); empty: free
        text.
    date
        A date column: cells formatted as dates, validation refuses what is not a date.
    width
        Column width in characters.
    prompt
        Shown when a cell of the column is selected.
    """

    name: str
    choices: tuple[str, ...] = ()
    date: bool = False
    width: float = 14
    prompt: str = ""


@counted
def write_form(
    path: str | Path,
    table,
    inputs: Sequence[FormColumn],
    *,
    sheet: str,
    title: str = "",
    note: str = "",
    hidden: Mapping[str, Any] | None = None,
    dates: Collection[str] = (),
) -> Path:
    """Write a form to fill in: ``table``'s columns locked, ``inputs`` open, atomically.

    The sheet ``sheet`` holds a title line, a note line, the header and one row per
    row of ``table`` (written as :func:`fill_sheet` writes, never a formula), then the
    empty ``inputs`` columns: cells unlocked, drop-down lists for their choices and a
    date check for date columns (Excel's data validation), and the sheet protected
    (no password: it guards against slips, not people) so the given columns cannot be
    changed by mistake; filtering and column widths stay free.  ``hidden`` sheets
    (name → table) are written *very hidden* (not listed by Excel's 取消隐藏) and
    protected: what the program that reads the form back needs.

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(sheet)
    row = 1
    if title:
        ws.cell(row=1, column=1, value=_clean(title)).font = Font(bold=True, size=13)
        row += 1
    if note:
        ws.cell(row=row, column=1, value=_clean(note)).font = Font(color="555555", size=9)
        row += 1
    header = row
    fill_sheet(ws, table, row=header, freeze=False, dates=dates)
    given = len(table.columns)
    last = header + len(table)
    fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")  # to fill in
    open_cell = Protection(locked=False)
    for k, column in enumerate(inputs, start=given + 1):
        letter = get_column_letter(k)
        head = ws.cell(row=header, column=k, value=_clean(column.name))
        head.font, head.data_type, head.fill = Font(bold=True), "s", fill
        ws.column_dimensions[letter].width = column.width
        for r in range(header + 1, last + 1):
            cell = ws.cell(row=r, column=k)
            cell.protection = open_cell
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=not column.choices and not column.date)
            if column.date:
                cell.number_format = "yyyy-mm-dd"
        if last <= header:
            continue
        cells = f"{letter}{header + 1}:{letter}{last}"
        if column.choices:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(_clean(c) for c in column.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_clean(column.name),
                error=_clean(f"请从列表中选择：{'、'.join(column.choices)}"),
            )
        elif column.date:
            dv = DataValidation(
                type="date",
                operator="between",
                formula1="DATE(2000,1,1)",
                formula2="DATE(2100,12,31)",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_clean(column.name),
                error="请填写日期，如 2024-10-01",
            )
        else:
            dv = DataValidation(allow_blank=True)
        if column.prompt:
            dv.promptTitle, dv.prompt, dv.showInputMessage = (
                _clean(column.name),
                _clean(column.prompt),
                True,
            )
        dv.add(cells)
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=header + 1, column=2)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(given + len(inputs))}{max(last, header)}"
    _protect(ws)
    for name, extra in (hidden or {}).items():
        other = wb.create_sheet(sheet_title(name))
        fill_sheet(other, extra, freeze=False)
        other.sheet_state = "veryHidden"
        _protect(other)
    return save_workbook(wb, path)


def _protect(ws) -> None:
    """Sheet protection without a password; filtering and widths stay allowed."""
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def sheet_title(name: str) -> str:
    """A sheet name Excel takes: no []:*?/\\ or characters XML cannot hold, ≤ 31."""
    return re.sub(r"[\[\]:*?/\\]", "_", _clean(str(name)))[:31] or "Sheet"


def fill_sheet(
    ws,
    table,
    *,
    row: int = 1,
    title: str | None = None,
    freeze: bool = True,
    dates: Collection[str] = (),
    highlight=None,
) -> int:
    """Write ``table`` into ``ws`` from ``row``: bold header, numbers as numbers with
    their unit's format, text typed as text (never a formula), ``dates`` columns as
    dates, yes/no as 是/blank, ``highlight``-ed rows in Excel's "bad" style,
    readable widths.  Returns the next free row."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    if title is not None:
        ws.cell(row=row, column=1, value=_clean(title)).font = Font(bold=True, size=12)
        ws.cell(row=row, column=1).data_type = "s"
        row += 1
    header = row
    formats = [
        None if (unit := unit_of(name)) is None else EXCEL_FORMATS.get(unit)
        for name in table.columns
    ]
    is_date = [str(name) in dates for name in table.columns]
    marks = [False] * len(table) if highlight is None else [bool(m) for m in highlight]
    bad_fill = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
    for j, name in enumerate(table.columns, start=1):
        cell = ws.cell(row=row, column=j, value=_clean(str(name)))
        cell.font, cell.data_type = Font(bold=True), "s"
    for values, marked in zip(table.itertuples(index=False), marks, strict=True):
        row += 1
        for j, value in enumerate(values, start=1):
            if _missing(value):
                continue
            cell = ws.cell(row=row, column=j, value=_clean(_plain(value, is_date[j - 1])))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif is_date[j - 1]:
                cell.number_format = "yyyy-mm-dd"
            elif formats[j - 1] and isinstance(cell.value, int | float):
                cell.number_format = formats[j - 1]
        if marked:
            for cell in ws[row]:
                cell.fill, cell.font = bad_fill, Font(color="9C0006")
    for j, name in enumerate(table.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in table.iloc[:200, j - 1]])
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(
            ws.column_dimensions[letter].width or 0, min(60, 4 + 1.6 * width)
        )
    if freeze and header == 1:
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
    return row + 2


def save_workbook(wb, path: str | Path) -> Path:
    """Save atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _plain(value, is_date: bool = False):
    """numpy numbers and dates as the plain Python values openpyxl writes; yes/no as
    是/blank; ISO text in a date column as a date."""
    if isinstance(value, bool | np.bool_):
        return "是" if value else ""
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if is_date and isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _clean(value):
    return clean_text(value, where="xlsx")


def _missing(value) -> bool:
    try:
        return bool(value != value)  # NaN, NaT
    except Exception:  # pragma: no cover - exotic objects
        return False
