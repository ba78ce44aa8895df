"""The monitoring commands: ``landgis diff``, ``landgis ledger …``, ``landgis progress``.

Thin layers over :mod:`landgis.monitor`.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from landgis.cli._common import handled
from landgis.io.columns import cell_text
from landgis.io.text_out import terminal_text
from landgis.present.webmap import BASEMAPS

__all__ = ["diff", "ledger", "progress"]

_LEDGER_HELP = (
    "The ledger: a file (SQLite), or a PostgreSQL database postgresql://user@host/db "
    "(shared by an office; password from PGPASSWORD or the pgpass file rather than the URL). "
    "Default: $LANDGIS_LEDGER, else cases.sqlite in the current folder."
)


class _LedgerTarget(click.ParamType):
    """A ledger file (a path) or a PostgreSQL URL (kept as text: a path would fold its //)."""

    name = "LEDGER"

    def convert(self, value, param, ctx):
        from landgis.monitor.store import is_server_url

        if isinstance(value, Path) or not is_server_url(value):
            path = Path(value)
            if path.is_dir():
                self.fail(f"{path}: is a folder; give the ledger file (e.g. cases.sqlite).")
            return path
        return str(value).strip()


def _ledger_option(func):
    return click.option(
        "--ledger",
        "ledger_path",
        type=_LedgerTarget(),
        envvar="LANDGIS_LEDGER",
        default=Path("cases.sqlite"),
        show_default=True,
        help=_LEDGER_HELP,
    )(func)


def _name(target) -> str:
    """The ledger as messages name it: a server's URL without its password."""
    from landgis.monitor.store import is_server_url, mask_url

    return mask_url(target) if is_server_url(target) else str(target)


def _matching_options(func):
    func = click.option(
        "--min-overlap",
        type=click.FloatRange(0, 1, min_open=True),
        default=0.3,
        show_default=True,
        metavar="R",
        help="Share of either finding that must lie within the other (grown by the "
        "tolerance) for the two to be one case.",
    )(func)
    return click.option(
        "--tolerance",
        type=click.FloatRange(min=0),
        default=1.0,
        show_default=True,
        metavar="M",
        help="Largest survey shift to absorb, in metres: findings are compared with "
        "the other round's grown by this much.",
    )(func)


def _console() -> Console:
    """Wide when piped, so tables keep whole ids and names."""
    out = Console()
    return out if out.is_terminal else Console(width=200)


def _say(text: str) -> None:
    Console().print(terminal_text(text), highlight=False, markup=False)


def _cell(value) -> str:
    """A table cell from the ledger: text, never markup or terminal controls."""
    return escape(terminal_text(cell_text(value)))


@click.command(name="diff")
@click.argument("round1", type=click.Path(exists=True, path_type=Path))
@click.argument("round2", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for diff.csv and diff.gpkg (created if missing).",
)
@_matching_options
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="CSV headers and words: Chinese or English.",
)
@click.option(
    "--basemap",
    type=click.Choice(BASEMAPS),
    default="osm",
    show_default=True,
    help="Basemap of diff.html (see `landgis map`; Tianditu takes its key from TIANDITU_KEY).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def diff(
    round1: Path,
    round2: Path,
    outdir: Path,
    tolerance: float,
    min_overlap: float,
    lang,
    basemap: str,
    quiet,
) -> None:
    """Compare two audit rounds: what is new, what persists, what was resolved.

    ROUND1 and ROUND2 are the output folders (or findings.gpkg files) of two
    `landgis audit` runs, the earlier first.  Findings are matched by category,
    holder and overlap, not by id or row order, so a survey shifted by less than
    --tolerance creates no new case.  Writes OUT/diff.csv (Chinese headers, opens
    in Excel), OUT/diff.gpkg (layer diff: new and persisting findings with
    this round's geometry, resolved ones with the earlier round's) and
    OUT/diff.html, the map of ROUND2 with layers of the new and the resolved
    findings (works offline).
    """
    from landgis.io.atomic import atomic_path
    from landgis.io.outputs import read_outputs
    from landgis.monitor.diff import diff_rounds, write_diff
    from landgis.present.webmap import build_map, map_html

    with handled():
        result = diff_rounds(round1, round2, tolerance=tolerance, min_overlap=min_overlap)
        written = write_diff(result, outdir, lang=lang)
        after = read_outputs(round2)
        page = build_map(
            after["findings"],
            parcels=after["parcels"],
            footprints=after["footprints"],
            admin=after["admin"],
            changes=result,
            title="土地资源核查处置 · 本轮变化",
            basemap=basemap,
        )
        with atomic_path(outdir / "diff.html") as tmp:
            tmp.write_text(map_html(page), encoding="utf-8")
        written["diff.html"] = outdir / "diff.html"
    if quiet:
        return
    counts = result["status"].value_counts()
    trends = result["trend"].value_counts()
    _say(
        f"新增 {counts.get('new', 0)} · 持续存在 {counts.get('persisting', 0)}"
        f"（扩大 {trends.get('grown', 0)}，缩小 {trends.get('shrunk', 0)}）"
        f" · 已消除 {counts.get('resolved', 0)}"
    )
    thin = int((result["thin"] & (result["status"] == "new")).sum())
    if thin:
        _say(f"其中 {thin} 处新增图斑狭长（宽不足 {tolerance:g} 米），可能为测量偏差，请核实。")
    for path in written.values():
        _say(f"wrote {path}")


