"""The map's title and legend totals, read in Chromium (offline), against summary.csv.

The legend and the title are what a street office reads first; they must say what
summary.csv says: the number of findings, 违规用地面积 and 涉及地块面积 (each land once),
and the money owed in 元.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from landgis.cli import main
from tests.browser.test_map_browser import CHROMIUM, artifacts, browser, open_offline  # noqa: F401

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium not installed (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-totals")
    result = CliRunner().invoke(main, ["demo", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text))


def test_title_and_legend_totals_equal_summary_csv(browser, demo, tmp_path):  # noqa: F811
    summary = pd.read_csv(demo / "summary.csv", encoding="utf-8-sig", dtype=str,
                          keep_default_na=False)  # fmt: skip
    sums = summary[summary["问题类别"] == "合计"].set_index("计量口径")
    expected = {
        "findings": int(sums.loc["问题总数", "数量"]),
        "violation": float(sums.loc["违规用地面积", "面积（亩）"]),
        "parcel": float(sums.loc["涉及地块面积", "面积（亩）"]),
        "money": float(sums.loc["金额", "金额（元）"]),
    }
    # the sample park's figures, worked out in docs/rules.md
    assert expected == {"findings": 18, "violation": 16.05, "parcel": 132.0, "money": 121_798.90}

    page, events = open_offline(browser, demo / "map.html")
    assert not events["errors"]
    legend_title = page.locator(".lg-legend-title").inner_text()
    assert re.search(r"共\s*(\d+)\s*处", legend_title).group(1) == str(expected["findings"])
    shown = {}
    for line in page.locator(".lg-legend-total").all():
        code = line.get_attribute("data-total")
        text = line.locator(".lg-total-value").inner_text()
        shown[code] = number(text)
        assert text.endswith("元" if code == "money" else "亩"), text
    assert shown == {k: expected[k] for k in ("violation", "parcel", "money")}

    subtitle = page.locator(".lg-title-sub").inner_text()
    assert f"问题 {expected['findings']} 处" in subtitle
    assert f"违规用地面积 {expected['violation']:,.2f} 亩" in subtitle
    assert f"涉及地块面积 {expected['parcel']:,.2f} 亩" in subtitle
    assert f"欠缴金额 {expected['money']:,.2f} 元" in subtitle

    # Per category: the legend's count and figure are summary.csv's (rows of one category
    # routed to two groups are one legend row).
    rows = summary[summary["类别代码"] != ""]
    for row in page.locator(".lg-legend tr[data-category]").all():
        code = row.get_attribute("data-category")
        if code.startswith("tenure-"):
            continue
        mine = rows[rows["类别代码"] == code]
        assert int(row.locator(".lg-legend-count").inner_text()) == mine["数量"].astype(int).sum()
        figure = row.locator(".lg-legend-mu").inner_text()
        column = "金额（元）" if figure.endswith("元") else "面积（亩）"
        if len(mine) == 1:
            assert number(figure) == pytest.approx(float(mine[column].iloc[0])), code
    page.screenshot(path=str(artifacts(tmp_path) / "map-totals.png"))
