"""Registers: lease, payment, fee and enterprise tables from Excel or CSV.

The tables come as offices keep them: an ``.xlsx`` with a title row above the
header, or a CSV saved by Excel in GBK.  :func:`read_register` finds the header
row, maps the columns through the alias tables (:data:`landgis.schema.REGISTERS`,
extended as for layers), turns cells into numbers, dates and codes, and sets
aside every row it cannot use with the file, row, column and value — the good
rows still go on.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landgis.errors import InputFileError, LandgisWarning, SchemaError
from landgis.io.columns import (
    as_text,
    cell_text,
    fmt_rows,
    normalize_name,
    rename_columns,
    user_aliases,
    without_controls,
)
from landgis.io.report import ReadReport, report_of
from landgis.io.text import decode_text
from landgis.schema import REGISTERS, Aliases, LayerSpec

__all__ = ["COLUMN_KINDS", "read_register", "read_registers"]

#: How each register column is parsed.
COLUMN_KINDS: dict[str, str] = {
    "contracted_area_mu": "number",
    "rent_per_mu_year": "number",
    "annual_rent": "number",
    "paid": "number",
    "amount": "number",
    "fee_due": "number",
    "fee_paid": "number",
    "tax": "number",
    "revenue": "number",
    "value_added": "number",
    "energy": "number",
    "employees": "number",
    "rd": "number",
    "year": "number",
    "start_date": "date",
    "end_date": "date",
    "date": "date",
    "due_date": "date",
    "established": "date",
    "direction": "direction",
    "exempt": "flag",
    "payment_schedule": "schedule",
    "due_day": "days",
}
_TOTAL_ROWS = {"合计", "总计", "小计", "total", "sum"}
_TRUE = {"是", "y", "yes", "true", "1", "√", "豁免"}
_FALSE = {"否", "n", "no", "false", "0", ""}


def read_register(
    source: str | Path | pd.DataFrame,
    kind: str,
    *,
    sheet: str | int | None = None,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a register and return its usable rows with landgis' column names.

    Parameters
    ----------
    source
        An ``.xlsx``/``.xlsm`` workbook, a ``.csv`` file, or a DataFrame.
    kind
        ``"leases"``, ``"payments"``, ``"fees"`` or ``"enterprises"``; the
        columns each needs are in ``docs/reference.md``.
    sheet
        Worksheet name or index (default: the first sheet whose header landgis
        recognises).
    aliases, columns
        Extra column aliases, as for :func:`landgis.read_parcels`.
    encoding
        Text encoding of a CSV (default: UTF-8, with or without BOM, else GBK).

    Returns
    -------
    pandas.DataFrame
        One row per usable register row, indexed by its row number in the
        sheet or file.  ``attrs["landgis"]["problems"]`` lists the rows set
        aside: ``{"source", "row", "column", "value", "problem"}``.

    Raises
    ------
    SchemaError
        No header with the required columns was found.
    InputFileError
        The file is missing or cannot be read.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> table = pd.DataFrame({"宗地代码": ["P1", "P2"], "起租日期": ["2023-01-01", "2024/7/1"],
    ...                       "到期日期": ["2032年12月31日", "2023-01-01"],
    ...                       "租金单价": ["800", "1,200"]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     leases = read_register(table, "leases")
    >>> leases["rent_per_mu_year"].tolist()  # the second row ends before it starts
    [800.0]
    >>> leases.attrs["landgis"]["problems"][0]["problem"]
    'ends before it starts'
    """
    if kind not in REGISTERS:
        raise ValueError(f"kind={kind!r}; choose one of {list(REGISTERS)}.")
    spec = REGISTERS[kind]
    user = user_aliases(aliases, columns, None)
    if isinstance(source, pd.DataFrame):
        origin = f"the {kind} table"
        frame = source.copy()
        frame.index = pd.RangeIndex(2, len(frame) + 2)  # row 1 holds the header
    else:
        frame = _read_table(Path(source), spec, user, sheet=sheet, encoding=encoding)
        origin = frame.attrs.get("origin", str(source))
    frame.attrs = {
        "landgis": ReadReport(
            source=origin, rows_read=len(frame), encoding=frame.attrs.get("encoding")
        )
    }
    frame = rename_columns(frame, spec, user, origin)
    frame = frame[[c for c in frame.columns if c in (*spec.required, *spec.optional)]]
    frame = _drop_blank_and_total_rows(frame, spec)
    return _parse(frame, spec, user, origin)


