"""The landgis command: demo, audit, options, exit codes and messages."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

import landgis
from landgis.cli import main
from tests.conftest import CRS, rect


@pytest.fixture
def runner():
    return CliRunner()


def test_demo_writes_csv_gpkg_and_summaries(runner, tmp_path):
    result = runner.invoke(main, ["demo", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    for name in (
        "findings.csv",
        "findings.xlsx",
        "findings.gpkg",
        "summary.csv",
        "holders.csv",
        "summary.json",
    ):
        assert (out / name).is_file(), name
    # 14 from the red lines and the survey, 4 from the registers (data/boundaries/README.md)
    assert "18 findings" in result.output
    assert "1 register row(s) set aside" in result.output
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert len(csv) == 18
    assert (out / "findings.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(csv.columns[:4]) == ["编号", "类别代码", "问题类别", "权利人/使用人"]
    gpkg = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert sorted(gpkg["finding_id"]) == sorted(csv["编号"])
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(out / "findings.gpkg")}
    assert layers >= {
        "findings",
        "parcels",
        "footprints",
        "planning",
        "admin",
        "holders",
        "parcel_use",
        "evaluation",
    }


def test_audit_command_with_options(runner, tmp_path):
    p, f = landgis.get_path("parcels"), landgis.get_path("footprints")
    result = runner.invoke(
        main,
        [
            "audit",
            str(p),
            str(f),
            "-o",
            str(tmp_path),
            "--min-area",
            "0",
            "--lang",
            "en",
            "--idle-ratio",
            "0.05",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig")
    assert list(csv.columns[:3]) == ["finding_id", "category", "category_label"]
    # 金鼎 uses 9 % of its parcel: idle at 0.1, not at 0.05.
    assert "idle_requisitioned" not in set(csv["category"])
    assert "Encroachment on another holder's land" in set(csv["category_label"])
    # Without --planning the empty 周庄 lease is 'unused' (no plan, not allocated).
    assert "leased_in_unused" in set(csv["category"])


def test_bad_input_exits_2_with_message_and_no_traceback(runner, tmp_path):
    frame = gpd.GeoDataFrame(
        {"宗地代码": ["1"], "取得方式": ["征用"], "geometry": [rect(0, 0, 1, 1)]}, crs=CRS
    )
    path = tmp_path / "p.gpkg"
    frame.to_file(path)
    result = runner.invoke(
        main, ["audit", str(path), str(landgis.get_path("footprints")), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "required column 'holder' not found" in result.output
    assert str(path) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "findings.csv").exists()


def test_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["audit", str(tmp_path / "nope.gpkg"), "x", "-o", "o"])
    assert result.exit_code == 2
    assert "nope.gpkg: file not found" in result.output


def test_bad_config_exits_2(runner, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[deadlines]\nrectify = 'soon'\n", encoding="utf-8")
    result = runner.invoke(main, ["demo", "-o", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0
    result = runner.invoke(
        main,
        [
            "audit",
            str(landgis.get_path("parcels")),
            str(landgis.get_path("footprints")),
            "-o",
            str(tmp_path / "o"),
            "--config",
            str(cfg),
        ],
    )
    assert result.exit_code == 2
    assert "deadlines.rectify = 'soon' is not a date" in result.output


def test_every_option_is_explained_in_help(runner):
    result = runner.invoke(main, ["audit", "--help"])
    assert result.exit_code == 0
    for option in (
        "--planning",
        "--admin",
        "--crs",
        "--min-area",
        "--idle-ratio",
        "--grid-size",
        "--lang",
        "--config",
        "--aliases",
        "--encoding",
        "--quiet",
    ):
        assert option in result.output


def test_console_script_is_installed():
    # The entry point works as a real process (what users type).
    done = subprocess.run(
        [sys.executable, "-m", "landgis.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert landgis.__version__ in done.stdout