@click.group(name="ledger")
def ledger() -> None:
    """The case ledger (案件台账): one file — or a PostgreSQL database shared by an
    office — kept from round to round.

    `ledger update` enters an audit round (persisting findings keep their case and
    everything entered by hand; resolved ones await confirmation; new ones open
    cases), `ledger set` records what people did, `ledger show` lists the cases,
    `ledger export` writes them for Excel or GIS, `ledger sheets` writes the
    streets' return sheets (街道核查反馈表) and `ledger import` reads them back.
    """


@ledger.command(name="update")
@click.argument("outdir", type=click.Path(exists=True, path_type=Path))
@_ledger_option
@click.option(
    "--round",
    "round_name",
    metavar="NAME",
    help="Name of the round, e.g. 2024-09 (default R1, R2 …); each name is used once.",
)
@click.option(
    "--date",
    metavar="YYYY-MM-DD",
    help="Date of the survey (default: the day the audit was written).",
)
@_matching_options
@click.option(
    "--skip-thin",
    is_flag=True,
    help="Open no case for new findings narrower than --tolerance (survey-shift slivers).",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Campaign file whose [campaign.days] give a case opened (or reopened as 反弹) after "
    "its campaign deadline a deadline counted from this round (default: the audit's).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def ledger_update(
    outdir: Path,
    ledger_path: Path | str,
    round_name,
    date,
    tolerance,
    min_overlap,
    skip_thin,
    config,
    quiet,
) -> None:
    """Enter the audit in OUTDIR (a `landgis audit` output folder) as a new round.

    Creates the ledger file on the first round.  A case disposed of or closed
    whose violation is found again is reopened (反弹); a leased-in parcel that
    moves between 租而未用, 租而有用 and 租而无用 keeps its case.
    """
    from landgis.monitor.ledger import Ledger

    with handled():
        book = Ledger(ledger_path)
        result = book.update(
            outdir,
            round=round_name,
            date=date,
            tolerance=tolerance,
            min_overlap=min_overlap,
            skip_thin=skip_thin,
            campaign=config,
        )
        latest = book.rounds().iloc[-1]
        events = book.history()
        events = events[events["round"] == latest["round"]]
    if not quiet:
        counts = result["status"].value_counts()
        relapses = int((events["kind"] == "relapse").sum())
        moved = int((events["kind"] == "reclassified").sum())
        _say(
            f"{_name(ledger_path)}: round {latest['round']} ({latest['date']}): "
            f"新立案 {counts.get('new', 0)} · 持续 {counts.get('persisting', 0)} · "
            f"待确认销号 {counts.get('resolved', 0)}"
            + (f" · 反弹 {relapses}" if relapses else "")
            + (f" · 类别变更 {moved}" if moved else "")
        )


