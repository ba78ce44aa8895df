"""Wording a Chinese land office would not have to correct: headers, labels, units, order."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from landgis.cli import main
from landgis.order import pinyin_order
from landgis.rules import CATEGORIES


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_no_label_contains_another():
    labels = [c.label for c in CATEGORIES.values()]
    assert [(a, b) for a in labels for b in labels if a != b and a in b] == []
    assert CATEGORIES["idle_leased"].label == "租出未用"  # the code stays idle_leased


def test_every_table_a_person_reads_has_chinese_headers(demo):
    for name in ("findings.csv", "summary.csv", "holders.csv", "evaluation.csv", "problems.csv"):
        english = [h for h in read(demo / name).columns if re.search(r"[A-Za-z]{2}", h)]
        assert english == [], name
    wb = load_workbook(demo / "report.xlsx")
    header = [c.value for c in wb["亩均效益评价"][1]]
    assert "亩均税收得分" in header and not [h for h in header if re.search(r"[a-z]_", h)]
    header = [c.value for c in wb["租金缴纳明细"][1]]
    assert header[:4] == ["合同编号", "宗地代码", "承租方", "缴款方式"]


def test_exempt_enterprises_have_no_score(demo):
    evaluation = read(demo / "evaluation.csv").set_index("权利人/使用人")
    jiahe = evaluation.loc["泰州嘉禾农业发展有限公司"]
    assert jiahe["评价类别"] == "免评" and jiahe["综合得分"] == ""
    assert all(jiahe[c] == "" for c in evaluation.columns if c.endswith("得分"))
    assert evaluation.loc["泰州金鼎化工有限公司", "综合得分"] == "8.83"


def test_percentages_and_one_format_per_unit(demo):
    findings = read(demo / "findings.csv").set_index("类别代码")
    # 租而无用: 绿源 uses 1,500 of 20,000 m² = 7.5 %, written 7.5 (not 0.075)
    assert findings.loc["leased_in_unused", "使用率（%）"] == "7.5"
    two = re.compile(r"^-?\d+\.\d{2}$")
    for name, columns in (
        ("findings.csv", ["面积（平方米）", "面积（亩）", "欠缴金额（元）", "年租金（元）"]),
        ("summary.csv", ["面积（平方米）", "面积（亩）", "金额（元）"]),
        ("holders.csv", ["实际使用（平方米）", "违规用地面积（亩）", "金额（元）"]),
    ):
        table = read(demo / name)
        for column in columns:
            values = [v for v in table[column] if v]
            assert values and all(two.match(v) for v in values), (name, column, values[:3])
    assert all(re.match(r"^\d+$", v) for v in findings["逾期天数"] if v)


def test_summary_follows_the_routing_the_findings_carry(demo):
    summary = read(demo / "summary.csv")
    outside = summary[summary["类别代码"] == "outside_redline"]
    # 绿源's shed → 企业组; 嘉禾's greenhouse strip lies in 现代农业园 → its own group
    assert outside[["责任工作组", "数量"]].values.tolist() == [
        ["企业组", "1"],
        ["现代农业园农业农村组", "1"],
    ]


def test_streets_and_holders_in_pinyin_order(demo):
    assert pinyin_order(["京泰路街道", "城东街道"]) == ["城东街道", "京泰路街道"]
    assert pinyin_order(["朱庄村", "周庄村", "塘湾村", "迎春社区"]) == [
        "塘湾村", "迎春社区", "周庄村", "朱庄村",
    ]  # fmt: skip
    findings = read(demo / "findings.csv")
    for _, rows in findings.groupby("类别代码", sort=False):
        streets = list(dict.fromkeys(rows["街道"]))
        assert streets == pinyin_order(streets)
    wb = load_workbook(demo / "report.xlsx")
    rows = [r[0] for r in wb["汇总"].iter_rows(values_only=True)]
    start = rows.index("按街道")
    assert rows[start + 2 : start + 5] == ["城东街道", "京泰路街道", "合计"]
    # holders in one street and category: 泰州恒信 (héng) before 泰州华达 (huá)
    assert (
        pinyin_order(["泰州华达精密机械有限公司", "泰州恒信置业有限公司"])[0]
        == "泰州恒信置业有限公司"
    )
