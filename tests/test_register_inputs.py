"""Registers as offices really send them, through ``landgis audit``: rows that cannot be
placed on the map, cells that only look empty (formulas, merged ranges), numbers that are
not amounts, control characters, CSV title lines — a clean result or a row set aside and
named, never a traceback and never a silent change."""

from __future__ import annotations

import csv
import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from landgis.cli import main
from landgis.io.registers import read_register
from tests.conftest import footprints_frame, parcels_frame, rect

LEASE_HEADER = ["合同编号", "宗地代码", "承租方", "租赁面积（亩）", "租金单价",
                "起租日期", "到期日期", "已缴租金"]  # fmt: skip


@pytest.fixture
def park(tmp_path):
    """甲 leases P1 out (15 亩 at 1,200 元), 乙 holds P2 by requisition, 丙 uses land with
    no parcel of its own (it holds nothing), L1 is leased in from 村."""
    parcels_frame(
        [
            ("P1", "leased_out", "泰州甲机械有限公司", rect(0, 0, 100, 100)),
            ("P2", "requisitioned", "泰州乙化工有限公司", rect(200, 0, 300, 100)),
            ("L1", "leased_in", "村", rect(100, 0, 200, 100)),
        ]
    ).to_file(tmp_path / "p.gpkg")
    footprints_frame(
        [
            ("F1", "泰州甲机械有限公司", rect(0, 0, 60, 100)),
            ("F2", "泰州乙化工有限公司", rect(200, 0, 260, 100)),
            ("F3", "泰州丙物流有限公司", rect(120, 20, 160, 70)),  # 40 × 50 on L1
        ]
    ).to_file(tmp_path / "f.gpkg")
    (tmp_path / "c.toml").write_text("[campaign]\nas_of = 2024-06-30\n", encoding="utf-8")
    return tmp_path


def audit(park, *registers, extra=()):
    out = park / "out"
    args = ["audit", str(park / "p.gpkg"), str(park / "f.gpkg"), "-o", str(out), "-q"]
    for register in registers:
        args += ["--registers", str(register)]
    args += ["--config", str(park / "c.toml"), *extra]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def findings(park) -> pd.DataFrame:
    return pd.read_csv(park / "out" / "findings.csv", encoding="utf-8-sig", dtype=str)


def problems(park) -> pd.DataFrame:
    return pd.read_csv(park / "out" / "problems.csv", encoding="utf-8-sig", dtype=str)


