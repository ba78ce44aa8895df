"""Money and efficiency: hand-computed rents, fees, over-use rent and the per-mu evaluation."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from landgis.cli import main
from landgis.config import EvaluationScheme
from landgis.engine.evaluation import evaluate
from landgis.engine.money import accrued, fee_arrears, rent_arrears
from tests.conftest import footprints_frame, parcels_frame, rect

D = dt.date
AREA = pd.Series({"P1": 15.0, "P2": 10.0})  # 亩


def leases(rows):
    """rows: (lease_id, parcel_id, direction, area_mu, rate, start, end, paid)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "lease_id",
            "parcel_id",
            "direction",
            "contracted_area_mu",
            "rent_per_mu_year",
            "start_date",
            "end_date",
            "paid",
        ],
    )
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def test_contract_years_and_leap_years():
    # A full contract year is one year's rent, 365 or 366 days long.
    assert accrued(36_600, D(2024, 1, 1), None, D(2024, 12, 31)) == pytest.approx(36_600)
    assert accrued(36_500, D(2023, 1, 1), None, D(2023, 12, 31)) == pytest.approx(36_500)
    # 2024-02-01 → 2025-02-01 holds 29 Feb 2024: 366 days; 29 days of it → 36,600 × 29/366.
    assert accrued(36_600, D(2024, 2, 1), None, D(2024, 2, 29)) == pytest.approx(2_900)
    # A lease starting on 29 Feb: its first year ends on 28 Feb 2025 (Civil Code art. 202),
    # 366 days; a day short of it is not the whole year's rent.
    assert accrued(36_600, D(2024, 2, 29), None, D(2025, 2, 28)) == pytest.approx(36_600)
    assert accrued(36_600, D(2024, 2, 29), None, D(2025, 2, 27)) == pytest.approx(36_500)
    # Nothing before the start, nothing after the end.
    assert accrued(36_500, D(2024, 7, 1), None, D(2024, 6, 30)) == 0
    assert accrued(36_500, D(2022, 1, 1), D(2022, 12, 31), D(2024, 6, 30)) == pytest.approx(36_500)


def test_partial_payments_and_a_lease_starting_mid_year_accrued():
    # The accrual view (rent_basis = "accrual"): rent earned day by day.
    # 15 亩 × 1,200 元 = 18,000 a year from 2023-07-01 (a contract year of 366 days:
    # it holds 29 Feb 2024).  To 2024-03-31: 275 days → 18,000 × 275/366 = 13,524.59.
    # Paid 6,000 in the register and 3,000 in the payments table: owed 4,524.59,
    # = 4,524.59 / 1,500 = 3.02 months of rent.
    table = leases([("L1", "P1", "leased_out", 15, 1200, "2023-07-01", "2033-06-30", 6000)])
    payments = pd.DataFrame(
        {
            "lease_id": ["L1", "L1"],
            "amount": [3000.0, 99_999.0],
            "date": pd.to_datetime(["2024-01-15", "2024-05-01"]),
        }
    )
    owed = rent_arrears(table, payments, AREA, as_of=D(2024, 3, 31), basis="accrual").iloc[0]
    assert owed["due"] == pytest.approx(18_000 * 275 / 366)
    assert owed["paid"] == 9_000  # the May payment comes after the as-of date
    assert owed["owed"] == pytest.approx(18_000 * 275 / 366 - 9_000)
    assert owed["months_overdue"] == pytest.approx((18_000 * 275 / 366 - 9_000) / 1_500)


def test_a_lease_that_ended_owes_only_its_term():
    # 10 亩 × 900 = 9,000 a year, 2021-01-01 to 2022-12-31: 2 years = 18,000; paid 12,000.
    table = leases(
        [
            ("L2", "P2", "leased_out", 10, 900, "2021-01-01", "2022-12-31", 12000),
            ("L3", "P2", "leased_in", 10, 500, "2021-01-01", "2030-12-31", 0),
        ]
    )
    owed = rent_arrears(table, None, AREA, as_of=D(2024, 6, 30))
    assert owed["lease_id"].tolist() == ["L2"]  # rent the zone pays is not arrears
    assert owed.iloc[0]["owed"] == pytest.approx(6_000)


