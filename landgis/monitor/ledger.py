"""The case ledger (案件台账): one SQLite file — or one PostgreSQL database for an office of
many clerks — that the office keeps from round to round.

Each finding of an audit becomes a *case* with a status, a responsible person,
notes and dates.  A new audit round (:meth:`Ledger.update`) matches its
findings to the open cases with :func:`~landgis.monitor.diff.diff_rounds`:

- a persisting finding keeps its case and everything a person entered
  (status, person, notes, a deadline set by hand, amounts recovered); only the
  surveyed facts (area, geometry, finding id, street …) are refreshed;
- a case whose finding is gone is marked 待确认销号 (resolved, awaiting
  confirmation) — a person confirms with 已销号 — unless it is already done;
- a new finding opens a case (待核实), with the campaign's deadline — or, when
  that deadline has already passed on the day of the round, a deadline counted
  from the round (``Campaign.deadline_days``);
- a case awaiting confirmation whose finding comes back is reopened with its
  earlier status;
- a case disposed of or closed (已处置, 已销号) whose violation is found again —
  in the next round or any later one — is reopened (待核实) with the event
  反弹 (relapse), which the progress report counts;
- a parcel-level case whose parcel moves to another category of its family
  (租而未用 ↔ 租而有用 ↔ 租而无用) keeps its case; the change of category is
  recorded in its history (类别变更).

The file is safe to share between users and processes on one machine: every
change runs in one ``BEGIN IMMEDIATE`` transaction (writers queue, readers are
never blocked), the journal is write-ahead (WAL) with full sync, and the schema
carries its version (table ``schema_version``) and an application id, so a
GeoPackage or another SQLite file is never mistaken for a ledger.  WAL needs a
local disk; on a network share open it with ``wal=False`` — or keep the ledger on a
database server: ``Ledger("postgresql://user@host/db")`` holds the same tables in
PostgreSQL (PostGIS geometry, so QGIS opens the live ledger as a layer), writers
queue through the server's transactions (:mod:`landgis.monitor.store`).

Streets report back on return sheets (街道核查反馈表): :meth:`Ledger.write_sheets`
writes one workbook per street, :meth:`Ledger.import_sheets` reads the returned
ones into the ledger (:mod:`landgis.monitor.sheets`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import DEADLINE_BASES, parse_date
from landgis.crs import to_mu
from landgis.errors import LandgisError, LedgerError
from landgis.io.atomic import atomic_path
from landgis.monitor.diff import STATUS_LABELS, as_findings, diff_rounds
from landgis.monitor.store import APPLICATION_ID as APPLICATION_ID
from landgis.monitor.store import CASE_COLUMNS, SCHEMA_VERSION, open_store
from landgis.rules import CATEGORIES, codes

if TYPE_CHECKING:
    from landgis.monitor.sheets import ImportReport

__all__ = [
    "CATEGORY_FAMILIES",
    "CLOSED_STATUSES",
    "DONE_STATUSES",
    "EVENT_KINDS_ZH",
    "LEDGER_HEADERS_ZH",
    "OPEN_STATUSES",
    "PENDING",
    "SCHEMA_VERSION",
    "STATUSES",
    "Ledger",
    "LedgerError",
]

#: Case statuses: English code → the Chinese word stored in the ledger.
STATUSES: dict[str, str] = {
    "to_verify": "待核实",
    "rectifying": "整改中",
    "judicial": "移交司法",
    "awaiting_confirmation": "待确认销号",
    "disposed": "已处置",
    "closed": "已销号",
    "dismissed": "不予认定",
    "merged": "已合并",
}
#: Statuses of cases still being worked on.
OPEN_STATUSES = ("待核实", "整改中", "移交司法")
#: Gone from the latest survey; a person confirms (已销号) or reopens.
PENDING = "待确认销号"
#: Statuses of finished cases (办结).  已合并 cases live on in the case they joined.
CLOSED_STATUSES = ("已处置", "已销号", "不予认定")
MERGED = "已合并"
NEW_STATUS = "待核实"

#: Chinese headers of the exported ledger.
LEDGER_HEADERS_ZH = {
    "case_id": "案件编号",
    "status": "状态",
    "person": "责任人",
    "notes": "备注",
    "category": "类别代码",
    "category_label": "问题类别",
    "holder": "权利人/使用人",
    "other_holder": "相关权利人",
    "parcel_id": "宗地代码",
    "street": "街道",
    "village": "村（社区）",
    "group": "责任工作组",
    "departments": "协办部门",
    "action": "处置建议",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "opened_area_m2": "立案时面积（平方米）",
    "amount_due": "欠缴金额（元）",
    "opened_amount_due": "立案时欠缴金额（元）",
    "amount_recovered": "已追缴金额（元，登记）",
    "deadline": "完成时限",
    "deadline_basis": "时限依据",
    "opened": "立案日期",
    "opened_round": "立案轮次",
    "last_seen": "最近发现日期",
    "last_round": "最近发现轮次",
    "status_changed": "状态变更日期",
    "status_round": "状态变更轮次",
    "closed": "办结日期",
    "finding_id": "最近问题编号",
    "thin": "狭长图斑",
    "lon": "经度",
    "lat": "纬度",
    "updated": "更新时间",
}
#: Ledger columns holding dates (both spellings), written as dates in workbooks.
LEDGER_DATE_COLUMNS = {
    "deadline",
    "opened",
    "last_seen",
    "status_changed",
    "closed",
    "date",
    *(LEDGER_HEADERS_ZH[c] for c in ("deadline", "opened", "last_seen", "status_changed")),
    LEDGER_HEADERS_ZH["closed"],
    "调查日期",
    "日期",
}
_EVENT_HEADERS_ZH = {
    "id": "序号",
    "case_id": "案件编号",
    "at": "记录时间",
    "date": "日期",
    "round": "轮次",
    "kind": "事项",
    "status_from": "原状态",
    "status_to": "新状态",
    "person": "责任人",
    "note": "备注",
    "by": "操作人",
}
EVENT_KINDS_ZH = {
    "opened": "立案",
    "resolved": "调查未发现",
    "reappeared": "再次出现",
    "relapse": "反弹",
    "reclassified": "类别变更",
    "merged": "合并",
    "set": "人工登记",
    "sheet": "反馈表导入",
}
#: Statuses of cases done with (已处置, 已销号): found again, they relapse (反弹).
DONE_STATUSES = ("已处置", "已销号")
#: Families of parcel-level categories: a case follows its parcel within its family.
CATEGORY_FAMILIES: tuple[tuple[str, ...], ...] = (codes(family="leased_in"),)
#: The statuses a person may give a case (已合并 is the system's).
_BY_HAND = {code: zh for code, zh in STATUSES.items() if zh != MERGED}
#: ``deadline_by_hand`` in the file: how the case's deadline was set.
_DEADLINE_CODES = {0: "campaign", 1: "hand", 2: "round"}
_CASE_FINDING_HEADERS_ZH = {
    "case_id": "案件编号",
    "round": "轮次",
    "finding_id": "问题编号",
    "change": "变化",
    "area_m2": "面积（平方米）",
}
_CHANGES_ZH = {
    "new": "新增",
    "persisting": "持续存在",
    "reappeared": "再次出现",
    "relapse": "反弹",
    "reclassified": "类别变更",
}
_ROUND_HEADERS_ZH = {
    "seq": "序号",
    "round": "轮次",
    "date": "调查日期",
    "source": "数据来源",
    "findings": "问题数",
    "new": "新增",
    "persisting": "持续存在",
    "resolved": "已消除",
    "applied": "导入时间",
}

#: Case columns refreshed from the survey in every round (never a person's entries).
_SURVEYED = (
    "category_label",
    "holder",
    "other_holder",
    "parcel_id",
    "street",
    "village",
    "work_group",
    "departments",
    "action",
    "area_m2",
    "area_mu",
    "amount_due",
    "finding_id",
    "thin",
    "lon",
    "lat",
    "geometry",
)


class Ledger:
    """The case ledger in one SQLite file, or in a PostgreSQL database.

    Parameters
    ----------
    path
        The ledger file (e.g. ``cases.sqlite``), or the URL of a PostgreSQL
        database with PostGIS (``postgresql://user[:password]@host[:port]/db``,
        optionally ``?schema=NAME``, default schema ``landgis``; libpq's other
        parameters such as ``sslmode`` pass through).  A password is never shown:
        messages and :attr:`location` give the URL with ``***``.
    create
        Create the file (or the tables) when missing (default).  With ``False`` a
        missing ledger is an error (the CLI's ``show``/``set``/``export`` use
        this, so that a mistyped name does not start an empty ledger).
    timeout
        Seconds a writer waits for another one to finish before giving up.
    wal
        Write-ahead journal (default): readers never wait for writers.  Use
        ``False`` for a file on a network share, where WAL does not work.
    read_only
        Open for reading only (SQLite ``mode=ro``; ``immutable`` on a read-only
        medium, where the WAL index cannot be made): the CLI's ``show``,
        ``export`` and ``progress`` do.  A ledger whose file or folder cannot be
        written (a CD, a read-only share, no permission) is opened read-only
        anyway; writing to it then raises a :class:`LedgerError` that says so.
        On PostgreSQL: read-only transactions, and a user without the right to
        change the tables opens the ledger read-only.

    Attributes
    ----------
    path
        The ledger file (``None`` for a ledger on PostgreSQL).
    location
        What messages call the ledger: the file, or the URL without its password.
    backend
        ``"sqlite"`` or ``"postgresql"``.

    Notes
    -----
    Every SQLite error becomes a :class:`LedgerError` naming the file: a damaged
    file (``PRAGMA quick_check`` fails when it is opened, or a page later) is
    refused with the way to recover, never half-read.  Every PostgreSQL error
    becomes a :class:`LedgerError` naming the server and what to check.

    Examples
    --------
    >>> import tempfile, pathlib, landgis
    >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "cases.sqlite")
    >>> findings = landgis.audit(landgis.get_path("parcels"),
    ...                          landgis.get_path("footprints")).findings
    >>> changes = ledger.update(findings, round="2024-03", date="2024-03-15")
    >>> case = ledger.cases().iloc[0]
    >>> case.status
    '待核实'
    >>> ledger.set(case.case_id, status="整改中", person="张三", note="已下达整改通知",
    ...            date="2024-04-01")
    >>> ledger.cases().set_index("case_id").loc[case.case_id, ["status", "person"]].tolist()
    ['整改中', '张三']
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        timeout: float = 60.0,
        wal: bool = True,
        read_only: bool = False,
    ) -> None:
        self._store = open_store(
            path,
            create=create,
            timeout=timeout,
            wal=wal,
            read_only=read_only,
            statuses=tuple(STATUSES.values()),
        )
        self.path: Path | None = self._store.path
        self.location: str = self._store.location
        self.backend: str = self._store.kind
        self.timeout = float(timeout)
        self.wal = wal

    @property
    def read_only(self) -> bool:
        """Whether the ledger was opened (or could only be opened) for reading."""
        return self._store.read_only

    # ------------------------------------------------------------------ public

    def update(
        self,
        findings: Any,
        *,
        round: str | None = None,
        date: dt.date | str | None = None,
        tolerance: float = 1.0,
        min_overlap: float = 0.3,
        skip_thin: bool = False,
        campaign: Any = None,
    ) -> gpd.GeoDataFrame:
        """Enter a new audit round: keep, close, reopen and open cases.

        Parameters
        ----------
        findings
            The round's findings: a GeoDataFrame, an ``Audit``, or an audit's
            output folder.
        round
            Name of the round (default ``R1``, ``R2`` …); a name may be used once.
        date
            Date of the survey or audit; not before the latest round's.  Default:
            the day the audit was written (its ``summary.json``) when
            ``findings`` is an output folder, else today.
        tolerance, min_overlap
            Matching of findings to cases; see
            :func:`~landgis.monitor.diff.diff_rounds`.
        skip_thin
            Open no case for a new finding narrower than ``tolerance`` (a
            survey-shift sliver); by default it opens one with a note.
        campaign
            The campaign (a :class:`~landgis.Campaign`, a dict or a TOML file)
            whose ``deadline_days`` give a case opened — or reopened as 反弹 —
            after its campaign deadline a deadline counted from this round.
            Default: the audit's own (its ``summary.json``, or the ``Audit``'s).

        Returns
        -------
        geopandas.GeoDataFrame
            The comparison with the cases (see ``diff_rounds``), with ``case_id``
            (the primary case where several merged; empty for a skipped sliver).
            A parcel-level case whose category moved within its family is one
            ``persisting`` row with ``relation`` ``reclassified``.

        Raises
        ------
        LedgerError
            When the round name is taken or the date is before the latest round.
        """
        frame = as_findings(findings, name=f"round {round or ''}".strip())
        source = str(findings) if isinstance(findings, str | Path) else ""
        settings = _campaign_of(findings, campaign)
        when = _as_date(date, "date") or _audit_date(findings) or dt.date.today()
        with self._write() as con:
            crs = self._crs(con)
            if crs is None and frame.crs is not None:
                _set_meta(con, "crs", frame.crs.to_wkt())
                _set_meta(con, "crs_name", frame.crs.to_string())
                con.set_crs(frame.crs)
                crs = frame.crs
            last = con.execute("SELECT seq, round, date FROM rounds ORDER BY seq DESC").fetchone()
            seq = (last["seq"] if last else 0) + 1
            name = str(round).strip() if round is not None else f"R{seq}"
            if not name:
                raise LedgerError(f"{self.location}: a round needs a name, e.g. --round 2024-09.")
            taken = con.execute("SELECT date, applied FROM rounds WHERE round = ?", (name,))
            row = taken.fetchone()
            if row:
                raise LedgerError(
                    f"{self.location}: round {name!r} was already entered on {row['applied']} "
                    f"(survey date {row['date']}); give the new round another name (--round)."
                )
            if last and when.isoformat() < last["date"]:
                raise LedgerError(
                    f"{self.location}: round {name!r} is dated {when}, before the latest round "
                    f"{last['round']!r} ({last['date']}); enter rounds in order."
                )
            stamp = _now()
            day = when.isoformat()
            con.execute(
                "INSERT INTO rounds (seq, round, date, source, findings, new, persisting, "
                "resolved, applied) VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?)",
                (seq, name, day, source, len(frame), stamp),
            )
            pool = self._pool(con, last["round"] if last else None, crs)
            diff = diff_rounds(pool, frame, tolerance=tolerance, min_overlap=min_overlap)
            statuses = dict(con.execute("SELECT case_id, status FROM cases").fetchall())
            seen = dict(con.execute("SELECT case_id, last_round FROM cases").fetchall())
            previous = last["round"] if last else ""
            # Cases done with long ago are in the pool only to catch a relapse; not found
            # again, they are no part of this round's comparison.
            gone_long = np.array(
                [statuses.get(c) in CLOSED_STATUSES and seen.get(c) != previous
                 for c in diff["old_id"]],
                dtype=bool,
            )  # fmt: skip
            stale = (diff["status"] == "resolved").to_numpy() & gone_long
            diff = _family_moves(diff.loc[~stale].reset_index(drop=True))
            diff["case_id"] = ""
            counts = dict.fromkeys(("new", "persisting", "resolved"), 0)
            next_seq = (con.execute("SELECT MAX(seq) FROM cases").fetchone()[0] or 0) + 1
            for k, row in diff.iterrows():
                counts[row["status"]] += 1
                if row["status"] == "new":
                    if skip_thin and row["thin"]:
                        continue
                    case_id = f"{when.year}-{next_seq:04d}"
                    self._open_case(con, case_id, next_seq, row, name, day, stamp, settings)
                    next_seq += 1
                elif row["status"] == "persisting":
                    ids = sorted(row["old_id"].split(";"), key=lambda c: _case_seq(c))
                    case_id = ids[0]
                    self._continue_case(
                        con, case_id, statuses[case_id], row, name, day, stamp, settings
                    )
                    for other in ids[1:]:
                        self._merge_case(con, other, statuses[other], case_id, name, day, stamp)
                else:
                    case_id = row["old_id"]
                    self._resolve_case(con, case_id, statuses[case_id], name, day, stamp)
                diff.at[k, "case_id"] = case_id
            con.execute(
                "UPDATE rounds SET new = ?, persisting = ?, resolved = ? WHERE seq = ?",
                (*counts.values(), seq),
            )
        return diff

    def set(
        self,
        case_id: str,
        *,
        status: str | None = None,
        person: str | None = None,
        note: str | None = None,
        deadline: dt.date | str | None = None,
        amount_recovered: float | None = None,
        date: dt.date | str | None = None,
        by: str | None = None,
    ) -> None:
        """Record what a person did on a case.

        Parameters
        ----------
        case_id
            The case (``2024-0001``), as :meth:`cases` lists it.
        status
            A status of :data:`STATUSES`, in Chinese (``整改中``) or as its code
            (``rectifying``).
        person
            The responsible person (责任人).
        note
            Appended to the case's notes with the date.
        deadline
            The case's own deadline (限期), replacing the campaign's; new rounds
            keep it.
        amount_recovered
            Total amount recovered so far (yuan).
        date
            Date of the action (default today).
        by
            Who enters it (default: the login name); kept in the history.

        Raises
        ------
        LedgerError
            Unknown case or status.
        """
        new_status = _as_status(status) if status is not None else None
        when = (_as_date(date, "date") or dt.date.today()).isoformat()
        due = _as_date(deadline, "deadline") if deadline is not None else None
        if amount_recovered is not None:
            try:
                amount_recovered = float(amount_recovered)
            except (TypeError, ValueError) as exc:
                raise LedgerError(
                    f"amount_recovered={amount_recovered!r} is not a number (yuan)."
                ) from exc
        by = by if by is not None else _login()
        with self._write() as con:
            row = con.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise LedgerError(
                    f"{self.location}: no case {case_id!r}; `landgis ledger show --ledger "
                    f"{self.location}` lists the cases."
                )
            current = self._latest_round(con)
            changes: dict[str, Any] = {"updated": _now()}
            if new_status is not None and new_status != row["status"]:
                changes.update(_status_change(new_status, when, current))
            if person is not None:
                changes["person"] = person
            if note:
                changes["notes"] = _append(row["notes"], f"{when}：{note}")
            if due is not None:
                changes["deadline"] = due.isoformat()
                changes["deadline_by_hand"] = 1
            if amount_recovered is not None:
                changes["amount_recovered"] = amount_recovered
            _update(con, case_id, changes)
            details = []
            if due is not None:
                details.append(f"完成时限 {due.isoformat()}")
            if amount_recovered is not None:
                details.append(f"已追缴 {amount_recovered:g} 元")
            _event(
                con,
                case_id,
                "set",
                round=current,
                date=when,
                status_from=row["status"] if "status" in changes else None,
                status_to=changes.get("status"),
                person=person,
                note="；".join([*details, *([note] if note else [])]) or None,
                by=by,
            )

    def cases(
        self,
        *,
        status: str | list[str] | None = None,
        street: str | None = None,
        group: str | None = None,
        geometry: bool = True,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """The cases, one row each, oldest first.

        Parameters
        ----------
        status, street, group
            Keep only these (``status`` also as a list, Chinese or codes).
        geometry
            Return a GeoDataFrame with the latest geometry (default) or a plain
            DataFrame.

        Returns
        -------
        geopandas.GeoDataFrame or pandas.DataFrame
            Columns of :data:`LEDGER_HEADERS_ZH` (``group`` is the working
            group), dates as ISO text; ``deadline_basis`` says how the deadline
            was set: ``campaign`` (工作方案时限), ``round`` (counted from the round
            that found the case) or ``hand`` (人工设定).
        """
        where, args = [], []
        if status is not None:
            wanted = [_as_status(s) for s in ([status] if isinstance(status, str) else status)]
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            args += wanted
        if street is not None:
            where.append("street = ?")
            args.append(street)
        if group is not None:
            where.append("work_group = ?")
            args.append(group)
        with self._read() as con:
            query = "SELECT " + ", ".join(
                con.geometry_out if c == "geometry" else c for c in CASE_COLUMNS
            )
            query += " FROM cases"
            if where:
                query += " WHERE " + " AND ".join(where)
            crs = self._crs(con)
            cursor = con.execute(query + " ORDER BY seq", args)
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description]
        df = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        df = df.rename(columns={"work_group": "group"})
        wkb = df.pop("geometry").to_numpy(dtype=object)
        df.insert(
            df.columns.get_loc("deadline") + 1,
            "deadline_basis",
            df["deadline_by_hand"].map(lambda c: _DEADLINE_CODES.get(int(c or 0), "campaign")),
        )
        df = df.drop(columns=["seq", "deadline_by_hand"])
        df["thin"] = df["thin"].astype(bool)
        for col in (
            "area_m2",
            "area_mu",
            "opened_area_m2",
            "amount_due",
            "opened_amount_due",
            "amount_recovered",
        ):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        if not geometry:
            return df
        try:
            geoms = shapely.from_wkb(np.where(pd.isna(wkb), None, wkb)) if len(wkb) else []
        except (shapely.errors.ShapelyError, TypeError, ValueError) as exc:
            raise self._damaged(f"a case geometry cannot be read: {exc}") from exc
        return gpd.GeoDataFrame(df, geometry=list(geoms), crs=crs)

    def history(self, case_id: str | None = None) -> pd.DataFrame:
        """Everything that happened to the cases (or one case), in order."""
        query = "SELECT * FROM events"
        args: tuple[str, ...] = ()
        if case_id is not None:
            query, args = query + " WHERE case_id = ?", (case_id,)
        with self._read() as con:
            rows = con.execute(query + " ORDER BY id", args).fetchall()
        columns = list(_EVENT_HEADERS_ZH)
        return pd.DataFrame([dict(r) for r in rows], columns=columns)

    def rounds(self) -> pd.DataFrame:
        """The rounds entered: name, date, counts of findings, new, persisting, resolved."""
        with self._read() as con:
            rows = con.execute("SELECT * FROM rounds ORDER BY seq").fetchall()
        return pd.DataFrame([dict(r) for r in rows], columns=list(_ROUND_HEADERS_ZH))

    def case_findings(self) -> pd.DataFrame:
        """The finding id of each case in each round (``case_id``, ``round``, ``finding_id``)."""
        with self._read() as con:
            rows = con.execute(
                "SELECT cf.case_id, cf.round, cf.finding_id, cf.change, cf.area_m2 "
                "FROM case_findings cf JOIN rounds r ON r.round = cf.round "
                "ORDER BY cf.case_id, r.seq, cf.finding_id"
            ).fetchall()
        return pd.DataFrame(
            [dict(r) for r in rows], columns=["case_id", "round", "finding_id", "change", "area_m2"]
        )

    def export(self, path: str | Path, *, lang: str = "zh") -> Path:
        """Write the ledger for people: ``.csv``, ``.xlsx`` or ``.gpkg`` by the suffix.

        Parameters
        ----------
        path
            ``.csv``: the cases (UTF-8 with BOM, safe cells).  ``.xlsx``: sheets
            案件台账 (cases), 处置记录 (history), 各轮编号 (finding ids per round)
            and 调查轮次 (rounds).  ``.gpkg``: layer ``cases`` with geometry.
        lang
            ``"zh"``: Chinese headers; ``"en"``: column codes.

        Returns
        -------
        pathlib.Path
        """
        from landgis.present.csv import write_table

        path = Path(path)
        if self._store.is_file(path):
            raise LedgerError(f"{path}: is the ledger itself; export to another file.")
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xlsx", ".gpkg"):
            raise LedgerError(f"{path}: export to .csv, .xlsx or .gpkg.")
        cases = self.cases()
        if suffix == ".gpkg":
            with atomic_path(path) as tmp:
                cases.to_file(tmp, layer="cases", driver="GPKG", engine="pyogrio")
            return path
        plain = pd.DataFrame(cases.drop(columns="geometry"))
        if lang == "zh":
            plain["deadline_basis"] = plain["deadline_basis"].map(
                lambda b: DEADLINE_BASES.get(b, b)
            )
        table = _headers(plain, LEDGER_HEADERS_ZH, lang)
        if suffix == ".csv":
            return write_table(table, path)
        history = self.history()
        ids = self.case_findings()
        if lang == "zh":
            history["kind"] = history["kind"].map(lambda k: EVENT_KINDS_ZH.get(k, k))
            ids["change"] = ids["change"].map(lambda k: _CHANGES_ZH.get(k, k))
        sheets = {
            "案件台账": table,
            "处置记录": _headers(history, _EVENT_HEADERS_ZH, lang),
            "各轮编号": _headers(ids, _CASE_FINDING_HEADERS_ZH, lang),
            "调查轮次": _headers(self.rounds(), _ROUND_HEADERS_ZH, lang),
        }
        from landgis.present.excel import write_workbook

        return write_workbook(path, sheets, dates=LEDGER_DATE_COLUMNS)

    def write_sheets(
        self,
        outdir: str | Path,
        *,
        street: str | None = None,
        title: str = "土地资源核查处置",
    ) -> dict[str, Path]:
        """Write the return sheets (街道核查反馈表): one workbook per street.

        Each lists the street's cases still to be worked on (待核实, 整改中, 移交司法)
        or awaiting the street's confirmation (待确认销号) — case number, category,
        holder, village, parcel, place, 亩, deadline, current status and person, all
        locked — and the columns the street fills in: 核查结果 (属实/不属实/部分属实),
        处置状态 (the ledger's statuses), 责任人, 处置说明, 完成日期, with drop-down
        lists and a date check.  A hidden sheet keeps each case's last-change stamp,
        so :meth:`import_sheets` can tell an edit made on a case that changed since.
        See :mod:`landgis.monitor.sheets`.

        Parameters
        ----------
        outdir
            Folder for ``核查反馈表-<street>.xlsx`` (created).
        street
            Only this street (default: every street with such cases; cases without
            a street go to ``未分街道``).
        title
            Campaign name, shown in the sheets' title.

        Returns
        -------
        dict
            Street → the workbook written.

        Raises
        ------
        LedgerError
            ``street`` has no cases in the ledger.
        """
        from landgis.io.paths import safe_filename
        from landgis.monitor.sheets import write_return_sheet
        from landgis.present.kml import NO_STREET  # the field kit's name for them

        # The stamps before the cases: a change in between makes an edit of that case a
        # conflict (safe), never an edit of values the street did not see applied.
        with self._read() as con:
            stamps = dict(
                con.execute("SELECT case_id, MAX(id) FROM events GROUP BY case_id").fetchall()
            )
        cases = self.cases(status=[*OPEN_STATUSES, PENDING], geometry=False)
        streets = cases["street"].fillna("").astype(str).replace("", NO_STREET)
        if street is not None:
            if street not in set(streets):
                every = sorted(set(self.cases(geometry=False)["street"].replace("", NO_STREET)))
                raise LedgerError(
                    f"{self.location}: no open case in the street {street!r}; the streets "
                    f"are {every}."
                )
            wanted = [street]
        else:
            wanted = sorted(set(streets))
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        taken: set[str] = set()
        now = _now()
        choices = list(_BY_HAND.values())
        for name in wanted:
            sel = cases[(streets == name).to_numpy()]
            stem = safe_filename(f"核查反馈表-{name}", taken=taken)
            written[name] = write_return_sheet(
                outdir / f"{stem}.xlsx",
                sel,
                street=name,
                statuses=choices,
                stamps={c: int(stamps.get(c) or 0) for c in sel["case_id"]},
                written=now,
                ledger=self.location,
                title=title,
            )
        return written

    def import_sheets(
        self,
        files: str | Path | Sequence[str | Path],
        *,
        by: str | None = None,
        date: dt.date | str | None = None,
    ) -> ImportReport:
        """Read returned sheets (街道核查反馈表) into the ledger.

        Each filled-in row that changes something becomes one event of its case
        (``sheet``, 反馈表导入): the status (处置状态), the responsible person
        (责任人), and a line in the notes with the street, 核查结果 and 处置说明,
        dated 完成日期 (or ``date``); the event names the file and row and who
        imported it.  Not applied, and listed with file, row and column: unknown
        case numbers (or cases not on that sheet), invalid results, statuses or
        dates, and edits of a case that changed in the ledger since the sheet was
        written (a conflict: someone else recorded something meanwhile — check and
        enter it by hand with :meth:`set`).  Each file is one transaction: its valid
        rows are applied together or, on any error, none.  A row whose values the
        ledger already holds changes nothing, so importing a file twice changes
        nothing.

        Parameters
        ----------
        files
            The returned workbooks.
        by
            Who imports (default: the login name); kept in the history.
        date
            Date of the rows without 完成日期 (default today).

        Returns
        -------
        ImportReport
            Rows applied, rows unchanged, problems.

        Raises
        ------
        LedgerError
            A file cannot be read or is not a return sheet (nothing of it applied;
            files before it stay imported).
        """
        from landgis.monitor.sheets import ImportReport, SheetProblem, read_return_sheet

        paths = [Path(files)] if isinstance(files, str | Path) else [Path(f) for f in files]
        day = (_as_date(date, "date") or dt.date.today()).isoformat()
        by = by if by is not None else _login()
        report = ImportReport()
        for path in paths:
            sheet = read_return_sheet(path, statuses=_BY_HAND)
            report.files.append(str(path))
            problems = list(sheet.problems)
            applied: list[dict[str, Any]] = []
            unchanged = 0
            with self._write() as con:
                current = self._latest_round(con)
                rows = [r for r in sheet.rows if not r.problems]
                ids = sorted({r.case_id for r in rows})
                found: dict[str, Any] = {}
                stamps: dict[str, int] = {}
                for chunk in range(0, len(ids), 500):
                    part = ids[chunk : chunk + 500]
                    marks = ", ".join("?" * len(part))
                    for row in con.execute(
                        f"SELECT case_id, status, person, notes FROM cases "
                        f"WHERE case_id IN ({marks})",
                        part,
                    ).fetchall():
                        found[row["case_id"]] = row
                    stamps.update(
                        con.execute(
                            f"SELECT case_id, MAX(id) FROM events WHERE case_id IN ({marks}) "
                            "GROUP BY case_id",
                            part,
                        ).fetchall()
                    )
                for row in rows:
                    case = found.get(row.case_id)
                    if case is None or row.case_id not in sheet.stamps:
                        why = (
                            "台账中没有这个案件编号"
                            if case is None
                            else "这个案件不在本表中（案件编号被改动？）"
                        )
                        problems.append(
                            SheetProblem(
                                sheet.file, row.row, "案件编号", row.case_id, why, "unknown_case"
                            )
                        )
                        continue
                    text = _sheet_note(sheet.street, row)
                    changes: dict[str, Any] = {}
                    said: list[str] = []
                    when = row.date.isoformat() if row.date else day
                    if row.status and row.status != case["status"]:
                        changes.update(_status_change(row.status, when, current))
                        said.append(f"处置状态 {case['status']} → {row.status}")
                    if row.person and row.person != case["person"]:
                        changes["person"] = row.person
                        said.append(f"责任人 {case['person'] or '（空）'} → {row.person}")
                    lines = [line.split("：", 1)[-1] for line in case["notes"].splitlines()]
                    if text and text not in lines:
                        changes["notes"] = _append(case["notes"], f"{when}：{text}")
                        said.append(text)
                    if not changes:
                        unchanged += 1
                        continue
                    stamp = int(stamps.get(row.case_id) or 0)
                    if stamp != sheet.stamps[row.case_id]:
                        for column in row.edited:
                            value = {
                                "核查结果": row.result,
                                "处置状态": row.status,
                                "责任人": row.person,
                                "处置说明": row.note,
                                "完成日期": row.date.isoformat() if row.date else "",
                            }[column]
                            problems.append(
                                SheetProblem(
                                    sheet.file,
                                    row.row,
                                    column,
                                    value,
                                    "冲突：写出本表后台账中该案件已有变更，未导入；"
                                    "请核对后用 ledger set 登记",
                                    "conflict",
                                )
                            )
                        continue
                    changes["updated"] = _now()
                    _update(con, row.case_id, changes)
                    note = f"{sheet.file} 第 {row.row} 行：" + "；".join(said)
                    _event(
                        con,
                        row.case_id,
                        "sheet",
                        round=current,
                        date=when,
                        status_from=case["status"] if "status" in changes else None,
                        status_to=changes.get("status"),
                        person=changes.get("person"),
                        note=note,
                        by=by,
                    )
                    stamps[row.case_id] = -1  # a second row of the case in this file conflicts
                    applied.append(
                        {
                            "file": sheet.file,
                            "row": row.row,
                            "case_id": row.case_id,
                            "changes": note,
                        }
                    )
            report.applied += applied
            report.unchanged += unchanged
            report.problems += sorted(problems, key=lambda p: (p.row or 0, p.column))
        return report

    def case_numbers(self) -> dict[str, str]:
        """Finding id → case number, over every round (the latest round wins).

        The field kit's print list shows these numbers next to the findings
        (``landgis fieldkit OUTDIR --ledger L``), the same as on the return sheets.
        """
        ids = self.case_findings()
        return dict(zip(ids["finding_id"], ids["case_id"], strict=True))

    def __repr__(self) -> str:
        with self._read() as con:
            n = con.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
            r = con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0]
        return f"<landgis.Ledger {self.location}: {n} cases, {r} rounds>"

    # ------------------------------------------------------------------ cases

    def _open_case(self, con, case_id, seq, row, round_name, day, stamp, settings) -> None:
        values = _surveyed(row)
        deadline, code = _new_deadline(row["deadline"], row, day, settings)
        values.update(
            case_id=case_id,
            seq=seq,
            status=NEW_STATUS,
            category=row["category"],
            deadline=deadline,
            deadline_by_hand=code,
            opened=day,
            opened_round=round_name,
            opened_area_m2=values["area_m2"],
            opened_amount_due=values["amount_due"],
            last_seen=day,
            last_round=round_name,
            status_changed=day,
            status_round=round_name,
            updated=stamp,
        )
        note = None
        if row["thin"]:
            note = "【系统】图斑狭长，宽度不足匹配容差，可能为测量偏差，请核实"
            values["notes"] = f"{day}：{note}"
        cols = ", ".join(values)
        marks = ", ".join(con.geometry_in if k == "geometry" else "?" for k in values)
        con.execute(f"INSERT INTO cases ({cols}) VALUES ({marks})", list(values.values()))
        due = f"完成时限 {deadline}（{DEADLINE_BASES['round']}）" if code == 2 else None
        _event(
            con,
            case_id,
            "opened",
            round=round_name,
            date=day,
            status_to=NEW_STATUS,
            note="；".join(x for x in (note, due) if x) or None,
        )
        _record_findings(con, case_id, round_name, row, "new")

    def _continue_case(self, con, case_id, status, row, round_name, day, stamp, settings) -> None:
        changes = _surveyed(row)
        changes.update(last_seen=day, last_round=round_name, updated=stamp)
        case = con.execute(
            "SELECT deadline, deadline_by_hand, notes, category FROM cases WHERE case_id = ?",
            (case_id,),
        ).fetchone()
        notes = case["notes"]
        # A campaign deadline follows the campaign; one counted from a later round does not
        # move a case found earlier, nor does one set by hand or counted from its round.
        if not case["deadline_by_hand"] and _basis(row) != "round":
            changes["deadline"] = row["deadline"] or None
        events: list[tuple[str, str | None, str | None, str]] = []
        if row["category"] != case["category"]:  # the parcel moved within its family
            before, after = CATEGORIES[case["category"]].label, CATEGORIES[row["category"]].label
            note = f"【系统】{round_name} 轮调查：{before} → {after}，原案件继续办理"
            changes["category"] = row["category"]
            notes = _append(notes, f"{day}：{note}")
            events.append(("reclassified", None, None, note))
        if status == PENDING:
            before = con.execute(
                "SELECT status_from FROM events WHERE case_id = ? AND kind = 'resolved' "
                "ORDER BY id DESC LIMIT 1",
                (case_id,),
            ).fetchone()
            back = before["status_from"] if before and before["status_from"] else NEW_STATUS
            changes.update(_status_change(back, day, round_name))
            note = f"【系统】{round_name} 轮调查中再次出现，恢复为{back}"
            notes = _append(notes, f"{day}：{note}")
            events.append(("reappeared", status, back, note))
        elif status in DONE_STATUSES:  # 反弹: what was disposed of is back
            changes.update(_status_change(NEW_STATUS, day, round_name))
            note = f"【系统】{round_name} 轮调查中再次发现（原为{status}），按反弹重新办理"
            current = changes.get("deadline", case["deadline"])
            deadline, code = _new_deadline(current, row, day, settings)
            if code == 2 and deadline != current:
                changes.update(deadline=deadline, deadline_by_hand=2)
                note += f"，完成时限 {deadline}（{DEADLINE_BASES['round']}）"
            notes = _append(notes, f"{day}：{note}")
            events.append(("relapse", status, NEW_STATUS, note))
        if notes != case["notes"]:
            changes["notes"] = notes
        _update(con, case_id, changes)
        for kind, status_from, status_to, note in events:
            _event(
                con,
                case_id,
                kind,
                round=round_name,
                date=day,
                status_from=status_from,
                status_to=status_to,
                note=note,
            )
        # a case simply seen again is recorded in case_findings only
        _record_findings(con, case_id, round_name, row, events[-1][0] if events else "persisting")

    def _merge_case(self, con, case_id, status, into, round_name, day, stamp) -> None:
        notes = con.execute("SELECT notes FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
        note = f"【系统】{round_name} 轮调查中与案件 {into} 连成一片，并入该案件"
        changes = _status_change(MERGED, day, round_name)
        changes.update(notes=_append(notes, f"{day}：{note}"), updated=stamp)
        _update(con, case_id, changes)
        _event(
            con,
            case_id,
            "merged",
            round=round_name,
            date=day,
            status_from=status,
            status_to=MERGED,
            note=note,
        )

    def _resolve_case(self, con, case_id, status, round_name, day, stamp) -> None:
        if status not in OPEN_STATUSES:
            return  # already pending, done or dismissed: nothing to confirm
        notes = con.execute("SELECT notes FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
        note = f"【系统】{round_name} 轮调查未再发现，待确认销号"
        changes = _status_change(PENDING, day, round_name)
        changes.update(notes=_append(notes, f"{day}：{note}"), updated=stamp)
        _update(con, case_id, changes)
        _event(
            con,
            case_id,
            "resolved",
            round=round_name,
            date=day,
            status_from=status,
            status_to=PENDING,
            note=note,
        )

    def _pool(self, con, last_round: str | None, crs) -> gpd.GeoDataFrame:
        """The cases a new round's findings may continue: seen in the latest round,
        awaiting confirmation (their finding may come back), or done with — 已处置,
        已销号 (a relapse, 反弹), 不予认定 (stays dismissed) — in any round."""
        done = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)
        rows = con.execute(
            f"SELECT case_id, category, holder, parcel_id, area_m2, {con.geometry_out} FROM cases "
            f"WHERE status != ? AND (last_round = ? OR status = ? OR status IN ({done}))",
            (MERGED, last_round or "", PENDING),
        ).fetchall()
        wkb = [r["geometry"] for r in rows]
        return gpd.GeoDataFrame(
            {
                "finding_id": [r["case_id"] for r in rows],
                "category": [r["category"] for r in rows],
                "holder": [r["holder"] for r in rows],
                "parcel_id": [r["parcel_id"] for r in rows],
                "area_m2": [r["area_m2"] for r in rows],
            },
            geometry=list(shapely.from_wkb(wkb)) if wkb else [],
            crs=crs,
        )

    # ------------------------------------------------------------------ storage

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction: writers queue, readers are not blocked; rolled back on
        any error (:mod:`landgis.monitor.store`)."""
        with self._store.write() as con:
            yield con

    @contextlib.contextmanager
    def _read(self) -> Iterator[Any]:
        """One consistent snapshot for reading."""
        with self._store.read() as con:
            yield con

    def _damaged(self, detail: str) -> LedgerError:
        return self._store.damaged(detail)

    def _crs(self, con):
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        row = con.execute("SELECT value FROM meta WHERE key = 'crs'").fetchone()
        try:
            return CRS.from_wkt(row[0]) if row else None
        except (CRSError, TypeError) as exc:
            raise self._damaged(f"its CRS cannot be read: {exc}") from exc

    @staticmethod
    def _latest_round(con) -> str:
        row = con.execute("SELECT round FROM rounds ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else ""


# ---------------------------------------------------------------------- helpers


def _surveyed(row) -> dict[str, Any]:
    """The case fields a round's diff row gives (the survey's facts)."""
    area = row["new_area_m2"]
    geom = row.geometry
    return {
        "category_label": row["category_label"],
        "holder": row["holder"],
        "other_holder": row["other_holder"],
        "parcel_id": row["parcel_id"],
        "street": row["street"],
        "village": row["village"],
        "work_group": row["group"],
        "departments": row["departments"],
        "action": row["action"],
        "area_m2": _float(area),
        "area_mu": _float(to_mu(area)),
        "amount_due": _float(row["amount_due"]),
        "finding_id": row["new_id"],
        "thin": int(bool(row["thin"])),
        "lon": _float(row["lon"]),
        "lat": _float(row["lat"]),
        "geometry": None if geom is None or geom.is_empty else shapely.to_wkb(geom),
    }


def _basis(row) -> str:
    value = row.get("deadline_basis", "") if hasattr(row, "get") else ""
    return "" if value is None or value != value else str(value)


def _new_deadline(current, row, day: str, settings) -> tuple[str | None, int]:
    """The deadline of a case opened (or reopened) in a round dated ``day``.

    The deadline the finding carries — unless it has passed by ``day``: then
    ``day`` plus the days of its stage (``Campaign.deadline_days``).  Returns the
    deadline (ISO text) and its ``deadline_by_hand`` code (0 campaign, 2 round).
    """
    current = current or None
    if current and str(current) < day:
        start = dt.date.fromisoformat(day)
        due = start + dt.timedelta(days=settings.days_for(row["category"]))
        return due.isoformat(), 2
    return current, 2 if _basis(row) == "round" else 0


def _family_moves(diff: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A parcel-level case gone from one category and its parcel new in another of the
    same family (:data:`CATEGORY_FAMILIES`) is one persisting, reclassified row."""
    family = {code: i for i, codes in enumerate(CATEGORY_FAMILIES) for code in codes}
    gone = diff.index[(diff["status"] == "resolved") & diff["category"].isin(list(family))]
    new = diff.index[(diff["status"] == "new") & diff["category"].isin(list(family))]
    taken, drop = set(), []
    for i in gone:
        old = diff.loc[i]
        if not old["parcel_id"]:
            continue
        for j in new:
            cand = diff.loc[j]
            if (
                j not in taken
                and cand["parcel_id"] == old["parcel_id"]
                and family[cand["category"]] == family[old["category"]]
                and cand["category"] != old["category"]
            ):
                taken.add(j)
                drop.append(i)
                diff.loc[j, ["status", "status_label", "relation"]] = [
                    "persisting",
                    STATUS_LABELS["persisting"],
                    "reclassified",
                ]
                diff.loc[j, "old_id"] = old["old_id"]
                diff.loc[j, "old_area_m2"] = old["old_area_m2"]
                diff.loc[j, "old_area_mu"] = old["old_area_mu"]
                diff.loc[j, "area_change_m2"] = diff.loc[j, "new_area_m2"] - old["old_area_m2"]
                diff.loc[j, "area_change_mu"] = diff.loc[j, "new_area_mu"] - old["old_area_mu"]
                break
    return diff.drop(index=drop).reset_index(drop=True)