def workbook(path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


# ------------------------------------------------ rows that cannot be placed on the map


def test_registers_naming_parties_without_land(park):
    # 丙 uses 2,000 m² (3 亩) and holds no parcel: rated on the land it uses. Tax 0.3 万元
    # on 3 亩 = 0.1 万元/亩, revenue 3 万元 = 1 万元/亩: far below every benchmark, class D.
    # 丁 holds nothing and uses nothing: no land to rate (无数据), no finding.
    # The fee register has no 宗地代码 column (it is optional): 乙 owes 100,000 on its
    # land; 戊 holds no parcel and owes 5,000, a finding without a place on the map.
    registers = workbook(
        park / "台账.xlsx",
        {
            "亩均效益": [
                ["企业名称", "税收（万元）", "营业收入（万元）"],
                ["泰州丙物流有限公司", 0.3, 3],
                ["泰州丁贸易有限公司", 0.1, 1],
            ],
            "征用费用": [
                ["权利人", "应缴费用", "已缴费用", "缴费期限"],
                ["泰州乙化工有限公司", 300000, 200000, "2023-12-31"],
                ["泰州戊建材有限公司", 5000, 0, "2023-12-31"],
            ],
        },
    )
    result = audit(park, registers, extra=["--map", "--report", "--fieldkit", "--xlsx"])
    assert result.exit_code == 0, result.output
    table = findings(park).set_index("权利人/使用人")
    low = table[table["类别代码"] == "low_efficiency"]
    assert low.index.tolist() == ["泰州丙物流有限公司"]
    assert float(low["面积（平方米）"].iloc[0]) == pytest.approx(2000.0)
    fees = table[table["类别代码"] == "fee_arrears"]
    assert sorted(fees.index) == ["泰州乙化工有限公司", "泰州戊建材有限公司"]
    assert float(fees.loc["泰州乙化工有限公司", "欠缴金额（元）"]) == pytest.approx(100_000)
    assert float(fees.loc["泰州戊建材有限公司", "欠缴金额（元）"]) == pytest.approx(5_000)
    landless = fees.loc["泰州戊建材有限公司"]
    assert pd.isna(landless["经度"]) and pd.isna(landless["宗地代码"])
    assert (park / "out" / "map.html").is_file() and (park / "out" / "report.xlsx").is_file()


# ------------------------------------------------ cells that only look empty


def test_a_formula_without_a_computed_value_is_set_aside(park):
    # openpyxl (like any script) writes the formula but no computed value: read as empty,
    # a rent of 15 × 700 = 10,500 would silently become 0.
    registers = workbook(
        park / "租赁.xlsx",
        {
            "租赁台账": [
                [*LEASE_HEADER[:4], "年租金", *LEASE_HEADER[5:7]],
                ["HT-1", "P1", "泰州甲机械有限公司", 15, "=15*700", "2024-01-01", "2033-12-31"],
            ]
        },
    )
    result = audit(park, registers)
    assert result.exit_code == 0, result.output
    row = problems(park).iloc[0]
    # The formula is shown as text: the CSV never holds a cell Excel would run.
    shown = (row["行"], row["编号"], row["列"], row["内容"])
    assert shown == ("2", "HT-1", "annual_rent", "'=15*700")
    assert "formula without a computed value" in row["问题"]
    assert "rent_arrears" not in set(findings(park)["类别代码"])


def test_merged_cells(park):
    # The lessee is merged over rows 2–3 (one name for two contracts): both rows are 甲's.
    # The paid rent is merged over rows 2–3: one amount for two rows cannot be split, so
    # both rows are set aside rather than one of them silently losing its payment.
    path = park / "合并.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "租赁台账"
    ws.append(["租赁台账（截至2024年6月）"])
    ws.merge_cells("A1:H1")  # a title merged across columns: not data
    ws.append(LEASE_HEADER)
    ws.append(["HT-1", "P1", "泰州甲机械有限公司", 10, 1200, "2024-01-01", "2033-12-31", 0])
    ws.append(["HT-2", "P1", None, 5, 1200, "2024-01-01", "2033-12-31", None])
    ws.append(["HT-3", "P1", None, 5, 1200, "2024-01-01", "2033-12-31", 0])
    ws.merge_cells("C3:C5")
    ws.merge_cells("H3:H4")
    wb.save(path)
    with pytest.warns(Warning, match=r"rows 3–5 of column 'party' are one merged cell"):
        leases = read_register(path, "leases")
    assert leases["lease_id"].tolist() == ["HT-3"]
    assert leases["party"].tolist() == ["泰州甲机械有限公司"]
    set_aside = leases.attrs["landgis"]["problems"]
    assert [(p["row"], p["key"], p["column"]) for p in set_aside] == [
        (3, "HT-1", "paid"),
        (4, "HT-2", "paid"),
    ]
    assert all("merged across rows" in p["problem"] and "(rows 3–4)" in p["problem"]
               for p in set_aside)  # fmt: skip
    result = audit(park, path)
    assert result.exit_code == 0, result.output
    trail = json.loads((park / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("rows 3–5 of column 'party' are one merged cell" in w for w in trail["warnings"])


# ------------------------------------------------ numbers that are not amounts


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (1e308, "implausibly large"),
        ("1e309", "not a finite number"),
        ("inf", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("NaN", "not a finite number"),
        ("#DIV/0!", "an Excel error value"),
        (-1200, "negative"),
    ],
)
def test_numbers_that_are_not_amounts_are_set_aside(park, cell, problem):
    registers = workbook(
        park / "租赁.xlsx",
        {
            "租赁台账": [
                LEASE_HEADER,
                ["HT-1", "P1", "泰州甲机械有限公司", 15, cell, "2024-01-01", "2033-12-31", 0],
            ]
        },
    )
    result = audit(park, registers, extra=["--xlsx"])
    assert result.exit_code == 0, result.output
    row = problems(park).iloc[0]
    assert (row["行"], row["编号"], row["列"]) == ("2", "HT-1", "rent_per_mu_year")
    assert problem in row["问题"]
    text = (park / "out" / "findings.csv").read_text(encoding="utf-8-sig")
    assert "inf" not in text.lower() and "nan" not in text.lower()


# ------------------------------------------------ text


def test_a_nul_byte_in_a_csv_register_is_removed_and_named(park):
    rows = [
        LEASE_HEADER,
        ["HT-1", "P1", "泰州甲\x00机械有限公司", "15", "1200", "2024-01-01", "2033-12-31", "0"],
    ]
    path = park / "租赁.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    clean = park / "干净.csv"
    with clean.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([rows[0], [c.replace("\x00", "") for c in rows[1]]])

    result = audit(park, path)
    assert result.exit_code == 0, result.output
    data = (park / "out" / "findings.csv").read_bytes()
    assert b"\x00" not in data
    poisoned = findings(park)
    trail = json.loads((park / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any("control characters removed from column 'party' in HT-1 (row 2)" in w
               for w in trail["warnings"])  # fmt: skip
    assert trail["registers"]["leases"]["encoding"] == [
        {"name": "gb18030", "reason": "the text is not valid UTF-8"}
    ]
    audit(park, clean)
    expected = findings(park)
    # The arrears match the holder as if the byte had never been there.
    arrears = poisoned[poisoned["类别代码"] == "rent_arrears"]
    assert arrears["权利人/使用人"].tolist() == ["泰州甲机械有限公司"]
    pd.testing.assert_frame_equal(arrears, expected[expected["类别代码"] == "rent_arrears"])


def test_a_csv_register_with_a_title_line_is_recognised(park):
    # Excel's "save as CSV" of a sheet with a title row: the first line has one cell.
    path = park / "租赁.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["泰州示范园区土地租赁台账（截至2024年6月）"])
        writer.writerow(LEASE_HEADER)
        writer.writerow(["HT-1", "P1", "泰州甲机械有限公司", "15", "1200", "2024-01-01",
                         "2033-12-31", "0"])  # fmt: skip
    leases = read_register(path, "leases")
    assert leases.index.tolist() == [3]  # the row number a user sees in Excel
    assert leases["rent_per_mu_year"].tolist() == [1200.0]
    result = audit(park, path)
    assert result.exit_code == 0, result.output
    assert "rent_arrears" in set(findings(park)["类别代码"])
