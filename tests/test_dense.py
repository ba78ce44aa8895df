"""Dense red lines (issue 19, item 11): the same findings, drawn with many more vertices.

Timings are in ``bench/bench_dense.py``; these tests check the figures.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import landgis
from landgis.engine.ops import DENSE_VERTICES, THIN_GRIDS, thin
from landgis.synthetic import densify, sampled_circle

KEY = ["category", "holder", "parcel_id", "other_holder", "other_parcel_id"]


@pytest.fixture(scope="module")
def sample():
    return (
        landgis.read_parcels(landgis.get_path("parcels")),
        landgis.read_footprints(landgis.get_path("footprints")),
        landgis.read_planning(landgis.get_path("planning")),
    )


def with_geometry(frame: gpd.GeoDataFrame, rows, make) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    for i in rows:
        geoms[i] = make(geoms[i])
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def findings(parcels, footprints, planning) -> pd.DataFrame:
    result = landgis.audit(parcels, footprints, planning=planning, min_area=0)
    table = result.findings[[*KEY, "area_m2"]].fillna("")
    return table.sort_values([*KEY, "area_m2"]).reset_index(drop=True), result


def assert_same(dense, plain, rtol=1e-6):
    (a, audit_a), (b, audit_b) = dense, plain
    pd.testing.assert_frame_equal(a[KEY], b[KEY])
    np.testing.assert_allclose(a["area_m2"], b["area_m2"], rtol=rtol)
    holders_a, holders_b = audit_a.holders.sort_index(), audit_b.holders.sort_index()
    assert list(holders_a.index) == list(holders_b.index)
    np.testing.assert_allclose(holders_a, holders_b, rtol=rtol, atol=rtol * 10_000)
    use_a, use_b = audit_a.parcel_use, audit_b.parcel_use
    np.testing.assert_allclose(use_a["used_m2"], use_b["used_m2"], rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("vertices", [20_000, 200_000])
def test_densified_red_line_same_findings(sample, vertices):
    """华达's red line, its footprint lying along three of its edges, at 20k and 200k vertices."""
    parcels, footprints, planning = sample
    dense = with_geometry(parcels, [0], lambda g: densify(g, vertices))
    assert shapely.get_num_coordinates(dense.geometry.iloc[0]) == vertices + 1
    assert_same(findings(dense, footprints, planning), findings(parcels, footprints, planning))


def test_every_red_line_and_footprint_densified(sample):
    """Dense against dense: shared and overlapping edges drawn with different vertices."""
    parcels, footprints, planning = sample
    dense_parcels = with_geometry(parcels, range(len(parcels)), lambda g: densify(g, 3_001))
    dense_footprints = with_geometry(
        footprints, range(len(footprints)), lambda g: densify(g, 2_003)
    )
    assert_same(
        findings(dense_parcels, dense_footprints, planning),
        findings(parcels, footprints, planning),
    )


def test_finely_sampled_circle(sample):
    """A round red line at 100k and 400k vertices: the same findings (the polygons differ
    from each other by 1e-9 of their area)."""
    parcels, footprints, planning = sample
    x0, y0 = parcels.geometry.iloc[0].bounds[:2]

    def disc(vertices):
        return with_geometry(parcels, [0], lambda g: sampled_circle(x0 + 50, y0 + 50, 50, vertices))

    fine = findings(disc(400_000), footprints, planning)
    assert_same(fine, findings(disc(100_000), footprints, planning))
    table = fine[0]
    corners = table[
        (table["category"] == "outside_redline") & (table["parcel_id"] == "321202001001")
    ]
    # Four corners of 华达's footprint outside the round red line: (100² − π·50²)/4 each.
    np.testing.assert_allclose(corners["area_m2"], (100**2 - np.pi * 50**2) / 4, rtol=1e-6)


def test_thin_keeps_small_geometries_untouched():
    small = np.array(
        [shapely.box(0, 0, 1, 1), densify(shapely.box(0, 0, 9, 9), DENSE_VERTICES - 1)]
    )
    out = thin(small, grid_size=1e-6)
    assert out[0] is small[0] and out[1] is small[1]
    dense = np.array([densify(shapely.box(0, 0, 9, 9), 5 * DENSE_VERTICES)])
    assert thin(dense, grid_size=None)[0] is dense[0]


def test_thin_stays_within_a_tenth_of_the_grid():
    grid = 1e-6
    disc = sampled_circle(40_492_050.0, 3_596_050.0, 50, 100_000)
    square = densify(shapely.box(40_492_000.0, 3_596_000.0, 40_492_100.0, 3_596_100.0), 50_000)
    holed = shapely.Polygon(square.exterior, [disc.exterior.coords[::-1]])
    lean = thin(np.array([disc, square, holed]), grid_size=grid)
    assert shapely.is_valid(lean).all()
    assert shapely.get_num_coordinates(lean[1]) == 5  # collinear vertices: every one dropped
    assert shapely.get_num_coordinates(lean[0]) < 100_000 * 0.8  # arcs: some dropped
    for before, after in zip([disc, square, holed], lean, strict=True):
        # Douglas-Peucker keeps a subset of the vertices, so the boundaries are
        # that close everywhere once every vertex dropped is.
        boundary = after.boundary
        shapely.prepare(boundary)
        vertices = shapely.points(shapely.get_coordinates(before))
        assert shapely.dwithin(vertices, boundary, THIN_GRIDS * grid * 1.01).all()
