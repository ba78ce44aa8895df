"""Totals without double counting (违规用地面积, 涉及地块面积, 金额), worked out by hand.

违规用地面积 is the area of the union of the land-use violation pieces, 涉及地块面积 the
area of the union of the parcels that parcel-level findings name, 金额 the money owed in
元.  Every output that shows a total must show the same one.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import landgis
from landgis.cli import main
from landgis.present.report import write_dossiers
from landgis.present.summary import summary_table, totals, totals_by
from tests.conftest import footprints_frame, parcels_frame, rect

MU = 10_000 / 15  # m² per 亩


def page_data(path) -> dict:
    html = path.read_text(encoding="utf-8")
    block = re.search(
        r'<script type="application/json" id="landgis-data">(.*?)</script>', html, re.S
    )
    return json.loads(block.group(1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def sample():
    folder = landgis.datasets.sample_dir()
    with pytest.warns(landgis.LandgisWarning):
        return landgis.audit(
            landgis.get_path("parcels"),
            landgis.get_path("footprints"),
            planning=landgis.get_path("planning"),
            admin=landgis.get_path("admin"),
            registers=[folder / "registers.xlsx"],
            config=folder / "campaign.toml",
        )


def test_the_sample_parks_totals_by_hand(sample):
    # 违规用地面积 (data/boundaries/README.md): 华达 over-use 20 × 100 = 2,000, 绿源 over-use
    # 100 × 15 = 1,500 and outside 30 × 40 = 1,200, 宏远 unleased 40 × 50 = 2,000, 新泰
    # encroachment 20 × 100 = 2,000, 嘉禾 outside 20 × 100 = 2,000; no two overlap:
    # 10,700 m² = 16.05 亩.
    # 涉及地块面积: the parcels idle (金鼎 321202002001, 恒信 321202002003), leased in
    # (321202001002, 321202001004 twice as large, 321202002004 — the same rectangle as
    # 恒信's, counted once — and 321202003001), low efficiency (金鼎's again), area mismatch
    # (新泰 321202002002) and red-line overlap (瑞丰 500–600 and 盛达 580–680 × 150–250:
    # 100 × 100 + 100 × 100 − 20 × 100 = 18,000): 10,000 × 6 + 20,000 − 10,000 (the
    # shared rectangle) + 18,000 = 88,000 m² = 132 亩.  Summing the findings instead gave
    # 196.95 亩 (arrears and low efficiency counted as whole parcels, land counted twice).
    # 金额: rent 9,000 (绿源) + 12,000 (恒信), fee 100,000 (金鼎), rent for 绿源's over-use
    # 2.25 亩 × 1,200 × 108/365 = 798.90 → 121,798.90 元.
    t = sample.totals()
    assert t["findings"] == 18
    assert t["violation_m2"] == pytest.approx(10_700)
    assert t["violation_mu"] == pytest.approx(16.05)
    assert t["parcel_m2"] == pytest.approx(88_000)
    assert t["parcel_mu"] == pytest.approx(132)
    assert t["amount_owed"] == pytest.approx(9_000 + 12_000 + 100_000 + 2.25 * 1200 * 108 / 365)
    assert to_mu_sum(sample.findings) == pytest.approx(196.95)  # what the old legend said

    streets = totals_by(sample.findings, "street", parcels=sample.parcels).set_index("street")
    # 城东街道: 2,000 + 1,500 + 1,200 + 2,000 + 2,000 = 8,700 m² = 13.05 亩; parcels
    # 321202001002, 321202001004, 321202003001: 40,000 m² = 60 亩; 9,000 + 798.90 元.
    # 京泰路街道: 2,000 m² = 3 亩; 321202002001, 002, 003 (= 004) and the overlap pair
    # 18,000: 48,000 m² = 72 亩; 12,000 + 100,000 元.  城东 comes first (chéng < jīng).
    assert list(streets.index) == ["城东街道", "京泰路街道", "合计"]
    assert streets.loc["城东街道", ["violation_mu", "parcel_mu"]].tolist() == pytest.approx(
        [13.05, 60]
    )
    assert streets.loc["京泰路街道", ["violation_mu", "parcel_mu"]].tolist() == pytest.approx(
        [3, 72]
    )
    assert streets.loc["城东街道", "amount_owed"] == pytest.approx(9_798.90, abs=0.01)
    assert streets.loc["京泰路街道", "amount_owed"] == pytest.approx(112_000)
    assert streets.loc["合计", "parcel_mu"] == pytest.approx(132)  # not 60 + 72


def to_mu_sum(findings) -> float:
    return round(findings["area_m2"].sum() / MU, 2)


def _overlapping_park():
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "甲", rect(0, 0, 100, 100)),
            ("P2", "requisitioned", "乙", rect(0, 300, 100, 400)),
            ("P3", "requisitioned", "丙", rect(200, 300, 300, 400)),
        ]
    )
    parcels["registered_area_mu"] = [20.0, 15.0, 15.0]  # P1 measures 15 亩: mismatch
    footprints = footprints_frame(
        [
            ("F1", "甲", rect(0, 0, 10, 50)),  # 500 m² of P1: 5 % used → idle
            ("F2", "甲", rect(100, 0, 130, 20)),  # 600 m² outside every red line
            ("F3", "乙", rect(0, 300, 100, 400)),
            ("F4", "乙", rect(200, 0, 260, 50)),  # 3,000 m² outside
            ("F5", "丙", rect(200, 300, 300, 400)),
            ("F6", "丙", rect(230, 0, 290, 50)),  # 3,000 m² outside, half on 乙's
        ]
    )
    return landgis.audit(parcels, footprints)


def test_a_holder_whose_findings_overlap():
    a = _overlapping_park()
    mine = a.findings[a.findings["holder"] == "甲"]
    assert sorted(mine["category"]) == ["area_mismatch", "idle_requisitioned", "outside_redline"]
    # 甲's findings: idle 10,000 − 500 = 9,500 m² and area mismatch 10,000 m², both on P1,
    # and 30 × 20 = 600 m² outside.  Added up: 20,100 m² = 30.15 亩 for a 15-亩 holder.
    assert mine["area_m2"].sum() / MU == pytest.approx(30.15)
    # Counted once: 违规用地面积 600 m² = 0.90 亩; 涉及地块面积 P1 once, 10,000 m² = 15 亩.
    t = totals(mine, parcels=a.parcels)
    assert (t["violation_mu"], t["parcel_mu"]) == pytest.approx((0.90, 15.0))
    holders = a.summary("holder")
    assert holders.loc["甲", ["violation_mu", "parcel_mu"]].tolist() == pytest.approx([0.9, 15])
    # 乙 and 丙 use 200–260 and 230–290 × 0–50 outside every red line: 3,000 m² each, but
    # the union is 200–290 × 0–50 = 4,500 m².  Zone: 600 + 4,500 = 5,100 m² = 7.65 亩.
    zone = a.totals()
    assert zone["violation_m2"] == pytest.approx(5_100) and zone["violation_mu"] == pytest.approx(
        7.65
    )
    outside = a.summary("category").set_index("category").loc["outside_redline"]
    assert (outside["count"], outside["area_m2"]) == (3, pytest.approx(5_100))


def test_the_dossier_of_a_holder_whose_findings_overlap(tmp_path):
    a = _overlapping_park()
    written = write_dossiers(
        tmp_path, a.findings, parcels=a.parcels, holders=a.holders, parcel_use=a.parcel_use
    )
    facts = dict(
        (r[0], r[1])
        for r in load_workbook(written["甲"]).active.iter_rows(values_only=True)
        if r[0]
    )
    assert facts["问题数"] == 3
    assert facts["违规用地面积（亩）"] == pytest.approx(0.9)
    assert facts["涉及地块面积（亩）"] == pytest.approx(15)
    assert "问题面积（亩）" not in facts


def test_a_triple_red_line_overlap():
    # A 0–100 × 0–100 (甲), B 50–150 × 0–100 (乙), C 0–100 × 50–150 (丙), each used whole by
    # its holder.  Overlaps: A∩B 50 × 100 = 5,000, A∩C 100 × 50 = 5,000, B∩C 50 × 50 = 2,500
    # (the corner 50–100 × 50–100 lies in all three): 12,500 m² added up.  The parcels these
    # three cases concern are A ∪ B ∪ C = 3 × 10,000 − 5,000 − 5,000 − 2,500 + 2,500
    # = 20,000 m² = 30 亩, each counted once.
    parcels = parcels_frame(
        [
            ("A", "requisitioned", "甲", rect(0, 0, 100, 100)),
            ("B", "requisitioned", "乙", rect(50, 0, 150, 100)),
            ("C", "leased_out", "丙", rect(0, 50, 100, 150)),
        ]
    )
    footprints = footprints_frame(
        [
            ("F1", "甲", rect(0, 0, 100, 100)),
            ("F2", "乙", rect(50, 0, 150, 100)),
            ("F3", "丙", rect(0, 50, 100, 150)),
        ]
    )
    a = landgis.audit(parcels, footprints)
    f = a.findings
    assert (f["category"] == "overlap_conflict").sum() == 3
    assert sorted(f["area_m2"]) == pytest.approx([2_500, 5_000, 5_000])
    t = a.totals()
    assert t["parcel_m2"] == pytest.approx(20_000) and t["parcel_mu"] == pytest.approx(30)
    row = summary_table(f, parcels=a.parcels).set_index("category").loc["overlap_conflict"]
    assert (row["count"], row["measure"], row["area_mu"]) == (3, "parcel", pytest.approx(30))


def test_every_output_shows_the_same_totals(demo):
    """The map legend and title, summary.csv, report.xlsx, the dossiers and holders.csv."""
    summary = pd.read_csv(demo / "summary.csv", encoding="utf-8-sig", keep_default_na=False)
    totals_rows = summary[summary["问题类别"] == "合计"].set_index("计量口径")
    from_csv = {
        "findings": int(totals_rows.loc["问题总数", "数量"]),
        "violation": float(totals_rows.loc["违规用地面积", "面积（亩）"]),
        "parcel": float(totals_rows.loc["涉及地块面积", "面积（亩）"]),
        "money": float(totals_rows.loc["金额", "金额（元）"]),
    }
    assert from_csv == {"findings": 18, "violation": 16.05, "parcel": 132.0, "money": 121_798.90}
    # summary.csv: no money in 亩, no area for money
    rent = summary[summary["类别代码"] == "rent_arrears"].iloc[0]
    assert rent["面积（亩）"] == "" and float(rent["金额（元）"]) == 21_000

    legend = page_data(demo / "map.html")["legend"]
    from_map = {row["code"]: row["value"] for row in legend["totals"]}
    assert legend["count"] == from_csv["findings"] and "18 处" in legend["title"]
    assert from_map == {k: from_csv[k] for k in ("violation", "parcel", "money")}
    assert "16.05 亩" in page_data(demo / "map.html")["subtitle"]

    wb = load_workbook(demo / "report.xlsx")
    cells = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    assert cells["问题总数"] == from_csv["findings"]
    assert cells["违规用地面积（亩）"] == pytest.approx(from_csv["violation"])
    assert cells["涉及地块面积（亩）"] == pytest.approx(from_csv["parcel"])
    assert cells["欠缴金额（元）"] == pytest.approx(from_csv["money"])
    sums = [r for r in wb["汇总"].iter_rows(values_only=True) if r[0] == "合计"]
    assert len(sums) == 3  # per category, group and street: each 合计 row is the whole total
    for r in sums:
        assert list(r[1:5]) == pytest.approx(
            [from_csv["findings"], from_csv["violation"], from_csv["parcel"], from_csv["money"]]
        )

    holders = pd.read_csv(demo / "holders.csv", encoding="utf-8-sig").set_index("权利人/使用人")
    for dossier in (demo / "dossiers").glob("*.xlsx"):
        rows = load_workbook(dossier).active.iter_rows(values_only=True)
        facts = {r[0]: r[1] for r in rows if r[0]}
        holder = facts["企业"]
        assert facts["违规用地面积（亩）"] == pytest.approx(
            holders.loc[holder, "违规用地面积（亩）"]
        )
        assert facts["涉及地块面积（亩）"] == pytest.approx(
            holders.loc[holder, "涉及地块面积（亩）"]
        )
        assert facts["欠缴金额（元）"] == pytest.approx(holders.loc[holder, "金额（元）"])

    street_rows = {}
    found = False
    for r in wb["汇总"].iter_rows(values_only=True):
        found = found or r[0] == "按街道"
        if found and r[0] in ("城东街道", "京泰路街道"):
            street_rows[r[0]] = r
    for street, r in street_rows.items():
        data = page_data(demo / "maps" / f"{street}.html")["legend"]
        by_code = {row["code"]: row["value"] for row in data["totals"]}
        assert data["count"] == r[1]
        assert by_code["violation"] == pytest.approx(r[2])
        assert by_code["parcel"] == pytest.approx(r[3])
        assert by_code.get("money", 0) == pytest.approx(r[4])
