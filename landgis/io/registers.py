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
import io
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landgis.errors import InputFileError, LandgisWarning, SchemaError
from landgis.io.columns import as_text, fmt_list, normalize_name, rename_columns, user_aliases
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
    frame.attrs = {"landgis": {"source": origin, "rows_read": len(frame), "problems": []}}
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
        table.attrs = {
            "landgis": {
                "source": ", ".join(f.attrs["landgis"]["source"] for f in frames),
                "problems": [p for f in frames for p in f.attrs["landgis"]["problems"]],
            }
        }
        out[kind] = table
    return out


def _identify(path: Path, aliases: Aliases, encoding) -> list[tuple[str, str | int | None]]:
    """(kind, sheet) for every table of the file that reads as a register."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(
                path, sheet_name=None, header=None, dtype=object, nrows=15, engine="openpyxl"
            )
        except Exception as exc:
            raise InputFileError(f"{path}: cannot be read as an Excel workbook ({exc}).") from exc
    elif suffix in (".csv", ".txt"):
        if not path.is_file():
            raise InputFileError(f"{path}: file not found (register).")
        text = _decode(path.read_bytes(), encoding, path).replace("\r\n", "\n")
        head = "\n".join(text.split("\n")[:15])
        try:
            sheets = {
                None: pd.read_csv(
                    io.StringIO(head),
                    header=None,
                    dtype=str,
                    keep_default_na=False,
                    engine="python",
                    on_bad_lines="skip",
                )
            }
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error):
            return []
    else:
        raise InputFileError(f"{path}: unknown register format {suffix!r}; use .xlsx or .csv.")
    matches = []
    for sheet, rows in sheets.items():
        scores = {kind: _header_score(rows, spec, aliases) for kind, spec in REGISTERS.items()}
        best = max(scores, key=lambda k: scores[k])
        if scores[best] > 0:
            matches.append((best, sheet))
    return matches


def _header_score(rows: pd.DataFrame, spec: LayerSpec, aliases: Aliases) -> int:
    """How many of the kind's columns the best header row names (0: required missing)."""
    best = 0
    for i in range(min(15, len(rows))):
        cells = {normalize_name(v) for v in rows.iloc[i].tolist() if isinstance(v, str)}
        cells |= {
            normalize_name(aliases.columns[v])
            for v in rows.iloc[i].tolist()
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
    if not path.is_file():
        raise InputFileError(f"{path}: file not found ({spec.label}).")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, spec, aliases, sheet=sheet)
    if suffix in (".csv", ".txt"):
        text = _decode(path.read_bytes(), encoding, path)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        try:
            rows = pd.read_csv(
                io.StringIO(text),
                header=None,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                on_bad_lines="error",
                engine="python",
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise SchemaError(f"{path}: not a readable CSV table ({exc}).") from exc
        return _with_header(rows, spec, aliases, str(path))
    raise InputFileError(
        f"{path}: unknown register format {suffix!r}; save it as .xlsx or .csv "
        "(Excel: 另存为 → CSV UTF-8)."
    )


def _decode(raw: bytes, encoding: str | None, path: Path) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputFileError(f"{path}: not readable as {encoding} ({exc}).") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:  # pragma: no cover - gb18030 decodes almost all
            raise InputFileError(f"{path}: neither UTF-8 nor GBK text; pass encoding=.") from exc


def _read_workbook(path: Path, spec: LayerSpec, aliases: Aliases, *, sheet) -> pd.DataFrame:
    try:
        sheets = pd.read_excel(
            path,
            sheet_name=None if sheet is None else sheet,
            header=None,
            dtype=object,
            engine="openpyxl",
        )
    except ValueError as exc:  # unknown sheet name
        raise SchemaError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise InputFileError(f"{path}: cannot be read as an Excel workbook ({exc}).") from exc
    if sheet is not None:
        return _with_header(sheets, spec, aliases, f"{path} [{sheet}]")
    errors = []
    for name, rows in sheets.items():
        try:
            return _with_header(rows, spec, aliases, f"{path} [{name}]")
        except SchemaError as exc:
            errors.append(str(exc))
    raise SchemaError(f"{path}: no sheet has the columns of a {spec.label}: " + " / ".join(errors))


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
        cells = [normalize_name(v) for v in rows.iloc[i].tolist() if isinstance(v, str)]
        if sum(c in known for c in cells) >= max(2, len(spec.required)) or (
            len(spec.required) == 1 and sum(c in known for c in cells) >= 1
        ):
            header = [
                str(v).strip() if isinstance(v, str) and str(v).strip() else f"列{j + 1}"
                for j, v in enumerate(rows.iloc[i].tolist())
            ]
            body = rows.iloc[i + 1 :].copy()
            body.columns = _unique(header)
            body.index = pd.RangeIndex(i + 2, i + 2 + len(body))  # spreadsheet row numbers
            body.attrs["origin"] = origin
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
    problems: list[dict] = frame.attrs["landgis"]["problems"]
    bad = pd.Series(False, index=frame.index)
    out = pd.DataFrame(index=frame.index)
    tenure_table = aliases.tenure_table()

    def note(rows, column, values, problem):
        for row, value in zip(rows, values, strict=True):
            problems.append(
                {
                    "source": origin,
                    "row": int(row),
                    "column": column,
                    "value": "" if value is None else str(value),
                    "problem": problem,
                }
            )

    for column in frame.columns:
        kind = COLUMN_KINDS.get(column, "text")
        raw = frame[column]
        if kind == "number":
            values = raw.map(_number)
            failed = values.isna() & raw.map(_filled).astype(bool)
            note(raw.index[failed], column, raw[failed], "not a number")
            negative = values < 0
            note(raw.index[negative], column, raw[negative], "negative")
            bad |= failed | negative
            out[column] = values.astype(float)
        elif kind == "date":
            values = raw.map(_date)
            failed = values.isna() & raw.map(_filled).astype(bool)
            note(raw.index[failed], column, raw[failed], "not a date (write 2024-06-30)")
            bad |= failed
            out[column] = pd.to_datetime(values)
        elif kind == "direction":
            words = as_text(raw)
            values = words.map(lambda w: tenure_table.get(w.casefold(), "") if w else "")
            failed = (words != "") & ~values.isin(["leased_in", "leased_out"])
            note(raw.index[failed], column, raw[failed], "not 租入 or 租出")
            bad |= failed
            out[column] = values
        elif kind == "schedule":  # 缴款方式: 年付 / 半年付 / 季付 / 月付
            from landgis.engine.money import parse_schedule

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
            failed = ~words.isin(_TRUE | _FALSE)
            note(raw.index[failed], column, raw[failed], "not 是 or 否")
            bad |= failed
            out[column] = words.isin(_TRUE)
        else:
            out[column] = as_text(raw)
    for column in spec.required:
        empty = ~frame[column].map(_filled).astype(bool)
        note(out.index[empty], column, [""] * int(empty.sum()), "empty")
        bad |= empty
    if "start_date" in out and "end_date" in out:
        backwards = out["end_date"] < out["start_date"]
        note(
            out.index[backwards],
            "end_date",
            frame.loc[backwards, "end_date"],
            "ends before it starts",
        )
        bad |= backwards
    out = out.loc[~bad]
    out.attrs = frame.attrs
    out.attrs["landgis"]["rows"] = len(out)
    if problems:
        rows = sorted({p["row"] for p in problems})
        warnings.warn(
            f"{origin}: set aside {len(rows)} row(s) of the {spec.label} (rows {fmt_list(rows)}); "
            f"first: row {problems[0]['row']}, {problems[0]['column']} = "
            f"{problems[0]['value']!r}: {problems[0]['problem']}",
            LandgisWarning,
            stacklevel=3,
        )
    return out


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