def _campaign_of(findings, campaign):
    """The campaign whose ``deadline_days`` apply: given, the Audit's, or its summary.json's."""
    import json

    from landgis.config import DEFAULT_DEADLINE_DAYS, Campaign, load_campaign

    if campaign is not None:
        return load_campaign(campaign)
    if isinstance(getattr(findings, "campaign", None), Campaign):
        return findings.campaign
    if isinstance(findings, str | Path):
        path = Path(findings)
        trail = (path if path.is_dir() else path.parent) / "summary.json"
        try:
            days = json.loads(trail.read_text(encoding="utf-8")).get("deadline_days") or {}
            return Campaign(deadline_days={**DEFAULT_DEADLINE_DAYS, **days})
        except (OSError, ValueError, TypeError, LandgisError):
            pass
    return Campaign()


def _record_findings(con, case_id, round_name, row, change) -> None:
    ids = [i for i in row["new_id"].split(";") if i]
    for fid in ids:
        con.execute(
            "INSERT INTO case_findings (case_id, round, finding_id, change, area_m2) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id, round, finding_id) DO NOTHING",
            (
                case_id,
                round_name,
                fid,
                change,
                _float(row["new_area_m2"]) if len(ids) == 1 else None,
            ),
        )


def _status_change(status: str, day: str, round_name: str) -> dict[str, Any]:
    closed = day if status in CLOSED_STATUSES or status == MERGED else None
    return {"status": status, "status_changed": day, "status_round": round_name, "closed": closed}


