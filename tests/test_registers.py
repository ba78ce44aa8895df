"""Registers from Excel and CSV: header rows, encodings, aliases, row-level problems."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landgis
from landgis.errors import InputFileError, LandgisError, SchemaError
from landgis.io.registers import read_register

LEASES_CSV = """\
宗地代码,承租方,租赁方向,租赁面积（亩）,租金单价,起租日期,到期日期,已缴租金
321202001003,泰州绿源食品有限公司,租出,15,"1,200",2023-01-01,2032-12-31,18000
321202001002,朱庄村股份经济合作社,租入,15,800,2022/7/1,2037年6月30日,
合计,,,30,,,,18000
"""


def test_gbk_csv_with_a_total_row(tmp_path):
    path = tmp_path / "租赁台账.csv"
    path.write_bytes(LEASES_CSV.encode("gbk"))
    leases = read_register(path, "leases")
    assert leases["parcel_id"].tolist() == ["321202001003", "321202001002"]
    assert leases["direction"].tolist() == ["leased_out", "leased_in"]
    assert leases["rent_per_mu_year"].tolist() == [1200.0, 800.0]
    assert leases["end_date"].dt.date.astype(str).tolist() == ["2032-12-31", "2037-06-30"]
    assert leases.index.tolist() == [2, 3]  # rows as numbered in the file
    assert pd.isna(leases.loc[3, "paid"])
    assert leases.attrs["landgis"]["problems"] == []


def test_utf8_with_bom(tmp_path):
    path = tmp_path / "leases.csv"
    path.write_bytes(LEASES_CSV.encode("utf-8-sig"))
    assert read_register(path, "leases")["party"].iloc[0] == "泰州绿源食品有限公司"


def test_workbook_with_a_title_row_above_the_header(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["某园区企业亩均效益数据（2024年度）"])
    ws.append([])
    ws.append(
        ["序号", "企业名称", "统一社会信用代码", "税收（万元）", "营业收入（万元）", "是否豁免"]
    )
    ws.append([1, "泰州华达精密机械有限公司", "91321202MA1XXXXXXX", 120.5, 3400, "否"])
    ws.append([2, "泰州新泰电子科技有限公司", "91321202MA1YYYYYYY", "无", 2100, "是"])
    path = tmp_path / "企业.xlsx"
    wb.save(path)
    with pytest.warns(landgis.LandgisWarning, match="row 5, tax = '无': not a number"):
        firms = read_register(path, "enterprises")
    assert firms["party"].tolist() == ["泰州华达精密机械有限公司"]
    assert firms.loc[4, "tax"] == 120.5 and firms.loc[4, "revenue"] == 3400
    assert not firms.loc[4, "exempt"]
    problem = firms.attrs["landgis"]["problems"][0]
    assert (problem["row"], problem["column"], problem["value"]) == (5, "tax", "无")
    assert problem["source"].endswith("企业.xlsx [Sheet]")


def test_bad_rows_are_set_aside_with_row_column_and_value(tmp_path):
    path = tmp_path / "leases.csv"
    path.write_text(
        "合同编号,宗地代码,起租日期,到期日期,租赁面积,租金单价\n"
        "H1,P1,2024-01-01,2030-12-31,10,800\n"
        "H2,P2,2024-01-01,2023-12-31,10,800\n"  # ends before it starts
        "H3,P3,2024-01-01,2030-12-31,-5,800\n"  # negative area
        "H4,P4,2024-13-01,2030-12-31,10,800\n"  # no such month
        "H5,,2024-01-01,2030-12-31,10,800\n",  # no parcel
        encoding="utf-8",
    )
    with pytest.warns(landgis.LandgisWarning, match="set aside 4 row"):
        leases = read_register(path, "leases")
    assert leases["lease_id"].tolist() == ["H1"]
    found = {(p["row"], p["column"], p["problem"]) for p in leases.attrs["landgis"]["problems"]}
    assert found == {
        (3, "end_date", "ends before it starts"),
        (4, "contracted_area_mu", "negative"),
        (5, "start_date", "not a date (write 2024-06-30)"),
        (6, "parcel_id", "empty"),
    }


def test_user_aliases_and_errors(tmp_path):
    table = pd.DataFrame({"DK": ["P1"], "KS": ["2024-01-01"], "JS": ["2025-01-01"]})
    with pytest.raises(SchemaError, match="required column 'parcel_id' not found"):
        read_register(table, "leases")
    leases = read_register(
        table, "leases", columns={"DK": "parcel_id", "KS": "start_date", "JS": "end_date"}
    )
    assert leases["parcel_id"].tolist() == ["P1"]
    with pytest.raises(InputFileError, match="file not found"):
        read_register(tmp_path / "none.xlsx", "fees")
    (tmp_path / "x.ods").write_text("x")
    with pytest.raises(InputFileError, match="unknown register format"):
        read_register(tmp_path / "x.ods", "fees")
    with pytest.raises(ValueError, match="kind="):
        read_register(table, "rents")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_csv_text_gives_rows_or_a_landgis_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "r.csv"
    path.write_text("宗地代码,起租日期,到期日期,租金单价\n" + text, encoding="utf-8")
    try:
        result = read_register(path, "leases")
    except LandgisError:
        return
    assert isinstance(result, pd.DataFrame)
