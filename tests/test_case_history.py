"""Deadlines and case history that hold in later rounds (the ledger, 长效管护).

- a finding first found after its category's campaign deadline gets a deadline counted
  from the round that found it (CSV, map, ledger);
- a case disposed of (已处置) whose violation is found again is reopened as 反弹 and the
  progress report counts it;
- a leased-in parcel that moves between 租而无用, 租而有用 and 租而未用 keeps one case.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd

import landgis
from landgis.monitor import Ledger, progress_report
from landgis.present.csv import findings_table
from landgis.present.webmap import build_map, map_html
from tests.conftest import footprints_frame, parcels_frame, rect
from tests.test_webmap import page_data

D = dt.date


def park(*, shed: bool = True, survey: str = "2024-03-15", leased_use: float = 0.0):
    """甲 holds P1 (requisitioned, registered 20 亩 but measuring 15: area mismatch) and uses
    it whole; a shed of 甲 (30 × 40 m) outside every red line; the zone leases L1 from 村,
    used over ``leased_use`` of its width by 乙."""
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "甲", rect(0, 0, 100, 100)),
            ("L1", "leased_in", "村", rect(300, 0, 400, 100)),
        ]
    )
    parcels["registered_area_mu"] = [20.0, 15.0]
    rows = [("F1", "甲", rect(0, 0, 100, 100))]
    if shed:
        rows.append(("F2", "甲", rect(150, 0, 180, 40)))
    if leased_use:
        rows.append(("F3", "乙", rect(300, 0, 300 + 100 * leased_use, 100)))
    footprints = footprints_frame(rows)
    footprints["survey_date"] = survey
    return parcels, footprints


def test_a_2025_rounds_new_finding_gets_a_deadline_from_that_round(tmp_path):
    # Campaign deadlines: verify 2024-06-30 (area_mismatch), rectify 2024-12-31 (the shed,
    # outside_redline), plan 2024-12-31 (leased_in_unused).  Surveyed on 2025-04-01, all of
    # them have passed: verify gets 30 days → 2025-05-01; rectify 90 days → 2025-06-30
    # (April 30 + May 31 + June 29 = 90); plan 180 days → 2025-09-28
    # (30 + 31 + 30 + 31 + 31 + 27 = 180).
    parcels, footprints = park(survey="2025-04-01")
    audit = landgis.audit(parcels, footprints)
    f = audit.findings.set_index("category")
    assert str(f.loc["area_mismatch", "deadline"]) == "2025-05-01"
    assert str(f.loc["outside_redline", "deadline"]) == "2025-06-30"
    assert str(f.loc["leased_in_unused", "deadline"]) == "2025-09-28"
    assert set(f["deadline_basis"]) == {"round"}
    # The same park surveyed in 2024 keeps the campaign's deadlines.
    early = landgis.audit(*park(survey="2024-03-15")).findings.set_index("category")
    assert str(early.loc["outside_redline", "deadline"]) == "2024-12-31"
    assert set(early["deadline_basis"]) == {"campaign"}
    # Days per stage are campaign settings.
    own = landgis.audit(parcels, footprints, config={"campaign": {"days": {"rectify": 60}}})
    assert str(own.findings.set_index("category").loc["outside_redline", "deadline"]) == (
        "2025-05-31"
    )
    # Shown as such: the CSV's 时限依据 and the map's popup.
    table = findings_table(audit.findings).set_index("类别代码")
    assert table.loc["outside_redline", "时限依据"] == "自发现之日起算"
    assert findings_table(early.reset_index()).iloc[0]["时限依据"] == "工作方案时限"
    data = page_data(map_html(build_map(audit.findings, parcels=audit.parcels)))
    shown = [d for layer in data["layers"] for d in layer["props"].get("deadline", [])]
    assert "2025-06-30（自发现之日起算）" in shown
    # In the ledger: the case opened in 2025 keeps that deadline and says how it was set.
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(audit, round="2025-04", date="2025-04-01")
    cases = ledger.cases(geometry=False).set_index("category")
    assert cases.loc["outside_redline", "deadline"] == "2025-06-30"
    assert cases.loc["outside_redline", "deadline_basis"] == "round"
    report = progress_report(ledger, as_of="2025-04-15")
    assert int(report.table.iloc[-1]["overdue"]) == 0  # not overdue the day it is found
    exported = pd.read_csv(ledger.export(tmp_path / "cases.csv"), encoding="utf-8-sig")
    assert "自发现之日起算" in set(exported["时限依据"])


def test_a_case_found_in_2024_keeps_its_deadline_in_2025(tmp_path):
    # Found on 2024-03-15 (deadline 2024-12-31), still there in the 2025 survey whose audit
    # counts a fresh 2025-06-30: the case keeps 2024-12-31 and is overdue.
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(landgis.audit(*park(survey="2024-03-15")), date="2024-03-15")
    ledger.update(landgis.audit(*park(survey="2025-04-01")), date="2025-04-01")
    shed = ledger.cases(geometry=False).set_index("category").loc["outside_redline"]
    assert (shed["deadline"], shed["deadline_basis"]) == ("2024-12-31", "campaign")
    late = progress_report(ledger, as_of="2025-04-15").cases.set_index("category")
    assert late.loc["outside_redline", "overdue"]
    assert late.loc["outside_redline", "days_overdue"] == 105  # 2024-12-31 → 2025-04-15


def test_a_disposed_case_that_comes_back_is_reopened_as_a_relapse(tmp_path):
    # R1 (2024-03-15) finds the shed; the office declares it disposed (已处置, 2024-05-10);
    # R2 (2024-09-15) no longer finds it; R3 (2025-03-01) finds it again.  One case,
    # reopened (待核实) with the event 反弹; its deadline 2024-12-31 has passed, so it gets
    # 90 days from R3: 2025-03-01 + 90 = 2025-05-30 (30 + 30 + 30).
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(landgis.audit(*park()), round="R1", date="2024-03-15")
    shed = ledger.cases(geometry=False).set_index("category").loc["outside_redline", "case_id"]
    ledger.set(shed, status="已处置", note="已拆除", date="2024-05-10")
    ledger.update(landgis.audit(*park(shed=False, survey="2024-09-15")), round="R2",
                  date="2024-09-15")  # fmt: skip
    assert ledger.rounds().set_index("round").loc["R2", "resolved"] == 1
    diff = ledger.update(landgis.audit(*park(survey="2025-03-01")), round="R3", date="2025-03-01")
    assert diff.set_index("category").loc["outside_redline", "case_id"] == shed
    cases = ledger.cases(geometry=False)
    assert len(cases) == 3  # the shed, the mismatch, the leased-in parcel: no new case
    case = cases.set_index("case_id").loc[shed]
    assert (case["status"], case["status_round"], case["last_round"]) == ("待核实", "R3", "R3")
    assert (case["deadline"], case["deadline_basis"]) == ("2025-05-30", "round")
    history = ledger.history(shed)
    assert history["kind"].tolist() == ["opened", "set", "relapse"]
    relapse = history.iloc[-1]
    assert (relapse["status_from"], relapse["status_to"], relapse["round"]) == (
        "已处置", "待核实", "R3",
    )  # fmt: skip
    assert "反弹" in relapse["note"] and "2025-05-30" in relapse["note"]
    assert ledger.case_findings().set_index("case_id").loc[shed, "change"].tolist() == [
        "new",
        "relapse",
    ]
    # The progress report counts it, in R3 and in total; R2 had none.
    report = progress_report(ledger, as_of="2025-03-10")
    total = report.table.iloc[-1]
    assert (total["relapsed_round"], total["relapsed"]) == (1, 1)
    assert report.by_group.set_index("group").loc["企业组", "relapsed_round"] == 1
    assert "本轮反弹" in report.html()
    assert (
        progress_report(ledger, as_of="2025-03-10", round="R2").table.iloc[-1]["relapsed_round"]
        == 0
    )
    written = report.write(tmp_path / "progress")
    from openpyxl import load_workbook

    header = [c.value for c in load_workbook(written["progress.xlsx"])["进度汇总"][1]]
    assert "本轮反弹" in header and "反弹" in header
    # A fourth round without the shed: the reopened case awaits confirmation again.
    ledger.update(landgis.audit(*park(shed=False, survey="2025-06-01")), round="R4",
                  date="2025-06-01")  # fmt: skip
    assert ledger.cases(geometry=False).set_index("case_id").loc[shed, "status"] == "待确认销号"


def test_a_leased_in_parcel_changing_class_keeps_one_case(tmp_path):
    # L1 (100 × 100 m, leased in from 村): R1 nobody uses it and nothing is planned or
    # allocated on it → 租而无用; R2 乙 uses 40 × 100 = 40 % ≥ 10 % → 租而有用; R3 乙 left and
    # the zone planned it (a planning zone over it) → 租而未用.  One case throughout.
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(landgis.audit(*park()), round="R1", date="2024-03-15")
    ledger.update(landgis.audit(*park(leased_use=0.4, survey="2024-09-15")), round="R2",
                  date="2024-09-15")  # fmt: skip
    planning = gpd.GeoDataFrame({"zone": ["高新产业区"]}, geometry=[rect(290, -10, 410, 110)],
                                crs=4528)  # fmt: skip
    parcels, footprints = park(survey="2024-12-15")
    ledger.update(landgis.audit(parcels, footprints, planning=planning), round="R3",
                  date="2024-12-15")  # fmt: skip
    cases = ledger.cases(geometry=False)
    leased = cases[cases["parcel_id"] == "L1"]
    assert len(leased) == 1
    case = leased.iloc[0]
    assert case["category"] == "leased_in_idle" and case["category_label"] == "租而未用"
    assert case["status"] == "待核实" and case["opened_round"] == "R1"
    history = ledger.history(case["case_id"])
    assert history["kind"].tolist() == ["opened", "reclassified", "reclassified"]
    assert "租而无用 → 租而有用" in history["note"].iloc[1]
    assert "租而有用 → 租而未用" in history["note"].iloc[2]
    ids = ledger.case_findings().set_index("case_id").loc[case["case_id"]]
    assert ids["round"].tolist() == ["R1", "R2", "R3"]
    assert ids["change"].tolist() == ["new", "reclassified", "reclassified"]
    rounds = ledger.rounds().set_index("round")
    # R2's only new case is 乙's use of L1 before any lease (未租先用); nothing is gone.
    assert rounds.loc["R2", ["new", "resolved"]].tolist() == [1, 0]
    assert set(cases["category"]) == {"area_mismatch", "outside_redline", "leased_in_idle",
                                      "unleased_use"}  # fmt: skip


def test_requisitioned_land_put_to_use_resolves_its_idle_case(tmp_path):
    # 征而未用 → used: the case is not carried to another category; it awaits confirmation.
    parcels = parcels_frame([("P1", "requisitioned", "甲", rect(0, 0, 100, 100))])
    idle = footprints_frame([("F1", "甲", rect(0, 0, 10, 10))])
    used = footprints_frame([("F1", "甲", rect(0, 0, 100, 60))])
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(landgis.audit(parcels, idle), date="2024-03-15")
    ledger.update(landgis.audit(parcels, used), date="2024-09-15")
    case = ledger.cases(geometry=False).iloc[0]
    assert (case["category"], case["status"]) == ("idle_requisitioned", "待确认销号")