def _update(con, case_id: str, changes: dict[str, Any]) -> None:
    cols = ", ".join(f"{k} = {con.geometry_in if k == 'geometry' else '?'}" for k in changes)
    con.execute(f"UPDATE cases SET {cols} WHERE case_id = ?", [*changes.values(), case_id])


def _event(
    con,
    case_id,
    kind,
    *,
    round,
    date,
    status_from=None,
    status_to=None,
    person=None,
    note=None,
    by="landgis",
) -> None:
    con.execute(
        "INSERT INTO events (case_id, at, date, round, kind, status_from, status_to, person, "
        "note, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, _now(), date, round, kind, status_from, status_to, person, note, by),
    )


def _set_meta(con, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def _sheet_note(street: str, row) -> str:
    """The line a returned sheet's row adds to the case's notes (empty: none)."""
    parts = []
    if row.result:
        parts.append(f"核查结果：{row.result}")
    if row.note:
        parts.append(row.note)
    if not parts:
        return ""
    return f"【{street or '街道'}反馈】" + "；".join(parts)


def _append(notes: str, line: str) -> str:
    return f"{notes}\n{line}" if notes else line


def _as_status(value: str) -> str:
    text = str(value).strip()
    if text in STATUSES.values():
        return text
    if text.lower() in STATUSES:
        return STATUSES[text.lower()]
    choices = "、".join(f"{zh}（{code}）" for code, zh in STATUSES.items())
    raise LedgerError(f"unknown status {value!r}; use one of {choices}.")


def _as_date(value, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise LedgerError(f"{what}={value!r} is not a date; write it as 2024-06-30.") from exc


def _audit_date(source) -> dt.date | None:
    """The day an audit output folder was written (its ``summary.json``), if it is one."""
    import json

    if not isinstance(source, str | Path):
        return None
    path = Path(source)
    trail = (path if path.is_dir() else path.parent) / "summary.json"
    try:
        created = json.loads(trail.read_text(encoding="utf-8")).get("created", "")
        return dt.datetime.fromisoformat(created).astimezone().date()
    except (OSError, ValueError, AttributeError):
        return None


def _case_seq(case_id: str) -> int:
    try:
        return int(case_id.rsplit("-", 1)[-1])
    except ValueError:  # pragma: no cover - ids are ours
        return 0


def _float(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(out) else out


def _headers(df: pd.DataFrame, headers: dict[str, str], lang: str) -> pd.DataFrame:
    if lang not in ("zh", "en"):
        raise ValueError(f"lang={lang!r}; use 'zh' or 'en'.")
    return df.rename(columns=headers) if lang == "zh" else df


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name (containers)
        return ""
