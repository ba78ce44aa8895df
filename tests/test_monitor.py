"""Rounds compared (landgis.monitor.diff), the progress report and the monitoring commands.

The rounds are the sample park (data/boundaries/README.md) surveyed again:

- round 2: TB004 (绿源's shed outside every red line) and TB005 (宏远's yard,
  use before lease) removed; 华达's TB001 grown from 0–120 to 0–140 (over-use
  2 000 → 4 000 m²); 嘉禾's TB011 grown from −80 to −60 (outside 2 000 →
  4 000 m²); 金鼎's TB006 grown to 300–350 × 0–60 (3 000 m², no longer idle);
  new: TB012 of 新兴 at 220–260 × 120–160 and TB013 of 瑞丰 at 500–540 ×
  250–270, both outside every red line.  Every layer is shifted by 0.3 m east
  and 0.3 m north (a survey shift), so no finding keeps its id.
- round 3 (from round 2, shifted 0.3 m further): 绿源's TB003 shrunk to its red
  line (over-use gone), TB004 back, 嘉禾's TB011 shrunk to −200–−90.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import landgis
from landgis.cli.monitor import diff as diff_command
from landgis.cli.monitor import ledger as ledger_command
from landgis.cli.monitor import progress as progress_command
from landgis.errors import CRSError, SchemaError
from landgis.monitor import Ledger, diff_rounds, diff_table, progress_report, write_diff
from tests.conftest import LEDGER_BACKENDS, LedgerPlaces
from tests.test_webmap import page_data

X0, Y0 = 40_492_000.0, 3_596_000.0
SHIFT = 0.3


def rect(x1, y1, x2, y2):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


@functools.cache
def _layers():
    return (
        landgis.read_parcels(landgis.get_path("parcels")),
        landgis.read_footprints(landgis.get_path("footprints")),
        landgis.read_planning(landgis.get_path("planning")),
        landgis.read_admin(landgis.get_path("admin")),
    )


def _footprints(n: int) -> gpd.GeoDataFrame:
    fp = _layers()[1].set_index("footprint_id")
    if n == 1:
        return fp.reset_index()
    fp = fp.drop(["TB004", "TB005"])
    fp.loc["TB001", "geometry"] = rect(0, 0, 140, 100)
    fp.loc["TB011", "geometry"] = rect(-200, 150, -60, 250)
    fp.loc["TB006", "geometry"] = rect(300, 0, 350, 60)
    extra = fp.loc[["TB009", "TB009"]].copy()
    extra.index = pd.Index(["TB012", "TB013"], name="footprint_id")
    extra["user"] = ["泰州新兴建材有限公司", "泰州瑞丰纺织有限公司"]
    extra["geometry"] = [rect(220, 120, 260, 160), rect(500, 250, 540, 270)]
    fp = pd.concat([fp, extra])
    if n == 3:
        fp.loc["TB003", "geometry"] = rect(0, 120, 100, 220)
        fp.loc["TB011", "geometry"] = rect(-200, 150, -90, 250)
        fp = pd.concat([fp, _layers()[1].set_index("footprint_id").loc[["TB004"]]])
    return gpd.GeoDataFrame(fp.reset_index(), geometry="geometry", crs=_layers()[1].crs)


@functools.cache
def sample_round(n: int) -> landgis.Audit:
    """The audit of round ``n`` (1, 2, 3) of the sample park; see the module docstring."""
    parcels, _, planning, admin = _layers()
    shift = SHIFT * (n - 1)
    layers = []
    for frame in (parcels, _footprints(n), planning, admin):
        frame = frame.copy()
        frame.geometry = frame.geometry.translate(shift, shift)
        layers.append(frame)
    return landgis.audit(layers[0], layers[1], planning=layers[2], admin=layers[3])


def findings(n: int) -> gpd.GeoDataFrame:
    return sample_round(n).findings.copy()


def _by(diff, status):
    return diff[diff["status"] == status]


# ---------------------------------------------------------------------- diff


def test_second_round_new_persisting_resolved_despite_the_shift():
    r1, r2 = findings(1), findings(2)
    assert not set(r1["finding_id"]) & set(r2["finding_id"])  # the shift changed every id
    d = diff_rounds(r1, r2)
    assert d["status"].value_counts().to_dict() == {"persisting": 11, "resolved": 3, "new": 2}
    assert set(zip(_by(d, "new")["category"], _by(d, "new")["holder"], strict=True)) == {
        ("outside_redline", "泰州新兴建材有限公司"),
        ("outside_redline", "泰州瑞丰纺织有限公司"),
    }
    assert sorted(_by(d, "new")["new_area_m2"].round(6)) == [800.0, 1600.0]
    assert set(zip(_by(d, "resolved")["category"], _by(d, "resolved")["holder"], strict=True)) == {
        ("unleased_use", "泰州宏远物流有限公司"),
        ("outside_redline", "泰州绿源食品有限公司"),
        ("idle_requisitioned", "泰州金鼎化工有限公司"),
    }
    grown = _by(d, "persisting").set_index("holder")
    assert set(grown.index[grown["trend"] == "grown"]) == {
        "泰州华达精密机械有限公司",
        "泰州嘉禾农业发展有限公司",
    }
    hua = grown.loc["泰州华达精密机械有限公司"]
    assert hua["old_area_m2"] == pytest.approx(2000) and hua["new_area_m2"] == pytest.approx(4000)
    assert hua["area_change_m2"] == pytest.approx(2000)
    assert hua["area_change_mu"] == pytest.approx(3)
    assert hua["old_id"] in set(r1["finding_id"]) and hua["new_id"] in set(r2["finding_id"])
    others = _by(d, "persisting")[_by(d, "persisting")["trend"] != "grown"]
    assert (others["trend"] == "unchanged").all()
    assert np.allclose(others["area_change_m2"], 0, atol=1e-6)
    assert np.allclose(others["overlap"], 1.0)
    # every finding of both rounds is accounted for exactly once
    assert sorted(";".join(d["old_id"]).replace(";;", ";").strip(";").split(";")) == sorted(
        r1["finding_id"]
    )
    assert sorted(i for s in d["new_id"] for i in s.split(";") if i) == sorted(r2["finding_id"])
    assert not d["thin"].any()


def test_the_shift_alone_changes_nothing():
    """All layers 0.3 m off, nothing else: every finding persists, none is new."""
    parcels, footprints, planning, admin = _layers()
    moved = []
    for frame in (parcels, footprints, planning, admin):
        frame = frame.copy()
        frame.geometry = frame.geometry.translate(SHIFT, -SHIFT)
        moved.append(frame)
    again = landgis.audit(moved[0], moved[1], planning=moved[2], admin=moved[3])
    d = diff_rounds(findings(1), again.findings)
    assert (d["status"] == "persisting").all() and len(d) == len(findings(1))
    assert (d["trend"] == "unchanged").all()


def test_order_and_ids_do_not_matter():
    r1 = findings(1)
    r2 = findings(2).sample(frac=1, random_state=7)
    r2["finding_id"] = [f"X{i}" for i in range(len(r2))]
    d = diff_rounds(r1.iloc[::-1], r2)
    assert d["status"].value_counts().to_dict() == {"persisting": 11, "resolved": 3, "new": 2}


def test_footprints_shifted_against_the_red_lines_give_only_thin_new_pieces():
    """A survey shifted against unchanged red lines leaves 0.3 m slivers along every
    red line: the audit reports them, the diff flags them thin."""
    parcels, footprints, planning, admin = _layers()
    moved = footprints.copy()
    moved.geometry = moved.geometry.translate(SHIFT, SHIFT)
    again = landgis.audit(parcels, moved, planning=planning, admin=admin)
    d = diff_rounds(findings(1), again.findings)
    assert (_by(d, "persisting")["old_id"] != "").all()
    assert len(_by(d, "resolved")) == 0
    assert len(_by(d, "new")) > 0 and _by(d, "new")["thin"].all()
    assert not _by(d, "persisting")["thin"].any()


def _frame(rows, crs=4528):
    """rows: (finding_id, category, holder, geometry, area_m2 or None)."""
    return gpd.GeoDataFrame(
        {
            "finding_id": [r[0] for r in rows],
            "category": [r[1] for r in rows],
            "holder": [r[2] for r in rows],
            "parcel_id": ["P1"] * len(rows),
            "area_m2": [r[4] if r[4] is not None else r[3].area for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=crs,
    )


def test_split_and_merge_are_one_persisting_case():
    before = _frame(
        [
            ("A", "outside_redline", "甲", rect(0, 0, 100, 20), None),
            ("B", "outside_redline", "乙", rect(0, 50, 30, 60), None),
            ("C", "outside_redline", "乙", rect(40, 50, 70, 60), None),
        ]
    )
    after = _frame(
        [
            ("A1", "outside_redline", "甲", rect(0, 0, 40, 20), None),  # the middle demolished
            ("A2", "outside_redline", "甲", rect(60, 0, 100, 20), None),
            ("BC", "outside_redline", "乙", rect(0, 50, 70, 60), None),  # built together
        ]
    )
    d = diff_rounds(before, after).set_index("holder")
    assert (d["status"] == "persisting").all() and len(d) == 2
    assert d.loc["甲", "relation"] == "split" and d.loc["甲", "old_id"] == "A"
    assert set(d.loc["甲", "new_id"].split(";")) == {"A1", "A2"}
    assert d.loc["甲", "area_change_m2"] == pytest.approx(-400)
    assert d.loc["乙", "relation"] == "merged" and d.loc["乙", "new_id"] == "BC"
    assert d.loc["乙", "area_change_m2"] == pytest.approx(100)


def test_category_and_holder_must_agree():
    before = _frame([("A", "outside_redline", "甲", rect(0, 0, 50, 50), None)])
    other_holder = _frame([("B", "outside_redline", "乙", rect(0, 0, 50, 50), None)])
    other_category = _frame([("B", "unleased_use", "甲", rect(0, 0, 50, 50), None)])
    for after in (other_holder, other_category):
        assert diff_rounds(before, after)["status"].tolist() == ["new", "resolved"]
    spelled = _frame([("B", "outside_redline", " 甲 ", rect(0, 0, 50, 50), None)])
    assert diff_rounds(before, spelled)["status"].tolist() == ["persisting"]


def test_a_piece_moved_away_is_not_the_same_case():
    before = _frame([("A", "outside_redline", "甲", rect(0, 0, 30, 30), None)])
    after = _frame([("B", "outside_redline", "甲", rect(25, 0, 55, 30), None)])  # 1/6 overlap
    assert diff_rounds(before, after)["status"].tolist() == ["new", "resolved"]
    assert diff_rounds(before, after, min_overlap=0.1)["status"].tolist() == ["persisting"]


def test_thin_pieces_match_across_a_shift_larger_than_their_width():
    before = _frame([("A", "outside_redline", "甲", rect(0, 0, 100, 0.4), None)])
    after = _frame([("B", "outside_redline", "甲", rect(0.3, 0.3, 100.3, 0.7), None)])
    d = diff_rounds(before, after)
    assert d["status"].tolist() == ["persisting"] and bool(d["thin"].iloc[0])


def test_register_findings_without_geometry_match_by_parcel():
    before = gpd.GeoDataFrame(
        {
            "finding_id": ["A", "B"],
            "category": ["rent_arrears", "rent_arrears"],
            "holder": ["甲", "甲"],
            "parcel_id": ["P1", "P2"],
            "amount_due": [5000.0, 800.0],
        },
        geometry=[None, None],
        crs=4528,
    )
    after = before.iloc[[0]].assign(finding_id="A2", amount_due=3000.0)
    d = diff_rounds(before, after).set_index("status")
    assert d.loc["persisting", "old_id"] == "A" and d.loc["persisting", "new_id"] == "A2"
    assert d.loc["persisting", "amount_due"] == 3000.0
    assert d.loc["resolved", "old_id"] == "B"


def test_reprojected_round_and_bad_input():
    r1 = findings(1)
    with pytest.warns(landgis.LandgisWarning, match="reprojected"):
        d = diff_rounds(r1, r1.to_crs(4490))
    assert (d["status"] == "persisting").all()
    with pytest.raises(CRSError, match="no CRS"):
        diff_rounds(r1, r1.set_crs(None, allow_override=True))
    with pytest.raises(SchemaError, match="category"):
        diff_rounds(r1, r1.drop(columns="category"))
    with pytest.raises(SchemaError, match="min_overlap"):
        diff_rounds(r1, r1, min_overlap=0)


def test_diff_files(tmp_path):
    d = diff_rounds(findings(1), findings(2))
    written = write_diff(d, tmp_path)
    raw = written["diff.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(written["diff.csv"], encoding="utf-8-sig", dtype=str)
    assert list(table.columns[:4]) == ["变化", "面积变化趋势", "类别代码", "问题类别"]
    assert table["变化"].value_counts().to_dict() == {"持续存在": 11, "已消除": 3, "新增": 2}
    layer = gpd.read_file(written["diff.gpkg"], layer="diff")
    assert len(layer) == 16 and layer.crs.to_epsg() == 4528
    assert set(layer["status"]) == {"new", "persisting", "resolved"}
    assert "amount_due" not in diff_table(d).columns.tolist() + diff_table(d, lang="en").columns


def test_diff_csv_cells_are_safe(tmp_path):
    r1 = findings(1)
    r2 = r1.copy()
    r2.loc[r2["category"] == "encroachment", "holder"] = '=HYPERLINK("http://x")'
    table = diff_table(diff_rounds(r1, r2))
    written = write_diff(diff_rounds(r1, r2), tmp_path)
    text = written["diff.csv"].read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\r\n=" not in text and ",=" not in text
    assert '=HYPERLINK("http://x")' in set(table["权利人/使用人"])


# ---------------------------------------------------------------------- progress


@pytest.fixture(scope="module", params=LEDGER_BACKENDS)
def worked_ledger(request, tmp_path_factory):
    """Three rounds with hand entries: see tests/test_ledger.py for the case story;
    in an SQLite file and on the PostgreSQL test server."""
    from tests.test_ledger import three_rounds

    places = LedgerPlaces(request.param, tmp_path_factory.mktemp("ledger"))
    yield three_rounds(places())
    places.close()


VIOLATIONS = ["overuse_requisitioned", "overuse_leased", "outside_redline", "unleased_use",
              "encroachment"]  # fmt: skip


def _expected(cases: pd.DataFrame, as_of: dt.date, round_name: str, latest: str, relapsed=()):
    c = cases[cases["status"] != "已合并"].copy()
    c["street"] = c["street"].replace("", "（未定街道）")
    is_open = c["status"].isin(["待核实", "整改中", "移交司法"])
    late = pd.to_datetime(c["deadline"]) < pd.Timestamp(as_of)
    this_round = c["status_round"] == round_name
    disposed = c["status"].isin(["待确认销号", "已处置", "已销号"]) & this_round
    violation = c["area_mu"].where(c["category"].isin(VIOLATIONS), 0.0)
    out = pd.DataFrame(
        {
            "group": c["group"],
            "street": c["street"],
            "cases": 1,
            "open": is_open.astype(int),
            "overdue": (is_open & late).astype(int),
            "pending": (c["status"] == "待确认销号").astype(int),
            "closed": c["status"].isin(["已处置", "已销号", "不予认定"]).astype(int),
            "disposed_round": disposed.astype(int),
            "done_but_seen": (
                c["status"].isin(["已处置", "已销号"]) & (c["last_round"] == latest)
            ).astype(int),
            "relapsed": c["case_id"].isin(relapsed).astype(int),
            # 违规用地面积 only: land-use violations (none of them overlap in this story, so
            # the union is the sum); parcel-level and money cases add no 亩.
            "open_mu": violation.where(is_open, 0.0),
            "overdue_mu": violation.where(is_open & late, 0.0),
            "disposed_round_mu": violation.where(disposed, 0.0),
        }
    )
    return out.groupby(["group", "street"]).sum()


@pytest.mark.parametrize("as_of", ["2024-06-01", "2024-07-01", "2025-01-15"])
def test_progress_numbers_equal_the_ledgers(worked_ledger, as_of):
    ledger = worked_ledger
    report = progress_report(ledger, as_of=as_of)
    latest = ledger.rounds()["round"].iloc[-1]
    assert report.round == latest
    history = ledger.history()
    relapsed = set(history.loc[history["kind"] == "relapse", "case_id"])
    expected = _expected(
        ledger.cases(geometry=False), dt.date.fromisoformat(as_of), latest, latest, relapsed
    )
    got = report.table.iloc[:-1].set_index(["group", "street"]).sort_index()
    pd.testing.assert_frame_equal(
        got[expected.columns], expected.sort_index(), check_dtype=False, atol=1e-4
    )
    total = report.table.iloc[-1]
    assert total["group"] == "合计"
    for col in expected.columns:
        assert total[col] == pytest.approx(expected[col].sum(), abs=1e-4)
    # per group and per street add up to the same totals
    for part in (report.by_group, report.by_street):
        assert part.iloc[-1][list(expected.columns)].tolist() == pytest.approx(
            total[list(expected.columns)].tolist()
        )


def test_progress_story(worked_ledger):
    """The sample's deadlines: 综合组's verification by 2024-06-30, the rest 2024-12-31."""
    r = progress_report(worked_ledger, as_of="2024-07-01")
    total = r.table.iloc[-1]
    assert total["cases"] == 16  # 14 + 2 new in round 2; TB004's return reopens its case
    overdue = r.cases[r.cases["overdue"]]
    assert set(overdue["category"]) == {"area_mismatch", "overlap_conflict"}
    assert (overdue["days_overdue"] == 1).all()
    late = progress_report(worked_ledger, as_of="2025-03-01").cases
    judicial = late[late["status"] == "移交司法"]
    assert len(judicial) == 1 and not judicial["overdue"].iloc[0]  # its own deadline 2025-03-31
    # R3 disposed 绿源's over-use (gone from the survey); in R2 the survey cleared 金鼎's
    # idle land and 宏远 was confirmed gone; 嘉禾, declared disposed by hand after R2, was
    # found again by R3: reopened as a relapse (反弹), counted in R3 (绿源's shed, gone in
    # R2, came back in R3 from 待确认销号: reappeared, not a relapse).
    assert total["disposed_round"] == 1 and total["done_but_seen"] == 0
    assert (total["relapsed"], total["relapsed_round"]) == (1, 1)
    relapse = r.cases[r.cases["relapsed_round"]]
    assert relapse["holder"].tolist() == ["泰州嘉禾农业发展有限公司"]
    earlier = progress_report(worked_ledger, as_of="2024-07-01", round="R2").table.iloc[-1]
    assert earlier["disposed_round"] == 2 and earlier["relapsed_round"] == 0
    # 违规用地面积 disposed in R2: 宏远's 40 × 50 m² = 3 亩 (金鼎's idle land is a parcel-level
    # case: no 违规用地面积)
    assert earlier["disposed_round_mu"] == pytest.approx(3.0)
    with pytest.raises(landgis.LandgisError, match="no round"):
        progress_report(worked_ledger, round="R9")


def test_progress_files(worked_ledger, tmp_path):
    from openpyxl import load_workbook

    report = progress_report(worked_ledger, as_of="2025-01-15")
    written = report.write(tmp_path)
    page = written["progress.html"].read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)  # works offline
    assert "逾期" in page and "现代农业园农业农村组" in page
    wb = load_workbook(written["progress.xlsx"])
    assert wb.sheetnames == ["进度汇总", "按工作组", "按街道", "案件明细"]
    ws = wb["进度汇总"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["责任工作组", "街道", "案件数", "未办结", "逾期"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[header.index("逾期")] for r in rows] == report.table["overdue"].tolist()
    assert all(isinstance(r[header.index("案件数")], int) for r in rows)
    assert all(isinstance(r[header.index("未办结违规用地面积（亩）")], float | int) for r in rows)
    cases = wb["案件明细"]
    head = [c.value for c in cases[1]]
    late = head.index("是否逾期")
    for row in cases.iter_rows(min_row=2):
        red = row[0].fill.start_color.rgb.endswith("FFC7CE")
        assert red == (row[late].value == "是")
        assert isinstance(row[head.index("完成时限")].value, dt.datetime | dt.date)
    assert sum(1 for r in cases.iter_rows(min_row=2) if r[late].value == "是") == int(
        report.table.iloc[-1]["overdue"]
    )


def test_progress_page_escapes_every_name(tmp_path):
    hostile = "<script>alert(1)</script>$x$"
    frame = findings(1)
    frame["street"] = hostile
    frame["holder"] = "<img src=x onerror=alert(2)>"
    frame["amount_owed"] = 1000.0
    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(frame, date="2024-03-15")
    case = ledger.cases()["case_id"].iloc[0]
    ledger.set(case, amount_recovered=600, note="<b>已追缴</b>")
    report = progress_report(ledger, as_of="2025-01-15")
    page = report.html()
    assert "<script>alert" not in page and "<img" not in page
    assert html.escape(hostile) in page
    total = report.table.iloc[-1]
    assert total["amount_owed"] == pytest.approx(1000.0 * len(frame))
    assert total["amount_recovered"] == pytest.approx(600.0)
    assert "已追缴金额（元）" in page


def test_amounts_recovered(tmp_path):
    """Arrears (the audit's amount_owed): what the owed amount fell by, all of it once gone,
    or what a person entered."""

    def arrears(rows):
        return gpd.GeoDataFrame(
            {
                "finding_id": [r[0] for r in rows],
                "category": "rent_arrears",
                "holder": [r[1] for r in rows],
                "parcel_id": [r[2] for r in rows],
                "group": "资源管理组",
                "street": "城东街道",
                "deadline": "2024-09-30",
                "amount_owed": [r[3] for r in rows],
            },
            geometry=[
                rect(0, 0, 100, 100) if r[2] == "P1" else rect(0, 200, 50, 250) for r in rows
            ],
            crs=4528,
        )

    ledger = Ledger(tmp_path / "cases.sqlite")
    ledger.update(
        arrears([("a", "甲", "P1", 5000.0), ("b", "乙", "P2", 800.0), ("c", "丙", "P3", 900.0)]),
        date="2024-03-15",
    )
    bing = ledger.cases().set_index("holder").loc["丙", "case_id"]
    ledger.set(bing, amount_recovered=300, note="分期缴纳")
    ledger.update(
        arrears([("a2", "甲", "P1", 3000.0), ("c2", "丙", "P3", 900.0)]), date="2024-09-15"
    )
    report = progress_report(ledger, as_of="2024-10-01")
    by_case = report.cases.set_index("holder")
    assert by_case["amount_owed"].to_dict() == {"甲": 3000.0, "乙": 0.0, "丙": 900.0}
    assert by_case["amount_recovered"].to_dict() == {"甲": 2000.0, "乙": 800.0, "丙": 300.0}
    total = report.table.iloc[-1]
    assert (total["amount_owed"], total["amount_recovered"]) == (3900.0, 3100.0)


# ---------------------------------------------------------------------- commands


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rounds")
    paths = []
    for n in (1, 2):
        sample_round(n).write(root / f"round{n}")
        paths.append(root / f"round{n}")
    return paths


def _landgis():
    """The landgis command, where these commands are registered."""
    from landgis.cli import main

    assert main.commands["diff"] is diff_command and main.commands["ledger"] is ledger_command
    assert main.commands["progress"] is progress_command
    return main


def test_cli_diff(outputs, tmp_path):
    runner = CliRunner()
    done = runner.invoke(_landgis(), ["diff", *map(str, outputs), "-o", str(tmp_path / "d")])
    assert done.exit_code == 0, done.output
    assert "新增 2 · 持续存在 11（扩大 2，缩小 0） · 已消除 3" in done.output
    table = pd.read_csv(tmp_path / "d" / "diff.csv", encoding="utf-8-sig")
    assert len(table) == 16
    # The map of round 2 shows the new and the resolved findings as layers of their own.
    data = page_data((tmp_path / "d" / "diff.html").read_text(encoding="utf-8"))
    layers = {layer["id"]: layer for layer in data["layers"]}
    assert len(layers["change-new"]["props"]["holder"]) == 2
    assert len(layers["change-resolved"]["props"]["holder"]) == 3
    assert layers["change-new"]["label"] == "本轮新增（2）"
    round2 = gpd.read_file(outputs[1] / "findings.gpkg", layer="findings")
    drawn = sum(len(v["props"]["holder"]) for k, v in layers.items() if k.startswith("finding-"))
    assert drawn == len(round2)
    done = runner.invoke(_landgis(), ["diff", str(outputs[0]), str(tmp_path), "-o", "x"])
    assert done.exit_code == 2 and "findings.gpkg" in done.output


def test_cli_ledger_and_progress(outputs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    app = _landgis()

    def run(*args, code=0):
        done = runner.invoke(app, [str(a) for a in args])
        assert done.exit_code == code, done.output
        return done.output

    missing = run("ledger", "show", code=2)
    assert "no such ledger" in missing and not (tmp_path / "cases.sqlite").exists()
    assert "新立案 14" in run(
        "ledger", "update", outputs[0], "--round", "2024-03", "--date", "2024-03-15"
    )
    ledger = Ledger("cases.sqlite", create=False)
    hua = ledger.cases(geometry=False).set_index("holder").loc["泰州华达精密机械有限公司"]
    note = ["--note", "已下达限期整改通知书", "--date", "2024-04-01"]
    run("ledger", "set", hua["case_id"], "--status", "rectifying", "--person", "张三", *note)
    out = run("ledger", "update", outputs[1], "--round", "2024-09", "--date", "2024-09-15")
    assert "新立案 2 · 持续 11 · 待确认销号 3" in out
    again = run("ledger", "update", outputs[1], "--round", "2024-09", code=2)
    assert "already entered" in again
    listing = run("ledger", "show", "--status", "整改中")
    assert "张三" in listing and hua["case_id"] in listing
    one = run("ledger", "show", "--case", hua["case_id"])
    assert "已下达限期整改通知书" in one and "整改中" in one and "人工登记" in one
    assert "unknown status" in run("ledger", "set", hua["case_id"], "--status", "done", code=2)
    assert "no case" in run("ledger", "set", "2099-0001", "--note", "x", code=2)
    run("ledger", "export", "cases.xlsx")
    run("ledger", "export", "cases.csv")
    assert (
        pd.read_csv("cases.csv", encoding="utf-8-sig")["案件编号"].tolist()
        == ledger.cases()["case_id"].tolist()
    )
    out = run("progress", "-o", "report", "--as-of", "2024-07-01")
    assert "案件 16 · 未办结 13 · 逾期 2 · 待确认销号 3 · 本轮处置 3" in out
    assert (tmp_path / "report" / "progress.html").is_file()
    assert (tmp_path / "report" / "progress.xlsx").is_file()
