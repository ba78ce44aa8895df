"""The audit on a classified raster: footprints vectorized, users from the parcels,
idle land decided with the exact built-up share; maps with an orthophoto; the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import landgis
from landgis.cli import main
from landgis.errors import ConfigError
from tests.conftest import parcels_frame, rect

rasterio = pytest.importorskip("rasterio")

from tests.test_raster import write_tif  # noqa: E402

ROWS, COLS = 20, 40  # 1 m pixels; column c is x ∈ [c, c + 1), row r is y ∈ [19 − r, 20 − r)


@pytest.fixture
def park(tmp_path):
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 10, 20)),
            ("P2", "requisitioned", "B", rect(10, 0, 20, 20)),
            ("P3", "leased_out", "C", rect(25, 0, 35, 20)),
        ]
    )
    a = np.zeros((ROWS, COLS), np.uint8)
    a[5:15, 1:13] = 1  # 120 m²: 90 in P1 and 30 in P2 → A's (share 0.75)
    a[0:5, 36:40] = 1  # 20 m² outside every red line → nobody's
    a[18, 20] = 2  # another class: not actual use
    path = tmp_path / "built.tif"
    write_tif(path, a)
    parcels.to_file(tmp_path / "parcels.gpkg")
    return tmp_path / "parcels.gpkg", path


def by_category(findings):
    return findings.groupby("category")["area_m2"].sum().round(6).to_dict()


def test_audit_of_a_raster_by_hand(park):
    parcels, raster = park
    a = landgis.audit(parcels, raster, raster={"classes": 1}, min_area=0)
    # P2 is B's and B uses none of it, but A's building covers 30 of its 200 m²
    # (share 0.15 ≥ 0.1): built up, so not idle; P3 (C, 200 m²) is empty.
    assert by_category(a.findings) == {
        "encroachment": 30.0,
        "outside_redline": 20.0,
        "idle_leased": 200.0,
    }
    enc = a.findings.set_index("category").loc["encroachment"]
    assert (enc["holder"], enc["other_holder"], enc["other_parcel_id"]) == ("A", "B", "P2")
    outside = a.findings.set_index("category").loc["outside_redline"]
    assert outside["holder"] == "未知使用人"
    assert len(a.footprints) == 2 and set(a.footprints["class"]) == {1}
    assert a.trail()["inputs"]["footprints"]["raster"]["classes"] == [1]


def test_the_same_footprints_as_vectors_leave_b_idle(park):
    parcels, raster = park
    footprints = landgis.footprints_from_raster(
        raster, classes=1, parcels=landgis.read_parcels(parcels), unknown_user="未知使用人"
    )
    a = landgis.audit(parcels, footprints, min_area=0)
    # Without the raster, only B's own use counts: P2 is idle (200 − 0 m²).
    assert by_category(a.findings)["idle_requisitioned"] == 200.0


def test_raster_options_are_checked(park):
    parcels, raster = park
    with pytest.raises(ConfigError, match="--classes 50"):
        landgis.audit(parcels, raster)
    with pytest.raises(ConfigError, match="unknown option"):
        landgis.audit(parcels, raster, raster={"classes": 1, "colour": 3})
    with pytest.raises(ConfigError, match="not a raster"):
        landgis.audit(parcels, landgis.get_path("footprints"), raster={"classes": 1})


def test_cli_audits_a_raster_and_draws_the_orthophoto(park, tmp_path):
    parcels, raster = park
    out = tmp_path / "out"
    args = ["audit", str(parcels), str(raster), "--classes", "1", "--min-area", "0"]
    args += ["--map", "--orthophoto", str(raster), "--basemap", "none", "-o", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert sorted(csv["类别代码"]) == ["encroachment", "idle_leased", "outside_redline"]
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html


def test_cli_raster_without_classes_is_a_usage_error(park):
    parcels, raster = park
    result = CliRunner().invoke(main, ["audit", str(parcels), str(raster), "-o", "x", "-q"])
    assert result.exit_code == 2
    assert "--classes" in result.output and "Traceback" not in result.output


def test_change_command_between_two_rasters(tmp_path):
    before = np.zeros((ROWS, COLS), np.uint8)
    before[5:15, 1:6] = 1  # 50 m², grows by 20 m² to the right
    before[0:2, 30:40] = 1  # 20 m², removed
    after = before.copy()
    after[5:15, 6:8] = 1
    after[0:2, 30:40] = 0
    after[16:20, 20:25] = 1  # 20 m², new
    b = write_tif(tmp_path / "b.tif", before)
    a = write_tif(tmp_path / "a.tif", after)
    out = tmp_path / "change"
    args = ["change", str(b), str(a), "--classes", "1", "-o", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(out / "change.csv", encoding="utf-8-sig")
    areas = csv.groupby("类别代码")["面积（平方米）"].sum().round(3).to_dict()
    assert areas == {"use_grown": 20.0, "use_new": 20.0, "use_removed": 20.0}
    assert (out / "change.gpkg").is_file() and (out / "change.html").is_file()