def read_registers(
    sources,
    *,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    encoding: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Read several registers: a ``{kind: path}`` mapping, or files to recognise.

    Given a list, each CSV and each sheet of each workbook is matched to the
    kind whose columns its header names best (sheets that match none are
    skipped); tables of the same kind are stacked.

    Returns
    -------
    dict
        Kind → table, as :func:`read_register` returns it.

    Raises
    ------
    SchemaError
        A file none of whose sheets is a register.
    """
    if isinstance(sources, Mapping):
        return {
            kind: read_register(src, kind, aliases=aliases, encoding=encoding)
            for kind, src in sources.items()
            if src is not None
        }
    if isinstance(sources, str | Path):
        sources = [sources]
    user = user_aliases(aliases, None, None)
    found: dict[str, list[pd.DataFrame]] = {}
    for source in sources:
        matches = _identify(Path(source), user, encoding)
        if not matches:
            raise SchemaError(
                f"{source}: no sheet looks like a lease, payment, fee or enterprise register "
                "(no header naming their columns; see docs/reference.md, or map the columns "
                "with an alias file)."
            )
        for kind, sheet in matches:
            found.setdefault(kind, []).append(
                read_register(source, kind, sheet=sheet, aliases=user, encoding=encoding)
            )
    out = {}
    for kind, frames in found.items():
        table = pd.concat(frames) if len(frames) > 1 else frames[0]
        reports = [report_of(f) for f in frames]
        merged = ReadReport(
            source=", ".join(r.source for r in reports),
            rows_read=sum(r.rows_read for r in reports),
            rows=sum(len(f) for f in frames),
            facts={"encodings": [r.encoding for r in reports if r.encoding]},
        )
        for report in reports:
            merged.merge(report)
        table.attrs = {"landgis": merged}
        out[kind] = table
    return out


def _identify(path: Path, aliases: Aliases, encoding) -> list[tuple[str, str | int | None]]:
    """(kind, sheet) for every table of the file that reads as a register."""
    matches: list[tuple[str, str | int | None]] = []
    for sheet, rows in _sheets(path, encoding).items():
        scores = {kind: _header_score(rows, spec, aliases) for kind, spec in REGISTERS.items()}
        best = max(scores, key=lambda k: scores[k])
        if scores[best] > 0:
            matches.append((best, sheet))
    return matches


def _header_score(rows: pd.DataFrame, spec: LayerSpec, aliases: Aliases) -> int:
    """How many of the kind's columns the best header row names (0: required missing)."""
    best = 0
    for i in range(min(15, len(rows))):
        values = [_unmerged(v) for v in rows.iloc[i].tolist()]
        cells = {normalize_name(v) for v in values if isinstance(v, str)}
        cells |= {
            normalize_name(aliases.columns[v])
            for v in values
            if isinstance(v, str) and v in aliases.columns
        }

        named = [
            any(normalize_name(a) in cells for a in (c, *spec.aliases.get(c, ())))
            for c in (*spec.required, *spec.optional)
        ]
        if all(named[: len(spec.required)]):
            best = max(best, sum(named))
    return best


# ----------------------------------------------------------------- files


def _read_table(path: Path, spec: LayerSpec, aliases: Aliases, *, sheet, encoding) -> pd.DataFrame:
    sheets = _sheets(path, encoding)
    if sheet is not None:
        if isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(sheets):
                raise SchemaError(f"{path}: has {len(sheets)} sheet(s); there is no sheet {sheet}.")
            sheet = list(sheets)[sheet]
        if sheet not in sheets:
            raise SchemaError(f"{path}: no sheet named {sheet!r}; it has {list(sheets)}.")
        return _with_header(sheets[sheet], spec, aliases, f"{path} [{sheet}]")
    if list(sheets) == [None]:  # a CSV
        return _with_header(sheets[None], spec, aliases, str(path))
    errors = []
    for name, rows in sheets.items():
        try:
            return _with_header(rows, spec, aliases, f"{path} [{name}]")
        except SchemaError as exc:
            errors.append(str(exc))
    raise SchemaError(f"{path}: no sheet has the columns of a {spec.label}: " + " / ".join(errors))


def _sheets(path: Path, encoding: str | None) -> dict[str | None, pd.DataFrame]:
    """Every table of a register file as raw cells (``None`` names a CSV's one table).

    Rows keep their length as written (a title line of one cell above a header
    of eight is fine); cells an Excel formula should fill but that hold no
    computed value, and cells inside merged ranges, come as :class:`_Formula` and
    :class:`_Merged` so that :func:`_parse` can report them rather than read
    them as empty.
    """
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "file not found"
        raise InputFileError(f"{path}: {what} (register).")
    stat = path.stat()
    cached = _read_sheets(str(path), stat.st_mtime_ns, stat.st_size, encoding)
    out = {}
    for name, rows in cached.items():
        out[name] = rows.copy()
        out[name].attrs = dict(rows.attrs)
    return out


@functools.lru_cache(maxsize=8)
def _read_sheets(path_text: str, mtime: int, size: int, encoding: str | None):
    path = Path(path_text)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _workbook_cells(path)
    if suffix in (".csv", ".txt"):
        text, used = decode_text(path.read_bytes(), encoding=encoding, source=path)
        try:
            rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))))
        except csv.Error as exc:
            raise SchemaError(f"{path}: not a readable CSV table ({exc}).") from exc
        table = _ragged(rows)
        table.attrs["encoding"] = used.as_dict()
        return {None: table}
    raise InputFileError(
        f"{path}: unknown register format {suffix!r}; save it as .xlsx or .csv "
        "(Excel: 另存为 → CSV UTF-8)."
    )