@ledger.command(name="show")
@_ledger_option
@click.option("--case", "case_id", metavar="CASE", help="Show one case and its history.")
@click.option(
    "--status",
    multiple=True,
    metavar="STATUS",
    help="Only cases with this status (Chinese or code; repeatable).",
)
@click.option("--street", metavar="NAME", help="Only this street's cases.")
@click.option("--group", metavar="NAME", help="Only this working group's cases.")
def ledger_show(ledger_path: Path | str, case_id, status, street, group) -> None:
    """List the cases of the ledger (or one case with --case)."""
    from landgis.monitor.ledger import EVENT_KINDS_ZH, LEDGER_HEADERS_ZH, Ledger, LedgerError

    with handled():
        book = Ledger(ledger_path, create=False, read_only=True)
        cases = book.cases(status=list(status) or None, street=street, group=group, geometry=False)
        if case_id is not None:
            one = cases[cases["case_id"] == case_id]
            if not len(one):
                raise LedgerError(f"{book.location}: no case {case_id!r}.")
            history = book.history(case_id)
    out = _console()
    if case_id is not None:
        row = one.iloc[0]
        for key, label in LEDGER_HEADERS_ZH.items():
            value = row[key]
            if isinstance(value, bool):
                value = "是" if value else ""
            if value is None or value == "" or (isinstance(value, float) and value != value):
                continue
            out.print(f"[bold]{escape(label)}[/]: {_cell(value)}", highlight=False)
        table = Table(title="处置记录", title_justify="left")
        for name in ("日期", "轮次", "事项", "状态", "责任人", "备注"):
            table.add_column(name)
        for ev in history.itertuples():
            change = (
                f"{cell_text(ev.status_from)} → {ev.status_to}" if cell_text(ev.status_to) else ""
            )
            kind = EVENT_KINDS_ZH.get(ev.kind, ev.kind)
            cells = (ev.date, ev.round, kind, change, ev.person, ev.note)
            table.add_row(*(_cell(v) for v in cells))
        out.print(table)
        return
    table = Table(title=_cell(f"{_name(ledger_path)} — {len(cases)} 件"), title_justify="left")
    justify: JustifyMethod  # rich types the column alignments as literals
    for name, justify in (
        ("案件编号", "left"),
        ("状态", "left"),
        ("问题类别", "left"),
        ("权利人/使用人", "left"),
        ("街道", "left"),
        ("责任工作组", "left"),
        ("面积（亩）", "right"),
        ("完成时限", "left"),
        ("责任人", "left"),
        ("最近发现", "left"),
    ):
        table.add_column(name, justify=justify)
    for row in cases.itertuples():
        area = "" if row.area_mu != row.area_mu else f"{row.area_mu:,.2f}"
        table.add_row(
            *(
                _cell(v)
                for v in (
                    row.case_id,
                    row.status,
                    row.category_label,
                    row.holder,
                    row.street,
                    row.group,
                    area,
                    row.deadline,
                    row.person,
                    row.last_round,
                )
            )
        )
    out.print(table)


@ledger.command(name="set")
@click.argument("case_ids", metavar="CASE...", nargs=-1, required=True)
@_ledger_option
@click.option(
    "--status",
    metavar="STATUS",
    help="待核实, 整改中, 移交司法, 待确认销号, 已处置, 已销号, 不予认定 (or the codes "
    "to_verify, rectifying, judicial, awaiting_confirmation, disposed, closed, dismissed).",
)
@click.option("--person", metavar="NAME", help="The responsible person (责任人).")
@click.option("--note", metavar="TEXT", help="Appended to the case's notes with the date.")
@click.option("--deadline", metavar="YYYY-MM-DD", help="The case's own deadline (限期).")
@click.option("--recovered", type=float, metavar="YUAN", help="Amount recovered so far.")
@click.option("--date", metavar="YYYY-MM-DD", help="Date of the action (default today).")
@click.option("--by", metavar="NAME", help="Who enters it (default: the login name).")
def ledger_set(
    case_ids, ledger_path: Path | str, status, person, note, deadline, recovered, date, by
) -> None:
    """Record the status, responsible person, a note, a deadline or an amount of CASEs."""
    from landgis.monitor.ledger import Ledger

    if all(v is None for v in (status, person, note, deadline, recovered)):
        raise click.UsageError(
            "nothing to set: give --status, --person, --note, --deadline or --recovered."
        )
    with handled():
        book = Ledger(ledger_path, create=False)
        for case_id in case_ids:
            book.set(
                case_id,
                status=status,
                person=person,
                note=note,
                deadline=deadline,
                amount_recovered=recovered,
                date=date,
                by=by,
            )
    _say(f"{_name(ledger_path)}: updated {', '.join(case_ids)}")


@ledger.command(name="export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_ledger_option
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Headers: Chinese or column codes.",
)
def ledger_export(target: Path, ledger_path: Path | str, lang: str) -> None:
    """Write the ledger to TARGET: .xlsx (cases, history, ids per round, rounds),
    .csv (the cases, for Excel) or .gpkg (the cases with geometry, for GIS)."""
    from landgis.monitor.ledger import Ledger

    with handled():
        written = Ledger(ledger_path, create=False, read_only=True).export(target, lang=lang)
    _say(f"wrote {written}")


