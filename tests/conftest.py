"""Shared fixtures: tiny hand-made layers in EPSG:4528 (GK zone 40, prefix)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

X0, Y0 = 40_492_000.0, 3_596_000.0
CRS = "EPSG:4528"


def rect(x1, y1, x2, y2):
    """A rectangle in local metres from (X0, Y0)."""
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def parcels_frame(rows, *, crs=CRS) -> gpd.GeoDataFrame:
    """rows: (parcel_id, tenure, holder, geometry)."""
    return gpd.GeoDataFrame(
        [{"parcel_id": pid, "tenure": t, "holder": h, "geometry": g} for pid, t, h, g in rows],
        geometry="geometry",
        crs=crs,
    )


def footprints_frame(rows, *, crs=CRS) -> gpd.GeoDataFrame:
    """rows: (footprint_id, user, geometry)."""
    return gpd.GeoDataFrame(
        [{"footprint_id": fid, "user": u, "geometry": g} for fid, u, g in rows],
        geometry="geometry",
        crs=crs,
    )


@pytest.fixture
def two_parcels():
    return parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 100, 100)),
            ("P2", "leased_in", "村1", rect(100, 0, 200, 100)),
        ]
    )


@pytest.fixture
def one_footprint():
    return footprints_frame([("F1", "A", rect(0, 0, 120, 100))])