def test_fee_arrears_only_when_due():
    fees = pd.DataFrame(
        {
            "parcel_id": ["P1", "P2", "P1"],
            "party": ["甲", "乙", "丙"],
            "fee_due": [300_000.0, 100_000.0, 50_000.0],
            "fee_paid": [200_000.0, 100_000.0, 0.0],
            "due_date": pd.to_datetime(["2023-12-31", "2023-12-31", "2025-01-01"]),
        }
    )
    owed = fee_arrears(fees, as_of=D(2024, 6, 30))
    assert owed[["party", "owed"]].values.tolist() == [["甲", 100_000.0]]


def test_evaluation_worked_by_hand():
    # Default scheme (Linhai 2014–2016): ≥ 3 亩: tax 40/15, revenue 10/300, value added per
    # energy 20/3, productivity 10/15; < 3 亩: tax 50/15, revenue 20/300; cap 1.5 × weight.
    table = pd.DataFrame(
        {
            "party": ["甲", "乙", "丙", "丁"],
            "tax": [180.0, 6.0, 30.0, 50.0],
            "revenue": [3600.0, 300.0, 600.0, 900.0],
            "value_added": [900.0, 60.0, None, 200.0],
            "energy": [200.0, 100.0, None, 10.0],
            "employees": [60.0, 30.0, None, 10.0],
            "established": pd.to_datetime(["2010-01-01", "2012-01-01", "2015-01-01", "2023-01-01"]),
        }
    )
    land = pd.Series({"甲": 18.0, "乙": 15.0, "丙": 2.0, "丁": 5.0})
    out = evaluate(table, land, scheme=EvaluationScheme(), as_of=D(2024, 6, 30))
    # 甲: tax 10/15×40 = 26.67, revenue 200/300×10 = 6.67, 4.5/3 → cap 1.5 ×20 = 30,
    #     productivity 15/15×10 = 10: 73.33 of weight 80 → 91.67 → B.
    assert out.loc["甲", "score"] == pytest.approx(73.333333 / 80 * 100)
    assert out.loc["甲", "efficiency_class"] == "B"
    # 乙: 0.4/15×40 = 1.067, 20/300×10 = 0.667, 0.6/3×20 = 4, 2/15×10 = 1.333: 7.067/80 → D.
    assert out.loc["乙", "score"] == pytest.approx(7.066667 / 80 * 100)
    assert out.loc["乙", "efficiency_class"] == "D"
    # 丙 is small (2 亩): tax 15/15×50 = 50, revenue 300/300×20 = 20: 70/70 → 100 → A.
    assert out.loc["丙", "score"] == pytest.approx(100)
    assert out.loc["丙", "efficiency_class"] == "A"
    # 丁 was set up 1.5 years ago: in the 3-year protection period.
    assert out.loc["丁", "efficiency_class"] == "免评"


def _park(tmp_path):
    parcels = parcels_frame(
        [
            ("P1", "leased_out", "甲", rect(0, 0, 100, 100)),
            ("P2", "requisitioned", "乙", rect(200, 0, 300, 100)),
            ("L1", "leased_in", "村", rect(100, 0, 200, 100)),
        ]
    )
    footprints = footprints_frame(
        [
            ("F1", "甲", rect(0, 0, 130, 100)),  # 3,000 m² on L1
            ("F2", "乙", rect(200, 0, 210, 10)),
        ]
    )
    footprints["survey_date"] = ["2024-01-01", "2024-01-01"]
    parcels.to_file(tmp_path / "p.gpkg")
    footprints.to_file(tmp_path / "f.gpkg")
    leases_csv = tmp_path / "租赁台账.csv"
    leases_csv.write_text(
        "合同编号,宗地代码,承租方,租赁面积（亩）,租金单价,起租日期,到期日期,已缴租金\n"
        "H1,P1,甲,15,1200,2023-01-01,2032-12-31,18000\n"
        "H2,L1,,15,600,2020-01-01,2034-12-31,\n"
        "H3,P9,甲,10,900,2023-01-01,2027-12-31,0\n"  # no such parcel
        "H4,P1,甲,-5,1200,2023-01-01,2032-12-31,0\n"  # negative area
        "H5,P1,甲,15,1200,2024-01-01,2023-01-01,0\n"  # ends before it starts
        "H6,P1,甲,15,一千,2023-01-01,2032-12-31,0\n",  # text in a number column
        encoding="gbk",
    )
    fees_xlsx = tmp_path / "费用.xlsx"
    pd.DataFrame(
        {
            "宗地代码": ["P2"],
            "权利人": ["乙"],
            "应缴费用": [300000],
            "已缴费用": [120000],
            "缴费期限": ["2023-12-31"],
        }
    ).to_excel(fees_xlsx, index=False)
    firms = tmp_path / "企业.csv"
    firms.write_text(
        "企业名称,税收（万元）,营业收入（万元）,工业增加值,综合能耗,从业人员\n"
        "乙,1,50,10,20,10\n甲,200,3000,800,100,50\n",
        encoding="utf-8-sig",
    )
    config = tmp_path / "c.toml"
    config.write_text("[campaign]\nas_of = 2024-06-30\n", encoding="utf-8")
    return leases_csv, fees_xlsx, firms, config


def test_registers_through_the_cli_report_and_map(tmp_path):
    leases_csv, fees_xlsx, firms, config = _park(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(tmp_path / "p.gpkg"),
            str(tmp_path / "f.gpkg"),
            "-o",
            str(out),
            "-q",
            "--registers",
            str(leases_csv),
            "--registers",
            str(fees_xlsx),
            "--registers",
            str(firms),
            "--config",
            str(config),
            "--report",
            "--map",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 register row(s) set aside" in result.output

    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype={"parcel_id": str})
    by = csv.set_index("category")
    # 甲: 18,000 a year from 2023-01-01, 年付 in advance (the default): due 2023-01-01 and
    # 2024-01-01 → 36,000; paid 18,000 → owed 18,000, open since 2024-01-01 (181 days).
    assert by.loc["rent_arrears", "amount_owed"] == pytest.approx(18_000)
    assert by.loc["rent_arrears", "days_overdue"] == 181
    assert by.loc["fee_arrears", "amount_owed"] == pytest.approx(180_000)
    # Over-use: 30 × 100 m² = 4.5 亩 × 1,200 from the survey (2024-01-01) to 2024-06-30:
    # 182 of a 366-day contract year.
    assert by.loc["overuse_leased", "amount_owed"] == pytest.approx(
        4.5 * 1200 * 182 / 366, abs=0.01
    )
    assert by.loc["leased_in_used", "annual_rent"] == pytest.approx(9_000)
    assert by.loc["low_efficiency", "holder"] == "乙"

    problems = pd.read_csv(out / "problems.csv", encoding="utf-8-sig")
    found = {(r.row, r.column, r.problem) for r in problems.itertuples()}
    assert found == {
        (4, "parcel_id", "no such parcel among the red lines"),
        (5, "contracted_area_mu", "negative"),
        (6, "end_date", "ends before it starts"),
        (7, "rent_per_mu_year", "not a number"),
    }
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["register_problems"]

    gpkg = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert {"rent_arrears", "fee_arrears", "low_efficiency"} <= set(gpkg["category"])
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "finding-rent_arrears" in html and "finding-low_efficiency" in html

    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    rows = list(wb["汇总"].iter_rows(values_only=True))
    totals = [r for r in rows if r[0] == "合计"]
    assert totals[0][1] == len(csv)
    assert totals[0][4] == pytest.approx(csv["amount_owed"].fillna(0).sum(), abs=0.01)
    listed = list(wb["问题清单"].iter_rows(values_only=True))
    assert len(listed) - 1 == len(csv)
    assert (out / "dossiers" / "乙.xlsx").is_file()

    # The report again from the GeoPackage alone.
    (out / "report.xlsx").unlink()
    again = CliRunner().invoke(main, ["report", str(out), "-q"])
    assert again.exit_code == 0, again.output
    assert load_workbook(out / "report.xlsx")["汇总"]["B3"].value == len(csv)