@ledger.command(name="sheets")
@_ledger_option
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the workbooks (created if missing).",
)
@click.option("--street", metavar="NAME", help="Only this street's sheet.")
@click.option("--title", default="土地资源核查处置", show_default=True, help="Campaign name.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def ledger_sheets(ledger_path, outdir: Path, street, title, quiet) -> None:
    """Write the return sheets (街道核查反馈表): one workbook per street.

    OUT/核查反馈表-<street>.xlsx lists the street's open cases (待核实, 整改中,
    移交司法) and those awaiting its confirmation (待确认销号), locked, with the
    columns the street fills in: 核查结果, 处置状态 (drop-down lists), 责任人, 处置说明,
    完成日期.  Send each to its street; read the returned ones with `ledger import`.
    """
    from landgis.monitor.ledger import Ledger

    with handled():
        written = Ledger(ledger_path, create=False, read_only=True).write_sheets(
            outdir, street=street, title=title
        )
    if not quiet:
        for name, path in written.items():
            _say(f"wrote {path} ({name})")


@ledger.command(name="import")
@click.argument(
    "files", metavar="FILE...", nargs=-1, required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)  # fmt: skip
@_ledger_option
@click.option("--by", metavar="NAME", help="Who imports (default: the login name).")
@click.option(
    "--date",
    metavar="YYYY-MM-DD",
    help="Date of the rows without 完成日期 (default today).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only what was not imported.")
def ledger_import(files, ledger_path, by, date, quiet) -> None:
    """Read returned sheets (街道核查反馈表) into the ledger.

    Each filled-in row that changes something becomes a dated event of its case
    (status, person, a note with 核查结果 and 处置说明; the file, row and who
    imported it).  Unknown case numbers, invalid values and dates, and edits of
    cases that changed in the ledger since the sheet was written (conflicts) are
    listed with file, row and column and not applied; the exit code is then 2.
    Each file is one transaction; importing a file again changes nothing.
    """
    from landgis.monitor.ledger import Ledger

    with handled():
        book = Ledger(ledger_path, create=False)
        report = book.import_sheets(list(files), by=by, date=date)
    if not quiet or report.problems:
        _say(
            f"{book.location}: 已导入 {len(report.applied)} 行 · 无变化 {report.unchanged} 行 · "
            f"未导入 {len(report.problems)} 处（{len(report.files)} 个文件）"
        )
    if report.problems:
        table = Table(title="未导入（请核对后重新填写或用 ledger set 登记）", title_justify="left")
        for name in ("文件", "行", "列", "内容", "问题"):
            table.add_column(name)
        for p in report.problems:
            cells = (p.file, "" if p.row is None else p.row, p.column, p.value, p.message)
            table.add_row(*(_cell(v) for v in cells))
        _console().print(table)
        raise SystemExit(2)


@click.command(name="progress")
@_ledger_option
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for progress.html and progress.xlsx (created if missing).",
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help="Day the deadlines are judged on (default today).",
)
@click.option(
    "--round",
    "round_name",
    metavar="NAME",
    help="Round whose disposals count as 本轮处置 (default the latest).",
)
@click.option("--title", default="土地资源核查处置 督查考评", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def progress(ledger_path: Path | str, outdir: Path, as_of, round_name, title, quiet) -> None:
    """Progress per working group and street (督查考评): open, overdue, disposed.

    Writes OUT/progress.html (charts and tables; opens offline) and
    OUT/progress.xlsx (Chinese headers, overdue rows in red).
    """
    from landgis.monitor.progress import progress_report

    with handled():
        report = progress_report(ledger_path, as_of=as_of, round=round_name, title=title)
        written = report.write(outdir)
    if quiet:
        return
    total = report.table.iloc[-1]
    _say(
        f"截至 {report.as_of}: 案件 {total['cases']} · 未办结 {total['open']} · "
        f"逾期 {total['overdue']} · 待确认销号 {total['pending']} · "
        f"本轮处置 {total['disposed_round']} · 已办结 {total['closed']} · "
        f"本轮反弹 {total['relapsed_round']}（累计 {total['relapsed']}）"
    )
    for path in written.values():
        _say(f"wrote {path}")
