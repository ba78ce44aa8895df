"""Where a ledger lives: one SQLite file, or a PostgreSQL database with PostGIS.

:class:`~landgis.monitor.ledger.Ledger` speaks SQL with ``?`` placeholders to a
*connection* this module gives it, inside a transaction this module opens; the
two backends differ only here:

============================  ===============================  ==================================
                              SQLite (default, one PC)          PostgreSQL (an office, many PCs)
============================  ===============================  ==================================
target                        a file path (``cases.sqlite``)    ``postgresql://user@host/db``
writers queue by              ``BEGIN IMMEDIATE``               a transaction-level advisory lock
readers                       WAL: never blocked                MVCC: never blocked (snapshot)
case geometry                 WKB in a BLOB                     PostGIS ``geometry(Geometry, srid)``
schema version                table ``schema_version`` +        table ``schema_version`` in the
                              ``PRAGMA application_id``         schema ``landgis`` (``?schema=``)
============================  ===============================  ==================================

A PostgreSQL URL may carry a password; it is never shown: :func:`mask_url` gives
the URL as messages print it, and every message passes through the mask.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from landgis.errors import LedgerError

__all__ = ["SCHEMA_VERSION", "is_server_url", "mask_url", "open_store"]

#: Version of the layout; a ledger of a newer one is refused.
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a ledger file ("LGLD"); the first key of the server's lock.
APPLICATION_ID = 0x4C474C44

#: Case columns in the order of the table (and of :meth:`Ledger.cases`).
CASE_COLUMNS = (
    "case_id",
    "seq",
    "status",
    "person",
    "notes",
    "category",
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
    "opened_area_m2",
    "amount_due",
    "opened_amount_due",
    "amount_recovered",
    "deadline",
    "deadline_by_hand",
    "opened",
    "opened_round",
    "last_seen",
    "last_round",
    "status_changed",
    "status_round",
    "closed",
    "finding_id",
    "thin",
    "lon",
    "lat",
    "geometry",
    "updated",
)


def _schema(statuses: tuple[str, ...], *, real: str, blob: str, serial: str) -> str:
    status_list = ", ".join(f"'{s}'" for s in statuses)
    return f"""
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL,
    applied TEXT NOT NULL,
    landgis_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    seq INTEGER PRIMARY KEY,
    round TEXT NOT NULL UNIQUE,
    date TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    findings INTEGER NOT NULL,
    new INTEGER NOT NULL,
    persisting INTEGER NOT NULL,
    resolved INTEGER NOT NULL,
    applied TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ({status_list})),
    person TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    category_label TEXT NOT NULL DEFAULT '',
    holder TEXT NOT NULL DEFAULT '',
    other_holder TEXT NOT NULL DEFAULT '',
    parcel_id TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    village TEXT NOT NULL DEFAULT '',
    work_group TEXT NOT NULL DEFAULT '',
    departments TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    area_m2 {real},
    area_mu {real},
    opened_area_m2 {real},
    amount_due {real},
    opened_amount_due {real},
    amount_recovered {real},
    deadline TEXT,
    deadline_by_hand INTEGER NOT NULL DEFAULT 0,
    opened TEXT NOT NULL,
    opened_round TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_round TEXT NOT NULL,
    status_changed TEXT NOT NULL,
    status_round TEXT NOT NULL,
    closed TEXT,
    finding_id TEXT NOT NULL DEFAULT '',
    thin INTEGER NOT NULL DEFAULT 0,
    lon {real},
    lat {real},
    geometry {blob},
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_findings (
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    round TEXT NOT NULL REFERENCES rounds (round),
    finding_id TEXT NOT NULL,
    change TEXT NOT NULL,
    area_m2 {real},
    PRIMARY KEY (case_id, round, finding_id)
);
CREATE TABLE IF NOT EXISTS events (
    id {serial},
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    at TEXT NOT NULL,
    date TEXT NOT NULL,
    round TEXT NOT NULL,
    kind TEXT NOT NULL,
    status_from TEXT,
    status_to TEXT,
    person TEXT,
    note TEXT,
    by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS cases_last_round ON cases (last_round);
CREATE INDEX IF NOT EXISTS cases_status ON cases (status);
CREATE INDEX IF NOT EXISTS events_case ON events (case_id);
CREATE INDEX IF NOT EXISTS case_findings_round ON case_findings (round);
"""


def is_server_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a ledger file."""
    return isinstance(target, str) and bool(re.match(r"(?i)postgres(ql)?://", target.strip()))


def mask_url(url: str) -> str:
    """The URL with its password (in the address or as ``password=``) shown as ``***``.

    Examples
    --------
    >>> mask_url("postgresql://clerk:s3cret@db.office/ledger?sslmode=require")
    'postgresql://clerk:***@db.office/ledger?sslmode=require'
    >>> mask_url("postgresql://clerk@db.office/ledger?password=s3cret")
    'postgresql://clerk@db.office/ledger?password=***'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return re.sub(r"(?<=:)[^:@/]*(?=@)", "***", url)
    if "@" in netloc:
        auth, host = netloc.rsplit("@", 1)
        if ":" in auth:
            auth = auth.split(":", 1)[0] + ":***"
        netloc = f"{auth}@{host}"
    query = re.sub(r"(?i)((?:^|&)(?:ssl)?password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    """The passwords in ``url`` (raw and decoded), to be masked in every message."""
    out: list[str] = []
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    if parts.password:
        out += [parts.password, unquote(parts.password)]
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in ("password", "sslpassword") and value:
            out += [value, quote(value)]
    return sorted({s for s in out if s}, key=len, reverse=True)


def open_store(
    target: str | Path,
    *,
    create: bool,
    timeout: float,
    wal: bool,
    read_only: bool,
    statuses: tuple[str, ...],
) -> _SQLiteStore | _PostgresStore:
    """The store of ``target``: a PostgreSQL URL or the path of a ledger file."""
    if is_server_url(target):
        return _PostgresStore(
            str(target).strip(),
            create=create,
            timeout=timeout,
            read_only=read_only,
            statuses=statuses,
        )
    return _SQLiteStore(
        Path(target),
        create=create,
        timeout=timeout,
        wal=wal,
        read_only=read_only,
        statuses=statuses,
    )


def _too_new(location: str, version: int) -> LedgerError:
    return LedgerError(
        f"{location}: ledger schema version {version} is newer than this "
        f"landgis reads ({SCHEMA_VERSION}); upgrade landgis (pip install -U landgis)."
    )


def _read_only_error(location: str, why: str, copy: str) -> LedgerError:
    return LedgerError(
        f"{location}: is read-only ({why}); nothing was changed. "
        f"Reading works (ledger show, export, progress); to record changes, {copy}."
    )


def _now() -> str:
    import datetime as dt

    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _version() -> str:
    from landgis._version import __version__

    return __version__


# ====================================================================== SQLite


class _SQLiteConnection(sqlite3.Connection):
    """An SQLite connection as the ledger speaks to it: WKB geometry as it is."""

    kind = "sqlite"
    geometry_in = "?"
    geometry_out = "geometry"

    def set_crs(self, crs) -> None:
        """Nothing to do: the file keeps WKB of any CRS."""


class _SQLiteStore:
    """A ledger in one SQLite file (see :class:`~landgis.monitor.ledger.Ledger`)."""

    kind = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        create: bool,
        timeout: float,
        wal: bool,
        read_only: bool,
        statuses: tuple[str, ...],
    ) -> None:
        self.path = path
        self.location = str(path)
        self.timeout = float(timeout)
        self.wal = wal
        self.read_only = bool(read_only)
        self.schema = _schema(
            statuses, real="REAL", blob="BLOB", serial="INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        self._uri: str | None = None  # the read-only URI, once opened so
        self._why_read_only = "opened read-only"
        if not self.path.exists():
            if not create or read_only:
                raise LedgerError(
                    f"{self.path}: no such ledger; start one with "
                    f"`landgis ledger update OUTDIR --ledger {self.path}`."
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.read_only:
            self._open_read_only()
            return
        try:
            self._open()
        except _CannotWrite as exc:
            self._why_read_only = (
                "a read-only medium, or no permission to write the file or its folder: "
                f"{exc.__cause__}"
            )
            self.read_only = True
            self._open_read_only()

    def is_file(self, path: Path) -> bool:
        """Whether ``path`` is the ledger file itself."""
        return Path(path).resolve() == self.path.resolve()

    @contextlib.contextmanager
    def write(self) -> Iterator[_SQLiteConnection]:
        """One write transaction: taken at once (BEGIN IMMEDIATE), so concurrent writers
        queue instead of failing half-way; rolled back on any error."""
        if self.read_only:
            raise _read_only_error(
                str(self.path),
                self._why_read_only,
                "copy the file to a folder you can write and use that copy",
            )
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED):
                    raise LedgerError(
                        f"{self.path}: the ledger stayed locked by another writer for "
                        f"{self.timeout:g} s ({exc}); try again."
                    ) from exc
                raise
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:  # locked, read-only, damaged, disk full …
            raise self._error(exc, "nothing was changed") from exc
        finally:
            con.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[_SQLiteConnection]:
        con = self._connect()
        try:
            con.execute("BEGIN")  # one consistent snapshot
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the ledger") from exc
        finally:
            con.close()

    def damaged(self, detail: str) -> LedgerError:
        return LedgerError(
            f"{self.path}: the ledger file is damaged ({detail}); nothing was read or changed. "
            f"Restore it from a backup; `sqlite3 {self.path} .recover` copies out what is "
            "left, and each round's audit folder can be entered again with "
            "`landgis ledger update`."
        )

    def _error(self, exc: sqlite3.Error, doing: str) -> LedgerError:
        """An SQLite error as a message that names the file and what to do."""
        code = _code(exc)
        if code in (_SQLITE_CORRUPT, _SQLITE_FORMAT):
            return self.damaged(str(exc))
        if code == _SQLITE_NOTADB:
            return LedgerError(
                f"{self.path}: not a landgis ledger ({exc}); give the path of the ledger "
                "file (e.g. cases.sqlite) or a new file name to start one."
            )
        if code in (_SQLITE_READONLY, _SQLITE_PERM):
            return _read_only_error(
                str(self.path),
                str(exc),
                "copy the file to a folder you can write and use that copy",
            )
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return LedgerError(
                f"{self.path}: the ledger is locked by another process ({exc}); {doing}. Try again."
            )
        if code == _SQLITE_FULL:
            return LedgerError(f"{self.path}: the disk is full ({exc}); {doing}.")
        if code == _SQLITE_CANTOPEN:
            return LedgerError(
                f"{self.path}: cannot open the ledger file ({exc}); check that the file and "
                "its folder exist and may be read."
            )
        if code == _SQLITE_IOERR:
            return LedgerError(f"{self.path}: the file cannot be read or written ({exc}); {doing}.")
        return LedgerError(f"{self.path}: {doing} ({exc}).")

    def _connect(self) -> _SQLiteConnection:
        target = self._uri if self._uri is not None else self.path
        try:
            con = sqlite3.connect(
                target,
                timeout=self.timeout,
                isolation_level=None,
                uri=self._uri is not None,
                factory=_SQLiteConnection,
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot open the ledger") from exc
        con.row_factory = sqlite3.Row
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            con.execute("PRAGMA foreign_keys = ON")
            if self._uri is None:
                con.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            con.close()
            raise self._error(exc, "cannot open the ledger") from exc
        return con

    def _check(self, con: sqlite3.Connection) -> builtins.set[str]:
        """The file is a ledger (or empty) and undamaged; returns its tables."""
        try:
            app = con.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the ledger") from exc
        if app != APPLICATION_ID and (app or tables):
            what = "a GeoPackage" if app == 0x47504B47 else "another SQLite database"
            raise LedgerError(
                f"{self.path}: is {what}, not a landgis ledger; give the ledger file "
                "(e.g. cases.sqlite) or a new file name to start one."
            )
        try:
            problems = [r[0] for r in con.execute("PRAGMA quick_check(3)")]
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the ledger") from exc
        if problems != ["ok"]:
            first = str(problems[0]).strip().splitlines()[0]
            raise self.damaged(f"database disk image is malformed: {first}")
        return tables

    def _open(self) -> None:
        """Check the file is a ledger of a version this landgis reads; create it if empty."""
        try:
            con = self._connect()
        except LedgerError as exc:
            if _cannot_write(exc.__cause__):
                raise _CannotWrite() from exc.__cause__
            raise
        try:
            self._check(con)
            mode = "WAL" if self.wal else "DELETE"
            current = con.execute("PRAGMA journal_mode").fetchone()[0]
            if current.upper() != mode:
                con.execute(f"PRAGMA journal_mode = {mode}")
            con.execute("BEGIN IMMEDIATE")
            try:
                for statement in self.schema.split(";"):
                    if statement.strip():
                        con.execute(statement)
                versions = [r[0] for r in con.execute("SELECT version FROM schema_version")]
                if not versions:
                    con.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        (SCHEMA_VERSION, _now(), _version()),
                    )
                    con.execute(
                        "INSERT INTO meta (key, value) VALUES ('created', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (_now(),),
                    )
                    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                elif max(versions) > SCHEMA_VERSION:
                    raise _too_new(str(self.path), max(versions))
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if _cannot_write(exc):
                raise _CannotWrite() from exc
            raise self._error(exc, "cannot open the ledger") from exc
        except LedgerError as exc:
            if _cannot_write(exc.__cause__):
                raise _CannotWrite() from exc.__cause__
            raise
        finally:
            con.close()

    def _open_read_only(self) -> None:
        """Open without writing anything: ``mode=ro``, or ``immutable`` where the WAL
        index cannot be created (a read-only folder)."""
        base = self.path.resolve().as_uri()
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            self._uri = base + query
            try:
                con = self._connect()
                try:
                    tables = self._check(con)
                    if "schema_version" not in tables:
                        raise LedgerError(
                            f"{self.path}: is empty, not a landgis ledger yet; start one with "
                            f"`landgis ledger update OUTDIR --ledger {self.path}`."
                        )
                    versions = [r[0] for r in con.execute("SELECT version FROM schema_version")]
                finally:
                    con.close()
            except LedgerError as exc:
                cause = exc.__cause__
                if (
                    query.endswith("ro")
                    and isinstance(cause, sqlite3.Error)
                    and _code(cause) == _SQLITE_CANTOPEN
                ):
                    continue  # a WAL file in a folder where its index cannot be made
                raise
            except sqlite3.Error as exc:
                raise self._error(exc, "cannot read the ledger") from exc
            if versions and max(versions) > SCHEMA_VERSION:
                raise _too_new(str(self.path), max(versions))
            return


# SQLite's primary result codes (https://sqlite.org/rescode.html).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_FORMAT = 24
_SQLITE_NOTADB = 26


class _CannotWrite(Exception):
    """Opening for writing failed because the file or its folder is read-only."""


def _cannot_write(exc: BaseException | None) -> bool:
    """The error of a file (or its folder, for the WAL index) that cannot be written."""
    return _code(exc) in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM)


def _code(exc: BaseException | None) -> int | None:
    """The primary SQLite result code of an error (its extended code's low byte)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


# ====================================================================== PostgreSQL


class _Row(tuple):
    """A result row read by position (``row[0]``) or by name (``row["status"]``),
    like :class:`sqlite3.Row`; ``dict(row)`` gives name → value."""

    _index: dict[str, int]

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor):
    names = [d.name for d in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}

    def make(values):
        row = _Row(values)
        row._index = index
        return row

    return make


class _PostgresConnection:
    """A psycopg connection as the ledger speaks to it: ``?`` placeholders, rows by name,
    geometry through PostGIS in the ledger's SRID."""

    kind = "postgresql"
    geometry_out = "ST_AsBinary(geometry) AS geometry"

    def __init__(self, con, store: _PostgresStore) -> None:
        self._con = con
        self._store = store
        self._srid: int | None = None

    def execute(self, sql: str, params=()):
        params = [_pg_value(v) for v in params]
        return self._con.execute(sql.replace("?", "%s"), params or None)

    @property
    def srid(self) -> int:
        if self._srid is None:
            row = self.execute("SELECT value FROM meta WHERE key = 'srid'").fetchone()
            self._srid = int(row[0]) if row else 0
        return self._srid

    @property
    def geometry_in(self) -> str:
        """SQL of a WKB parameter as a PostGIS geometry in the ledger's SRID."""
        return f"ST_GeomFromWKB(?, {self.srid})"

    def set_crs(self, crs) -> None:
        """The first round gives the ledger its CRS: the geometry column takes its SRID
        (an EPSG code PostGIS knows), so QGIS opens the cases in place."""
        srid = crs.to_epsg() or 0
        if srid:
            known = self.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = ?", (srid,))
            srid = srid if known.fetchone() else 0
        if srid:
            self.execute(
                f"ALTER TABLE cases ALTER COLUMN geometry TYPE geometry(Geometry, {srid}) "
                f"USING ST_SetSRID(geometry, {srid})"
            )
        self.execute(
            "INSERT INTO meta (key, value) VALUES ('srid', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(srid),),
        )
        self._srid = srid


def _pg_value(value):
    """Text without NUL (PostgreSQL text cannot hold it: written as U+FFFD)."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # numpy scalars
    return value


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:
        raise LedgerError(
            "a ledger on PostgreSQL needs the psycopg driver: pip install 'landgis[postgres]' "
            "(or pip install 'psycopg[binary]')."
        ) from exc
    return psycopg


class _PostgresStore:
    """A ledger in a PostgreSQL database (PostGIS for the case geometries).

    The tables live in one schema of the database (``landgis`` by default, another with
    ``?schema=NAME`` in the URL), so a database shared with other applications keeps
    them apart and one database may hold several ledgers.
    """

    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        create: bool,
        timeout: float,
        read_only: bool,
        statuses: tuple[str, ...],
    ) -> None:
        self.url = mask_url(url)
        self.location = self.url
        self.path = None
        self.timeout = float(timeout)
        self.read_only = bool(read_only)
        self._why_read_only = "opened read-only"
        self._secrets = _secrets(url)
        self.conninfo, self.db_schema = _conninfo(url)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.db_schema):
            raise LedgerError(
                f"{self.location}: schema {self.db_schema!r}: use lower-case letters, digits "
                "and _ (e.g. ?schema=ledger_2024)."
            )
        self.schema = _schema(
            statuses,
            real="DOUBLE PRECISION",
            blob="geometry(Geometry)",
            serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        self._open(create=create and not read_only)

    def mask(self, text: str) -> str:
        """``text`` with every password of the URL shown as ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def is_file(self, path: Path) -> bool:
        return False

    # ---------------------------------------------------------------- transactions

    @contextlib.contextmanager
    def write(self) -> Iterator[_PostgresConnection]:
        """One write transaction; writers queue on a lock of the ledger taken first (as
        SQLite's BEGIN IMMEDIATE), readers are never blocked; rolled back on any error."""
        if self.read_only:
            raise _read_only_error(
                self.location, self._why_read_only, "ask for a user that may write the ledger"
            )
        psycopg = _psycopg()
        raw = self._connect()
        con = _PostgresConnection(raw, self)
        try:
            try:
                con.execute("BEGIN")
                con.execute(f"SET LOCAL lock_timeout = '{int(self.timeout * 1000)}ms'")
                self._lock(con)
            except psycopg.errors.LockNotAvailable as exc:
                raise LedgerError(
                    f"{self.location}: the ledger stayed locked by another writer for "
                    f"{self.timeout:g} s; try again."
                ) from exc
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    con.execute("ROLLBACK")
                raise
        except psycopg.Error as exc:
            raise self._error(exc, "nothing was changed") from exc
        finally:
            raw.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[_PostgresConnection]:
        psycopg = _psycopg()
        raw = self._connect()
        con = _PostgresConnection(raw, self)
        try:
            con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot
            yield con
            con.execute("COMMIT")
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read the ledger") from exc
        finally:
            raw.close()

    def _lock(self, con: _PostgresConnection) -> None:
        con.execute(
            "SELECT pg_advisory_xact_lock(?, hashtext(?))", (APPLICATION_ID, self.db_schema)
        )

    def damaged(self, detail: str) -> LedgerError:
        return LedgerError(
            f"{self.location}: the ledger holds something this landgis cannot read "
            f"({self.mask(detail)}); nothing was read or changed. Restore the database from "
            "a backup (pg_dump), or enter each round's audit folder again with "
            "`landgis ledger update`."
        )

    # ---------------------------------------------------------------- connection

    def _connect(self):
        psycopg = _psycopg()
        try:
            raw = psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=max(1, int(min(self.timeout, 30))),
                application_name="landgis",
                row_factory=_row_factory,
            )
        except psycopg.Error as exc:
            raise self._cannot_connect(exc) from None
        try:
            raw.execute(f"SET search_path TO {self.db_schema}, public")
        except psycopg.Error as exc:
            raw.close()
            raise self._error(exc, "cannot open the ledger") from None
        return raw

    def _cannot_connect(self, exc) -> LedgerError:
        detail = " ".join(str(exc).split())
        target = self._server()
        hints = "that the server is running and reachable from this PC (host, port, firewall)"
        low = detail.lower()
        if "password" in low or "authentication" in low:
            hints = (
                "the user name and password (in the URL, PGPASSWORD or the pgpass file) and "
                "that pg_hba.conf lets this user in from this PC"
            )
        elif "does not exist" in low and "database" in low:
            hints = "the database name: create it with `createdb` or ask the administrator"
        elif "no pg_hba.conf entry" in low:
            hints = "pg_hba.conf on the server: it must allow this user from this PC"
        return LedgerError(
            self.mask(
                f"{self.location}: cannot connect to the PostgreSQL server {target} "
                f"({detail}); check {hints}."
            )
        )

    def _server(self) -> str:
        try:
            parts = urlsplit(self.url)
            host = parts.hostname or "localhost (local socket)"
            port = parts.port or 5432
        except ValueError:
            return "(unreadable address)"
        return f"{host}:{port}"

    def _error(self, exc, doing: str) -> LedgerError:
        """A server error as a message that names the ledger and what to do."""
        psycopg = _psycopg()
        errors = psycopg.errors
        detail = " ".join(str(exc).split())
        if isinstance(exc, errors.InsufficientPrivilege):
            return LedgerError(
                self.mask(
                    f"{self.location}: the user may not change the ledger ({detail}); "
                    f"{doing}. Ask the database administrator to GRANT it the rights, or use "
                    "a user that has them."
                )
            )
        if isinstance(exc, errors.ReadOnlySqlTransaction):
            return _read_only_error(self.location, self.mask(detail), "use the primary server")
        if isinstance(exc, errors.LockNotAvailable | errors.DeadlockDetected):
            return LedgerError(
                self.mask(f"{self.location}: the ledger is locked ({detail}); {doing}. Try again.")
            )
        if isinstance(exc, psycopg.OperationalError):
            return LedgerError(
                self.mask(
                    f"{self.location}: the connection to the server {self._server()} failed "
                    f"({detail}); {doing}. Check the network and that the server is running, "
                    "then try again."
                )
            )
        return LedgerError(self.mask(f"{self.location}: {doing} ({detail})."))

    def _open(self, *, create: bool) -> None:
        """Check the schema holds a ledger of a version this landgis reads; create it
        (and PostGIS, when the user may) if it holds nothing yet."""
        psycopg = _psycopg()
        raw = self._connect()
        con = _PostgresConnection(raw, self)
        try:
            try:
                con.execute("BEGIN")
                tables = self._tables(con)
                if "schema_version" not in tables and not create:
                    raise self._no_ledger(tables)
                if "schema_version" not in tables:
                    con.execute(f"SET LOCAL lock_timeout = '{int(self.timeout * 1000)}ms'")
                    self._lock(con)
                    self._create(con)
                versions = [r[0] for r in con.execute("SELECT version FROM schema_version")]
                if versions and max(versions) > SCHEMA_VERSION:
                    raise _too_new(self.location, max(versions))
                may_write = con.execute(
                    "SELECT has_table_privilege(?, 'UPDATE') AND has_table_privilege(?, 'INSERT')",
                    (f"{self.db_schema}.cases", f"{self.db_schema}.events"),
                ).fetchone()[0]
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    con.execute("ROLLBACK")
                raise
        except psycopg.errors.InsufficientPrivilege as exc:
            if create:
                raise LedgerError(
                    self.mask(
                        f"{self.location}: the user may not create the ledger's tables "
                        f"({' '.join(str(exc).split())}); ask the database administrator to "
                        f"create the schema {self.db_schema} for this user (CREATE SCHEMA "
                        f"{self.db_schema} AUTHORIZATION user), or start the ledger as its owner."
                    )
                ) from None
            raise self._error(exc, "cannot open the ledger") from None
        except psycopg.Error as exc:
            raise self._error(exc, "cannot open the ledger") from None
        finally:
            raw.close()
        if not self.read_only and not may_write:
            self.read_only = True
            self._why_read_only = "the user may only read the ledger's tables"

    def _tables(self, con: _PostgresConnection) -> builtins.set[str]:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            (self.db_schema,),
        )
        return {r[0] for r in rows}

    def _no_ledger(self, tables: builtins.set[str]) -> LedgerError:
        if tables:
            return LedgerError(
                f"{self.location}: the schema {self.db_schema} holds other tables, not a "
                "landgis ledger; give another schema (?schema=NAME) or database."
            )
        return LedgerError(
            f"{self.location}: no ledger in this database (schema {self.db_schema}); start one "
            f"with `landgis ledger update OUTDIR --ledger {self.location}`."
        )

    def _create(self, con: _PostgresConnection) -> None:
        tables = self._tables(con)  # again, under the lock
        if "schema_version" in tables:
            return
        if tables:
            raise self._no_ledger(tables)
        has_postgis = con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if not has_postgis.fetchone():
            available = con.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
            if not available:
                raise LedgerError(
                    f"{self.location}: PostGIS is not installed on the server {self._server()}; "
                    "install it there (Debian: apt-get install postgresql-15-postgis-3) and "
                    "run CREATE EXTENSION postgis in the database."
                )
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.db_schema}")
        for statement in self.schema.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?)", (SCHEMA_VERSION, _now(), _version())
        )
        con.execute("INSERT INTO meta (key, value) VALUES ('created', ?)", (_now(),))
        con.execute("INSERT INTO meta (key, value) VALUES ('application', 'landgis ledger')")


def _conninfo(url: str) -> tuple[str, str]:
    """The URL for libpq (without ``schema=``) and the schema of the ledger's tables."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "landgis"
    kept: list[tuple[str, Any]] = []
    for key, value in query:
        if key == "schema":
            schema = value.strip()
        else:
            kept.append((key, value))
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment)), schema