def _ragged(rows: list[list]) -> pd.DataFrame:
    """Rows of any length as one table, short rows padded with ``None``."""
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows], dtype=object)


def _workbook_cells(path: Path) -> dict[str, pd.DataFrame]:
    import openpyxl

    try:
        values = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
    except Exception as exc:
        raise InputFileError(f"{path}: cannot be read as an Excel workbook ({exc}).") from exc
    out = {}
    for ws in values.worksheets:
        cells = [list(r) for r in ws.iter_rows(values_only=True)]
        written = formulas[ws.title]
        for i, row in enumerate(cells):
            for j, value in enumerate(row):
                if value is None:
                    source = written.cell(row=i + 1, column=j + 1).value
                    if isinstance(source, str) and source.startswith("="):
                        row[j] = _Formula(source)
        for merged in ws.merged_cells.ranges:
            if merged.min_row == merged.max_row:
                continue  # merged across columns only: one value, one row
            first = ws.cell(row=merged.min_row, column=merged.min_col).value
            span = (merged.min_row, merged.max_row)
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if r - 1 < len(cells) and c - 1 < len(cells[r - 1]):
                        cells[r - 1][c - 1] = _Merged(first, span)
        out[ws.title] = _ragged(cells)
    return out


@dataclass(frozen=True)
class _Formula:
    """A formula cell the workbook holds no computed value for (written by a script)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


@dataclass(frozen=True)
class _Merged:
    """A cell inside a range merged across rows: the range's value and its rows."""

    value: Any
    rows: tuple[int, int]

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)


def _with_header(
    rows: pd.DataFrame, spec: LayerSpec, aliases: Aliases, origin: str
) -> pd.DataFrame:
    """Use the first of the top 15 rows that names the required columns as header."""
    known = {
        normalize_name(a)
        for c in (*spec.required, *spec.optional)
        for a in (c, *spec.aliases.get(c, ()))
    }
    known |= {normalize_name(src) for src in aliases.columns}
    for i in range(min(15, len(rows))):
        values = [_unmerged(v) for v in rows.iloc[i].tolist()]
        cells = [normalize_name(v) for v in values if isinstance(v, str)]
        if sum(c in known for c in cells) >= max(2, len(spec.required)) or (
            len(spec.required) == 1 and sum(c in known for c in cells) >= 1
        ):
            header = [
                str(v).strip() if isinstance(v, str) and str(v).strip() else f"列{j + 1}"
                for j, v in enumerate(values)
            ]
            # A header merged down into the next row is header, not data.
            header_row = i + 1
            body = rows.iloc[i + 1 :].map(
                lambda v, top=header_row: None if isinstance(v, _Merged) and v.rows[0] <= top else v
            )
            body.columns = _unique(header)
            body.index = pd.RangeIndex(i + 2, i + 2 + len(body))  # spreadsheet row numbers
            body.attrs = {"origin": origin, **rows.attrs}
            return body
    raise SchemaError(
        f"{origin}: no header row with the {spec.label}'s columns in the first 15 rows; "
        f"it needs {list(spec.required)} (names recognised: see docs/reference.md)."
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def _drop_blank_and_total_rows(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    text = (
        frame.astype(str).apply(lambda s: s.str.strip()).replace({"nan": "", "None": "", "NaT": ""})
    )
    blank = (text == "").all(axis=1)
    first = text[spec.required[0]] if spec.required[0] in text else pd.Series("", index=text.index)
    total = first.str.casefold().isin(_TOTAL_ROWS)
    out = frame.loc[~(blank | total)]
    out.attrs = frame.attrs
    return out


# ----------------------------------------------------------------- cells


def _parse(frame: pd.DataFrame, spec: LayerSpec, aliases: Aliases, origin: str) -> pd.DataFrame:
    report = report_of(frame)
    problems, notes = report.problems, report.warnings
    bad = pd.Series(False, index=frame.index)
    out = pd.DataFrame(index=frame.index)
    tenure_table = aliases.tenure_table()
    keys = _row_keys(frame)

    def note(rows, column, values, problem):
        for row, value in zip(rows, values, strict=True):
            problems.append(
                {
                    "source": origin,
                    "row": int(row),
                    "key": keys.get(row, ""),
                    "column": column,
                    "value": "" if value is None else str(value),
                    "problem": problem,
                }
            )

    def refuse(mask, column, raw, problem):
        nonlocal bad
        note(raw.index[mask], column, raw[mask], problem)
        bad |= mask

    for column in frame.columns:
        kind = COLUMN_KINDS.get(column, "text")
        raw = frame[column]
        # Cells that only look empty: a formula nobody calculated, a merged range.
        formula = raw.map(lambda v: isinstance(v, _Formula)).astype(bool)
        refuse(formula, column, raw, _FORMULA_PROBLEM)
        merged = raw.map(lambda v: isinstance(v, _Merged)).astype(bool)
        if kind == "number":
            spans = raw.map(lambda v: f"{v.rows[0]}–{v.rows[1]}" if isinstance(v, _Merged) else "")
            for span in spans[merged].unique():
                refuse(spans == span, column, raw, f"{_MERGED_AMOUNT} (rows {span})")
        elif merged.any():
            for (first, last), value in {v.rows: v.value for v in raw[merged]}.items():
                notes.append(
                    f"{origin}: rows {first}–{last} of column {column!r} are one merged cell; "
                    f"its value {cell_text(value)!r} is used in each of them."
                )
        raw = raw.map(lambda v: None if isinstance(v, _Formula) else _unmerged(v))
        errors = raw.map(lambda v: isinstance(v, str) and v.strip().upper() in _EXCEL_ERRORS)
        refuse(errors.astype(bool), column, raw, "an Excel error value, not data")
        raw, cleaned = without_controls(raw)
        if cleaned.any():
            notes.append(
                f"{origin}: control characters removed from column {column!r} in "
                f"{_named(frame, keys, cleaned)}."
            )
        if kind == "number":
            values = raw.map(_number).astype(float)
            filled = raw.map(_filled).astype(bool)
            spelled = _nan_words(raw)
            refuse(values.isna() & filled & ~spelled, column, raw, "not a number")
            refuse(np.isinf(values) | spelled, column, raw, "not a finite number")
            low, high = _RANGES.get(column, (0.0, _MAX_AMOUNT))
            refuse(values < low, column, raw, "negative" if low == 0 else f"below {low:g}")
            refuse(values > high, column, raw, f"implausibly large (over {high:g})")
            out[column] = values.where(np.isfinite(values)).astype(float)
        elif kind == "date":
            values = raw.map(_date)
            failed = values.isna() & raw.map(_filled).astype(bool)
            refuse(failed, column, raw, "not a date (write 2024-06-30)")
            out[column] = pd.to_datetime(values)
        elif kind == "direction":
            words = as_text(raw)
            values = words.map(lambda w: tenure_table.get(w.casefold(), "") if w else "")
            failed = (words != "") & ~values.isin(["leased_in", "leased_out"])
            refuse(failed, column, raw, "not 租入 or 租出")
            out[column] = values
        elif kind == "schedule":  # 缴款方式: 年付 / 半年付 / 季付 / 月付
            from landgis.schema import parse_schedule

            words = as_text(raw)
            values = words.map(lambda w: (parse_schedule(w) or "?") if w else "")
            failed = values == "?"
            note(raw.index[failed], column, raw[failed], "not 年付, 半年付, 季付 or 月付")
            bad |= failed
            out[column] = values.where(~failed, "")
        elif kind == "days":  # whole days, may be negative (due before the period starts)
            values = raw.map(_number)
            failed = (values.isna() & raw.map(_filled).astype(bool)) | (
                values.notna() & (values != values.round())
            )
            note(raw.index[failed], column, raw[failed], "not a whole number of days")
            bad |= failed
            out[column] = values.astype(float)
        elif kind == "flag":
            words = as_text(raw).str.casefold()
            refuse(~words.isin(_TRUE | _FALSE), column, raw, "not 是 or 否")
            out[column] = words.isin(_TRUE)
        else:
            out[column] = as_text(raw)
    for column in spec.required:
        empty = ~frame[column].map(_filled).astype(bool)
        refuse(empty, column, pd.Series("", index=frame.index), "empty")
    if "start_date" in out and "end_date" in out:
        backwards = out["end_date"] < out["start_date"]
        refuse(backwards, "end_date", frame["end_date"].map(_unmerged), "ends before it starts")
    out = out.loc[~bad]
    out.attrs = {"landgis": report}
    report.rows = len(out)
    for message in notes:
        warnings.warn(message, LandgisWarning, stacklevel=3)
    if problems:
        rows = sorted({p["row"] for p in problems})
        first = problems[0]
        warnings.warn(
            f"{origin}: set aside {len(rows)} row(s) of the {spec.label} "
            f"({_named(frame, keys, frame.index.isin(rows))}); "
            f"first: row {first['row']}, {first['column']} = {first['value']!r}: "
            f"{first['problem']}",
            LandgisWarning,
            stacklevel=3,
        )
    return out


_FORMULA_PROBLEM = (
    "a formula without a computed value (the workbook was written by a program, not saved by "
    "Excel): open and save it in Excel or LibreOffice, or type the value"
)
_MERGED_AMOUNT = "merged across rows: one amount cannot be split between rows; write it in each row"
_EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!"}
#: Plausible ranges of register numbers; amounts (元, 万元) and areas at most 10¹².
_MAX_AMOUNT = 1e12
_RANGES = {"year": (1900.0, 2100.0), "employees": (0.0, 1e7)}
#: The register columns that name a row the way people look it up.
REGISTER_KEYS = ("lease_id", "parcel_id", "party")


def _unmerged(value):
    return value.value if isinstance(value, _Merged) else value


def _nan_words(raw: pd.Series) -> pd.Series:
    """Cells that spell a non-number ("NaN", "inf"): reported as not finite."""
    words = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
    return raw.map(lambda v: isinstance(v, str) and v.strip().casefold() in words).astype(bool)


def _row_keys(frame: pd.DataFrame) -> dict:
    """Each row's key as people know it: 合同编号, else 宗地代码, else the party."""
    keys = {}
    for column in REGISTER_KEYS:
        if column in frame:
            for row, value in zip(frame.index, frame[column], strict=True):
                text = cell_text(_unmerged(value)).strip()
                if text and row not in keys and not isinstance(value, _Formula):
                    keys[row] = text[:60]
    return keys


def _named(frame: pd.DataFrame, keys: dict, mask) -> str:
    """The rows where ``mask`` holds, named by key and row: ``"HT-7 (row 5), row 6"``."""
    ids = pd.DataFrame({"parcel_id": [keys.get(r, "") for r in frame.index]}, index=frame.index)
    return fmt_rows(ids, mask)


def _filled(value) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and np.isnan(value))
        and (str(value).strip() != "")
    )


_NUMBER_NOISE = re.compile(r"[,，\s¥￥元]|^\+")


def _number(value) -> float:
    if isinstance(value, bool):
        return np.nan
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if not _filled(value):
        return np.nan
    text = _NUMBER_NOISE.sub("", str(value))
    try:
        return float(text)
    except ValueError:
        return np.nan


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _date(value):
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).normalize()
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if not _filled(value):
        return pd.NaT
    text = str(value).strip()
    if text.endswith(" 00:00:00"):
        text = text[: -len(" 00:00:00")]
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return pd.Timestamp(dt.date(*(int(g) for g in match.groups())))
            except ValueError:
                return pd.NaT
    return pd.NaT
