"""Findings: where they are (street, village) and who is named."""

from __future__ import annotations

import geopandas as gpd

import landgis
from tests.conftest import CRS, footprints_frame, parcels_frame, rect


def test_excess_is_located_where_the_land_lies_not_at_the_holders_parcel():
    parcels = parcels_frame(
        [
            ("A1", "requisitioned", "甲", rect(0, 0, 100, 100)),  # 东街道
            ("B1", "requisitioned", "乙", rect(100, 0, 200, 100)),  # 西街道
            ("L1", "leased_in", "张村", rect(100, 100, 200, 200)),  # 西街道
        ]
    )
    parcels["street"] = ["东街道", "西街道", "西街道"]
    footprints = footprints_frame(
        [
            ("F1", "甲", rect(50, 10, 150, 60)),  # into B1
            ("F2", "甲", rect(50, 120, 150, 180)),  # outside, then into L1
        ]
    )
    f = landgis.audit(parcels, footprints).findings
    spatial = f[f["category"].isin(["encroachment", "unleased_use", "overuse_requisitioned"])]
    assert set(spatial["street"]) == {"西街道"}
    outside = f[f["category"] == "outside_redline"]
    assert len(outside) == 1
    # 50–100 × 120–180, nearest red lines: A1 (20 m below) and L1 (touching): L1.
    assert outside["street"].iloc[0] == "西街道"


def test_admin_areas_win_over_parcels():
    parcels = parcels_frame([("A1", "requisitioned", "甲", rect(0, 0, 100, 100))])
    parcels["street"] = ["错误街道"]
    admin = gpd.GeoDataFrame(
        {"street": ["城东街道"], "village": ["朱庄村"], "geometry": [rect(-500, -500, 500, 500)]},
        crs=CRS,
    )
    footprints = footprints_frame([("F1", "甲", rect(0, 0, 150, 100))])
    f = landgis.audit(parcels, footprints, admin=admin).findings
    assert f[["street", "village"]].drop_duplicates().values.tolist() == [["城东街道", "朱庄村"]]


def test_registered_areas_in_mu_under_a_square_metre_name_are_recognised():
    parcels = parcels_frame(
        [(f"P{i}", "requisitioned", "甲", rect(200 * i, 0, 200 * i + 100, 100)) for i in range(4)]
    )
    parcels["面积"] = [15.0, 15.0, 15.0, 16.2]  # a register in 亩 under the name 面积 (m²)
    footprints = footprints_frame([("F", "甲", rect(0, 0, 100, 100))])
    with __import__("pytest").warns(landgis.LandgisWarning, match="look like mu"):
        audit = landgis.audit(parcels, footprints)
    mismatch = audit.findings[audit.findings["category"] == "area_mismatch"]
    assert mismatch["parcel_id"].tolist() == ["P3"]
    assert any("look like mu" in w for w in audit.report["warnings"])
