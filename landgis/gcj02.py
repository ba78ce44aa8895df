"""WGS84 ↔ GCJ-02, the offset coordinates of Chinese web maps (Gaode/AMap, Tencent).

Gaode's tiles are drawn in GCJ-02, which differs from WGS84/CGCS2000 by a few
hundred metres; data drawn on them must be shifted.  PROJ has no such
transformation (the offset is not a geodetic datum), so this module implements
the published forward formula, vectorized, and inverts it by fixed-point
iteration (error below 1 mm after a few steps).  Points outside mainland China
are left unchanged, as the web maps do.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gcj02_to_wgs84", "outside_china", "wgs84_to_gcj02"]

_A = 6378245.0  # semi-major axis of Krasovsky 1940, as the formula uses it
_EE = 0.00669342162296594323  # its first eccentricity squared


def outside_china(lon, lat):
    """True where the offset is not applied (the rough box the formula uses)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """Shift WGS84 longitudes/latitudes (degrees, arrays or scalars) to GCJ-02.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410244, 39.916404)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    away = outside_china(lon, lat)
    return np.where(away, lon, lon + dlon), np.where(away, lat, lat + dlat)


def gcj02_to_wgs84(lon, lat, *, iterations: int = 6):
    """Shift GCJ-02 coordinates back to WGS84 (iteratively; < 1 mm after 6 steps)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat
