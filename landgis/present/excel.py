"""The enforcement table as an Excel workbook: ids stay text, nothing is a formula.

Excel opens a CSV by guessing types, and turns a 12-digit 宗地代码 into
3.21202E+11 (and drops digits after the 15th).  In a workbook every text cell
is typed as text — openpyxl would store text starting with ``=`` as a formula —
so ids survive and ``=…`` names show as written, without the CSV's apostrophe.
Characters XML forbids (control characters) are dropped.
"""

from __future__ import annotations

from pathlib import Path

from landgis.io.atomic import atomic_path
from landgis.present.csv import findings_table

__all__ = ["write_xlsx"]


def write_xlsx(findings, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the findings table to ``path`` (.xlsx) atomically; return the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    table = findings_table(findings, lang=lang)
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单" if lang == "zh" else "findings"
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if _missing(v) else _clean(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ws.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
    for i, name in enumerate(table.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in table.iloc[:200, i - 1]])
        ws.column_dimensions[get_column_letter(i)].width = min(60, 4 + 1.6 * width)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _clean(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _missing(value) -> bool:
    try:
        return value != value  # NaN
    except Exception:  # pragma: no cover - exotic objects
        return False
