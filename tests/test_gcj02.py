"""GCJ-02: published coordinate pairs and the round trip back to WGS84."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from landgis.gcj02 import gcj02_to_wgs84, outside_china, wgs84_to_gcj02

# (WGS84 lon, lat) → (GCJ-02 lon, lat), as published with eviltransform (Shanghai,
# Shenzhen, Beijing) and coordtransform (Tiananmen).
PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]


@pytest.mark.parametrize(("wgs", "gcj"), PAIRS)
def test_forward_matches_published_pairs(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert (float(lon), float(lat)) == pytest.approx(gcj, abs=1e-9)


def test_shift_is_hundreds_of_metres_and_round_trip_within_a_millimetre():
    rng = np.random.default_rng(0)
    lon = rng.uniform(75, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    geod = Geod(ellps="WGS84")
    _, _, shift = geod.inv(lon, lat, glon, glat)
    assert 50 < np.median(shift) < 1000
    blon, blat = gcj02_to_wgs84(glon, glat)
    _, _, error = geod.inv(lon, lat, blon, blat)
    assert error.max() < 1e-3  # metres; the acceptance asks for 1 m


def test_outside_china_is_unchanged():
    assert outside_china(2.35, 48.85)
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (float(lon), float(lat)) == (2.35, 48.85)
