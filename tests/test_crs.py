"""CRS choice, Gauss-Krüger zones and area units."""

from __future__ import annotations

import pytest
from pyproj import CRS

import landgis
from landgis.crs import analysis_crs, gauss_kruger_crs, parse_crs, to_mu
from landgis.errors import CRSError


def test_mu_is_exact():
    assert to_mu(10000) == 15.0
    assert to_mu(10000 / 15) == pytest.approx(1.0, abs=1e-15)
    assert list(to_mu([666.6666666666666, 20000])) == pytest.approx([1.0, 30.0])


@pytest.mark.parametrize(
    ("lon", "prefixed", "plain"),
    [
        (119.9, 4528, 4549),  # Taizhou: CM 120°E, zone 40
        (112.4, 4525, 4546),  # Zhaoqing: zone round(112.4 / 3) = 37, CM 111°E
        (75.0, 4513, 4534),
        (135.0, 4533, 4554),
    ],
)
def test_gauss_kruger_zone(lon, prefixed, plain):
    assert gauss_kruger_crs(lon).to_epsg() == prefixed
    assert gauss_kruger_crs(lon, zone_prefix=False).to_epsg() == plain


def test_outside_china_zones():
    with pytest.raises(CRSError, match="outside the CGCS2000"):
        gauss_kruger_crs(10.0)


def test_metric_projected_layers_keep_their_crs():
    crs = CRS.from_epsg(4528)
    assert analysis_crs(crs, (0, 0, 1, 1)) == crs


def test_geographic_data_goes_to_the_zone_of_its_centre():
    crs = analysis_crs(CRS.from_epsg(4490), (119.90, 32.48, 119.93, 32.50))
    assert crs.to_epsg() == 4528


def test_geographic_data_outside_china_goes_to_utm():
    crs = analysis_crs(CRS.from_epsg(4326), (-84.40, 33.70, -84.38, 33.75))  # Atlanta
    assert crs.to_epsg() == 32616


def test_explicit_crs_wins_and_must_be_metric():
    assert analysis_crs(CRS.from_epsg(4490), (119.9, 32.4, 120, 32.5), crs=4549).to_epsg() == 4549
    with pytest.raises(CRSError, match="not a projected CRS in metres"):
        analysis_crs(None, (0, 0, 1, 1), crs=4326)
    with pytest.raises(CRSError, match="not a coordinate reference system"):
        parse_crs("EPSG:99999999")


def test_audit_of_geographic_layers_equals_the_projected_audit():
    p = landgis.read_parcels(landgis.get_path("parcels")).to_crs(4490)
    f = landgis.read_footprints(landgis.get_path("footprints")).to_crs(4490)
    geo = landgis.audit(p, f)
    assert geo.crs.to_epsg() == 4528
    assert geo.report["crs"] == "EPSG:4528"
    projected = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"))
    a = geo.findings.groupby("category")["area_m2"].sum()
    b = projected.findings.groupby("category")["area_m2"].sum()
    assert (a - b).abs().max() < 0.01  # a round trip through degrees moves areas < 1 cm²


def test_footprints_in_another_crs_are_reprojected_and_reported():
    f = landgis.read_footprints(landgis.get_path("footprints")).to_crs(4549)
    a = landgis.audit(landgis.get_path("parcels"), f)
    assert a.report["inputs"]["footprints"]["reprojected_from"] == "EPSG:4549"
    assert a.footprints.crs.to_epsg() == 4528
    direct = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"))
    assert sorted(a.findings["finding_id"]) == sorted(direct.findings["finding_id"])


def test_web_mercator_is_not_used_for_areas():
    p = landgis.read_parcels(landgis.get_path("parcels")).to_crs(3857)
    f = landgis.read_footprints(landgis.get_path("footprints")).to_crs(3857)
    a = landgis.audit(p, f)
    assert a.crs.to_epsg() == 4528  # not 3857, whose areas are 38 % too large here
    enc = a.findings.set_index("category").loc["encroachment", "area_m2"]
    assert enc == pytest.approx(2000, abs=0.01)
    with pytest.raises(CRSError, match="keeps areas"):
        landgis.audit(p, f, crs=3857)
