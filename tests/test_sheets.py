"""Return sheets (街道核查反馈表): written per street, filled in, read back into the ledger.

Every test runs on both backends (an SQLite file and the PostgreSQL test server, see
``ledger_target`` in tests/conftest.py).  The sheets are checked without a browser or
Excel: openpyxl reads back their validation lists, protection and hidden stamps.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from landgis.cli import main
from landgis.monitor import Ledger, LedgerError, progress_report
from landgis.monitor.sheets import INPUT_COLUMNS, RESULTS, SHEET_COLUMNS
from tests.test_monitor import _expected, findings, sample_round

EAST, JING = "城东街道", "京泰路街道"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ledger(ledger_target) -> Ledger:
    book = Ledger(ledger_target)
    book.update(findings(1), date="2024-03-15")
    return book


def _columns(ws) -> tuple[int, dict[str, int]]:
    for r in range(1, 6):
        texts = [c.value for c in ws[r]]
        if "案件编号" in texts:
            return r, {t: j + 1 for j, t in enumerate(texts) if t}
    raise AssertionError("no header")


def fill(
    path: Path, edits: dict[str, dict[str, object]], *, renumber: dict[str, str] | None = None
):
    """Fill in a sheet as a street would: header → value per case; ``renumber`` overwrites
    a case number (a clerk typing over the locked cell)."""
    wb = load_workbook(path)
    ws = wb["核查反馈表"]
    header, cols = _columns(ws)
    rows = {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1)}
    for case_id, values in edits.items():
        for name, value in values.items():
            ws.cell(rows[case_id], cols[name]).value = value
    for old, new in (renumber or {}).items():
        ws.cell(rows[old], 1).value = new
    wb.save(path)
    return {case: rows[case] for case in [*edits, *(renumber or {})]}


def test_sheets_have_their_lists_protection_and_stamps(ledger, tmp_path):
    written = ledger.write_sheets(tmp_path / "sheets")
    assert sorted(written) == sorted([EAST, JING])
    assert written[EAST].name == "核查反馈表-城东街道.xlsx"
    cases = ledger.cases(geometry=False).set_index("case_id")
    history = ledger.history()
    for street, path in written.items():
        wb = load_workbook(path)
        assert wb.sheetnames == ["核查反馈表", "landgis", "landgis_meta"]
        assert [wb[s].sheet_state for s in wb.sheetnames] == ["visible", "veryHidden", "veryHidden"]
        ws = wb["核查反馈表"]
        header, cols = _columns(ws)
        assert list(cols) == [*SHEET_COLUMNS, *INPUT_COLUMNS]
        assert street in ws["A1"].value
        ids = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
        mine = cases[cases["street"] == street]
        assert sorted(ids) == sorted(mine.index)  # every open case of the street, once
        # protection: the sheet is protected, the case columns locked, the inputs open
        assert ws.protection.sheet and wb["landgis"].protection.sheet
        for r in range(header + 1, ws.max_row + 1):
            for name, j in cols.items():
                locked = ws.cell(r, j).protection.locked
                assert locked == (name not in INPUT_COLUMNS), (name, r)
        # data validation: lists on the choice columns, a date check on 完成日期
        first, last = header + 1, ws.max_row
        rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}

        def rule(name, ws=ws, cols=cols, rules=rules, first=first, last=last):
            letter = ws.cell(1, cols[name]).column_letter
            return rules[f"{letter}{first}:{letter}{last}"]

        assert rule("核查结果").type == "list"
        assert rule("核查结果").formula1 == '"' + ",".join(RESULTS) + '"'
        statuses = rule("处置状态").formula1.strip('"').split(",")
        assert statuses == [
            "待核实",
            "整改中",
            "移交司法",
            "待确认销号",
            "已处置",
            "已销号",
            "不予认定",
        ]
        assert rule("处置状态").showErrorMessage and rule("处置状态").type == "list"
        assert rule("完成日期").type == "date" and rule("完成日期").showErrorMessage
        # numbers are numbers, the deadline a date, no formula anywhere
        row = [c.value for c in ws[first]]
        assert isinstance(row[cols["面积（亩）"] - 1], int | float)
        assert isinstance(row[cols["完成时限"] - 1], dt.datetime)
        assert not any(
            isinstance(c.value, str) and c.data_type == "f" for line in ws.iter_rows() for c in line
        )
        # the hidden stamps: each case's latest event when the sheet was written
        stamps = {
            c: s for c, s in wb["landgis"].iter_rows(min_row=2, values_only=True) if c is not None
        }
        latest = history.groupby("case_id")["id"].max()
        assert stamps == {c: int(latest[c]) for c in ids}


def test_one_street_and_unknown_streets(ledger, tmp_path):
    assert list(ledger.write_sheets(tmp_path, street=JING)) == [JING]
    with pytest.raises(LedgerError, match="no open case in the street '西城街道'"):
        ledger.write_sheets(tmp_path, street="西城街道")


def test_two_streets_return_their_sheets(ledger, tmp_path):
    """Statuses, notes, a wrong case number, invalid dates and a status, a conflicting edit:
    exactly the valid edits are applied, the rest reported; importing again changes nothing."""
    written = ledger.write_sheets(tmp_path / "sheets")
    cases = ledger.cases(geometry=False)
    east = cases.loc[cases["street"] == EAST, "case_id"].tolist()
    jing = cases.loc[cases["street"] == JING, "case_id"].tolist()
    # after the sheets went out, the office records something on one of 城东's cases
    ledger.set(east[3], note="办公室已电话督办", by="office", date="2024-04-20")
    east_rows = fill(
        written[EAST],
        {
            east[0]: {
                "核查结果": "属实",
                "处置状态": "整改中",
                "责任人": "张三",
                "处置说明": "已下达整改通知书",
                "完成日期": dt.datetime(2024, 4, 10),
            },
            east[1]: {"核查结果": "不属实", "处置状态": "不予认定", "完成日期": "2024/4/12"},
            east[2]: {"处置状态": "已处置", "完成日期": "2024-02-30"},  # no such day
            east[3]: {"处置状态": "已处置", "处置说明": "已拆除"},  # changed meanwhile
            east[4]: {"处置状态": "完成了"},  # not a status
            east[5]: {"核查结果": "属实", "完成日期": "4月10日"},  # which year?
        },
    )
    jing_rows = fill(
        written[JING],
        {
            jing[0]: {"处置状态": "disposed", "责任人": "李四", "完成日期": "2024年4月15日"},
            jing[1]: {"核查结果": "部分属实", "处置说明": "部分已整改"},
            jing[2]: {"处置状态": "整改中"},
        },
        renumber={jing[2]: "2024-9999"},
    )
    report = ledger.import_sheets(
        [written[EAST], written[JING]], by="综合组小王", date="2024-04-30"
    )

    applied = {(a["file"], a["case_id"]) for a in report.applied}
    assert applied == {
        (written[EAST].name, east[0]),
        (written[EAST].name, east[1]),
        (written[JING].name, jing[0]),
        (written[JING].name, jing[1]),
    }
    problems = {(p.file, p.row, p.column, p.kind) for p in report.problems}
    e, j = written[EAST].name, written[JING].name
    assert problems == {
        (e, east_rows[east[2]], "完成日期", "invalid"),
        (e, east_rows[east[3]], "处置状态", "conflict"),
        (e, east_rows[east[3]], "处置说明", "conflict"),
        (e, east_rows[east[4]], "处置状态", "invalid"),
        (e, east_rows[east[5]], "完成日期", "invalid"),
        (j, jing_rows[jing[2]], "案件编号", "unknown_case"),
    }
    assert "2024-9999" in str(report) and "冲突" in str(report)

    after = ledger.cases(geometry=False).set_index("case_id")
    one = after.loc[east[0]]
    assert (one["status"], one["person"], one["status_changed"]) == ("整改中", "张三", "2024-04-10")
    assert one["notes"] == f"2024-04-10：【{EAST}反馈】核查结果：属实；已下达整改通知书"
    two = after.loc[east[1]]
    assert (two["status"], two["closed"]) == ("不予认定", "2024-04-12")
    assert after.loc[jing[0], ["status", "person", "closed"]].tolist() == [
        "已处置",
        "李四",
        "2024-04-15",
    ]
    assert after.loc[jing[1], "status"] == "待核实"
    assert (
        after.loc[jing[1], "notes"] == f"2024-04-30：【{JING}反馈】核查结果：部分属实；部分已整改"
    )
    # nothing else changed: the refused rows' cases are as they were
    for case in (east[2], east[4], east[5], jing[2]):
        assert after.loc[case, "status"] == "待核实" and after.loc[case, "notes"] == ""
    assert after.loc[east[3], "status"] == "待核实"
    assert after.loc[east[3], "notes"] == "2024-04-20：办公室已电话督办"

    events = ledger.history()
    sheet = events[events["kind"] == "sheet"].set_index("case_id")
    assert sorted(sheet.index) == sorted([east[0], east[1], jing[0], jing[1]])
    assert set(sheet["by"]) == {"综合组小王"}
    assert sheet.loc[east[0], "note"].startswith(f"{e} 第 {east_rows[east[0]]} 行：")
    assert "处置状态 待核实 → 整改中" in sheet.loc[east[0], "note"]
    assert "责任人 （空） → 张三" in sheet.loc[east[0], "note"]
    assert sheet.loc[jing[0], ["date", "status_from", "status_to"]].tolist() == [
        "2024-04-15",
        "待核实",
        "已处置",
    ]

    # the same files again: nothing changes, the same problems are listed
    cases_before, history_before = ledger.cases(geometry=False), ledger.history()
    again = ledger.import_sheets([written[EAST], written[JING]], by="综合组小王")
    assert again.applied == [] and again.unchanged == 4
    assert {(p.file, p.row, p.column, p.kind) for p in again.problems} == problems
    pd.testing.assert_frame_equal(ledger.cases(geometry=False), cases_before)
    pd.testing.assert_frame_equal(ledger.history(), history_before)

    # the progress report counts what the ledger holds
    report = progress_report(ledger, as_of="2024-07-01")
    latest = ledger.rounds()["round"].iloc[-1]
    expected = _expected(ledger.cases(geometry=False), dt.date(2024, 7, 1), latest, latest)
    got = report.table.iloc[:-1].set_index(["group", "street"]).sort_index()
    pd.testing.assert_frame_equal(
        got[expected.columns], expected.sort_index(), check_dtype=False, atol=1e-4
    )
    total = report.table.iloc[-1]
    assert total["closed"] == 2 and total["disposed_round"] == 1  # 不予认定 is no disposal


def test_a_failed_import_changes_nothing(ledger, tmp_path, monkeypatch):
    """One transaction per file: an error half-way leaves the ledger as it was."""
    import landgis.monitor.ledger as module

    path = ledger.write_sheets(tmp_path, street=EAST)[EAST]
    cases = ledger.cases(geometry=False)
    east = cases.loc[cases["street"] == EAST, "case_id"].tolist()
    fill(path, {east[0]: {"处置状态": "整改中"}, east[1]: {"处置状态": "已处置"}})
    before, history = ledger.cases(geometry=False), ledger.history()
    calls = []
    original = module._event

    def boom(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("network cable pulled")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "_event", boom)
    with pytest.raises(RuntimeError):
        ledger.import_sheets(path)
    pd.testing.assert_frame_equal(ledger.cases(geometry=False), before)
    pd.testing.assert_frame_equal(ledger.history(), history)
    monkeypatch.setattr(module, "_event", original)
    assert len(ledger.import_sheets(path).applied) == 2


def test_what_is_not_a_return_sheet(ledger, tmp_path):
    other = ledger.export(tmp_path / "cases.xlsx")
    with pytest.raises(LedgerError, match="not a return sheet"):
        ledger.import_sheets(other)
    text = tmp_path / "sheet.xlsx"
    text.write_text("no zip")
    with pytest.raises(LedgerError, match="cannot be read as an Excel workbook"):
        ledger.import_sheets(text)


def test_the_print_list_carries_the_case_numbers(ledger, tmp_path):
    audit = sample_round(1)
    book_cases = ledger.case_numbers()
    kit = audit.write_fieldkit(tmp_path / "kit", ledger=ledger)
    page = kit[f"{EAST}.html"].read_text(encoding="utf-8")
    sheet = ledger.write_sheets(tmp_path / "sheets", street=EAST)[EAST]
    ws = load_workbook(sheet)["核查反馈表"]
    header, _ = _columns(ws)
    numbers = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
    assert "<th>案件编号</th>" in page
    for number in numbers:
        assert number in page
    assert set(numbers) <= set(book_cases.values())


# ---------------------------------------------------------------------- the commands


def _run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return " ".join(result.output.split())  # lines wrapped at the terminal's width, joined


def test_cli_sheets_and_import(ledger_target, tmp_path):
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), date="2024-03-15")
    _run("ledger", "sheets", "--ledger", ledger_target, "-o", tmp_path / "sheets")
    assert sorted(p.name for p in (tmp_path / "sheets").iterdir()) == [
        "核查反馈表-京泰路街道.xlsx",
        "核查反馈表-城东街道.xlsx",
    ]
    sheet = tmp_path / "sheets" / "核查反馈表-城东街道.xlsx"
    cases = ledger.cases(geometry=False)
    east = cases.loc[cases["street"] == EAST, "case_id"].tolist()
    fill(sheet, {east[0]: {"处置状态": "整改中"}, east[1]: {"完成日期": "yesterday"}})
    out = _run("ledger", "import", sheet, "--ledger", ledger_target, "--by", "小王", code=2)
    assert "已导入 1 行" in out and "未导入 1 处" in out and "完成日期" in out
    assert "yesterday" in out
    out = _run("ledger", "import", sheet, "--ledger", ledger_target, code=2)
    assert "已导入 0 行" in out and "无变化 1 行" in out
    fill(sheet, {east[1]: {"完成日期": None}})  # corrected: nothing left to import
    assert _run("ledger", "import", sheet, "--ledger", ledger_target, "-q") == ""
    history = Ledger(ledger_target).history()
    assert (history["kind"] == "sheet").sum() == 1
    assert history.loc[history["kind"] == "sheet", "by"].tolist() == ["小王"]


# ---------------------------------------------------------------------- several clerks

_IMPORTER = textwrap.dedent(
    """
    import json, sys
    from landgis.monitor.ledger import Ledger
    report = Ledger(sys.argv[1], create=False).import_sheets(sys.argv[2:], by="streets")
    print(json.dumps({"applied": [[a["file"], a["row"], a["case_id"]] for a in report.applied],
                      "problems": [[p.file, p.row, p.column, p.kind] for p in report.problems]}))
    """
)
_SETTER = textwrap.dedent(
    """
    import sys, time
    from landgis.monitor.ledger import Ledger
    target, n = sys.argv[1], int(sys.argv[2])
    ledger = Ledger(target, create=False)
    ids = ledger.cases(geometry=False)["case_id"].tolist()
    for i in range(n):
        ledger.set(ids[i % len(ids)], note=f"office-{i}", status="整改中", by="office")
        time.sleep(0.01)
    """
)


def test_importing_while_another_clerk_sets(ledger_target, tmp_path):
    """Two processes: one imports two streets' sheets, one records entries
    (``Ledger.set``) on the same cases.  Every sheet row is either applied once or
    reported as a conflict, no entry is lost, and the ledger stays consistent."""
    ledger = Ledger(ledger_target)
    ledger.update(findings(1), date="2024-03-15")
    written = ledger.write_sheets(tmp_path / "sheets")
    cases = ledger.cases(geometry=False)
    edited = {}
    for street, path in written.items():
        ids = cases.loc[cases["street"] == street, "case_id"].tolist()
        edits = {c: {"处置状态": "已处置", "处置说明": f"{street}-{c}"} for c in ids}
        edited.update({c: path.name for c in ids})
        fill(path, edits)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    n = 40
    setter = subprocess.Popen(
        [sys.executable, "-c", _SETTER, str(ledger_target), str(n)],
        env=env,
        stderr=subprocess.PIPE,
    )
    importer = subprocess.run(
        [sys.executable, "-c", _IMPORTER, str(ledger_target), *map(str, written.values())],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    _, err = setter.communicate(timeout=300)
    assert setter.returncode == 0, err.decode()
    assert importer.returncode == 0, importer.stderr
    report = json.loads(importer.stdout)

    after = Ledger(ledger_target)
    history = after.history()
    sets = history[history["kind"] == "set"]
    assert sorted(sets["note"]) == sorted(f"office-{i}" for i in range(n))  # none lost
    sheet_events = history[history["kind"] == "sheet"]
    applied = set(sheet_events["case_id"])
    assert len(sheet_events) == len(applied)  # each row applied at most once
    assert applied == {case for _, _, case in report["applied"]}
    conflicts = {(f, r) for f, r, _, kind in report["problems"] if kind == "conflict"}
    assert {kind for *_, kind in report["problems"]} <= {"conflict"}
    # every edited row was applied, or reported as a conflict (file and row), never both
    assert len(applied) + len(conflicts) == len(edited)
    assert not {(f, r) for f, r, _ in report["applied"]} & conflicts
    current = after.cases(geometry=False).set_index("case_id")
    for case_id, events in history.groupby("case_id"):
        changes = events.dropna(subset=["status_to"])
        assert current.loc[case_id, "status"] == changes["status_to"].iloc[-1]
        office = [x for x in current.loc[case_id, "notes"].splitlines() if "office-" in x]
        assert len(office) == (events["kind"] == "set").sum()
    for case_id in applied:
        assert (
            f"【{cases.set_index('case_id').loc[case_id, 'street']}反馈】"
            in (current.loc[case_id, "notes"])
        )
    # importing again applies nothing more
    again = after.import_sheets(list(written.values()))
    assert again.applied == []
