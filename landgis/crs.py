"""Coordinate reference systems and area units.

Areas are computed in a projected metric CRS, never in degrees.  Chinese survey
data is CGCS2000 in 3° Gauss-Krüger zones: EPSG = 4488 + zone with the zone
prefix on the easting (zones 25–45), 4509 + zone without it.
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import CRS

from landgis.errors import CRSError, GeometryError

__all__ = [
    "M2_PER_MU",
    "analysis_crs",
    "crs_from_coordinates",
    "ellipsoidal_area",
    "gauss_kruger_crs",
    "is_metric_projected",
    "parse_crs",
    "to_mu",
]

#: 1 亩 = 10000/15 m² exactly.
M2_PER_MU = 10000.0 / 15.0


def to_mu(area_m2):
    """Convert square metres to 亩 (mu); works on numbers and arrays.

    Examples
    --------
    >>> to_mu(10000)
    15.0
    """
    if np.ndim(area_m2):
        return np.asarray(area_m2, dtype=float) * 15.0 / 10000.0
    return float(area_m2) * 15.0 / 10000.0


def parse_crs(value, *, what: str = "crs") -> CRS:
    """Turn ``4528``, ``"EPSG:4528"``, WKT or a pyproj CRS into a :class:`pyproj.CRS`.

    Raises
    ------
    CRSError
        If pyproj does not recognise the value.
    """
    if isinstance(value, CRS):
        return value
    try:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError of its own, plus TypeError
        raise CRSError(
            f"{what}={value!r} is not a coordinate reference system pyproj knows; "
            "give an EPSG code such as 4528 (CGCS2000 3° GK zone 40) or a WKT."
        ) from exc


def is_metric_projected(crs: CRS) -> bool:
    """True when ``crs`` is projected in metres and keeps areas near true.

    (Web) Mercator is metric but enlarges areas by sec²(latitude) — 38 % at
    32°N — so it does not count; Transverse Mercator (Gauss-Krüger, UTM) does.
    """
    if not crs.is_projected:
        return False
    units = {ax.unit_name.lower() for ax in crs.axis_info}
    if not units <= {"metre", "meter", "m"}:
        return False
    method = (crs.coordinate_operation.method_name if crs.coordinate_operation else "").lower()
    return "mercator" not in method or "transverse" in method


def gauss_kruger_crs(lon: float, *, zone_prefix: bool = True) -> CRS:
    """The CGCS2000 3° Gauss-Krüger CRS whose central meridian is nearest ``lon``.

    Parameters
    ----------
    lon
        Longitude in degrees east.
    zone_prefix
        ``True`` (default) for the variant whose easting carries the zone
        number (EPSG 4513–4533), ``False`` for the "CM n°E" variant (4534–4554).

    Raises
    ------
    CRSError
        If ``lon`` lies outside the zones EPSG defines for China (75°E–135°E).

    Examples
    --------
    >>> gauss_kruger_crs(119.9).to_epsg()
    4528
    >>> gauss_kruger_crs(119.9, zone_prefix=False).to_epsg()
    4549
    """
    zone = math.floor(lon / 3.0 + 0.5)
    if not 25 <= zone <= 45:
        raise CRSError(
            f"longitude {lon:.3f}° lies outside the CGCS2000 3° Gauss-Krüger zones "
            "(75°E–135°E); pass crs= with a projected metric CRS."
        )
    return CRS.from_epsg((4488 if zone_prefix else 4509) + zone)


def analysis_crs(gdf_crs: CRS | None, bounds, *, crs=None) -> CRS:
    """Choose the projected metric CRS an audit runs in.

    An explicit ``crs`` wins.  Otherwise a layer already in a metric
    projection that keeps areas keeps it; geographic, non-metric or (Web)
    Mercator data goes to the CGCS2000 3° Gauss-Krüger zone of the centre of
    its bounds, or to the UTM zone there when the data lies outside China's zones.

    Parameters
    ----------
    gdf_crs
        The CRS of the reference layer (the parcels).
    bounds
        ``(minx, miny, maxx, maxy)`` of that layer, in ``gdf_crs``.
    crs
        Optional explicit choice.

    Returns
    -------
    pyproj.CRS
    """
    if crs is not None:
        chosen = parse_crs(crs)
        if not is_metric_projected(chosen):
            raise CRSError(
                f"crs={chosen.to_string()} is not a projected CRS in metres that keeps areas "
                "(Web Mercator enlarges them by 38 % at 32°N). Give a Gauss-Krüger zone "
                "such as EPSG:4528."
            )
        return chosen
    if gdf_crs is None:
        raise CRSError("the layer has no CRS; pass crs= (e.g. crs=4528).")
    if is_metric_projected(gdf_crs):
        return gdf_crs
    from pyproj import Transformer

    minx, miny, maxx, maxy = bounds
    to_lonlat = Transformer.from_crs(gdf_crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CRSError("cannot locate the data's centre; pass crs= explicitly.")
    try:
        return gauss_kruger_crs(lon)
    except CRSError:
        from pyproj.aoi import AreaOfInterest
        from pyproj.database import query_utm_crs_info

        infos = query_utm_crs_info(
            datum_name="WGS 84",
            area_of_interest=AreaOfInterest(lon, lat, lon, lat),
        )
        if not infos:
            raise
        return CRS.from_epsg(infos[0].code)


def crs_from_coordinates(bounds) -> tuple[CRS | None, str]:
    """Guess the CRS of coordinates that came without one, from their ranges.

    Only unambiguous cases are answered: eastings carrying a CGCS2000 3°
    Gauss-Krüger zone prefix (25–45) with plausible northings, and degrees
    inside China (taken as CGCS2000, EPSG:4490).  Returns ``(None, reason)``
    otherwise.

    Raises
    ------
    CRSError
        When the coordinates look like Gauss-Krüger with the axes swapped
        (northing first), a common export mistake.

    Examples
    --------
    >>> crs_from_coordinates((40_492_000, 3_596_000, 40_493_000, 3_597_000))[0].to_epsg()
    4528
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if (
        25e6 <= minx <= maxx < 46e6
        and 0 < miny <= maxy < 6e6
        and int(minx // 1e6) == int(maxx // 1e6)
    ):
        zone = int(minx // 1e6)
        return CRS.from_epsg(4488 + zone), f"eastings carry the zone prefix {zone}"
    if 25e6 <= miny <= maxy < 46e6 and 0 < minx <= maxx < 6e6:
        raise CRSError(
            f"the x coordinates ({minx:.0f} …) look like northings and the y coordinates "
            f"({miny:.0f} …) like Gauss-Krüger eastings with zone prefix: the axes are swapped "
            "(X is the northing in Chinese surveys). Swap the columns when exporting."
        )
    if 73 <= minx <= maxx <= 136 and 3 <= miny <= maxy <= 54:
        return CRS.from_epsg(4490), "degrees inside China (CGCS2000 geographic)"
    return None, "the coordinates do not tell"


def ellipsoidal_area(geometries, crs=None):
    """Area on the ellipsoid (椭球面积), m², as the national land survey computes ``TBMJ``.

    Every vertex is taken back from the projection to latitude and longitude
    (高斯投影反算, by pyproj), and each ring's area is the sum of the ellipsoidal
    trapezoids between its edges and a reference meridian — the series of the
    三调's area rules (TD/T 1055), on the ellipsoid of ``crs`` (CGCS2000 for the
    Gauss-Krüger zones).  As in the survey's software, an edge runs straight in
    latitude and longitude between its vertices; for slanted edges of a few
    hundred metres that differs from the straight edge of the plane by about
    1e-6 of the area, more for longer ones (``shapely.segmentize`` the geometry
    first to follow the plane's edges).

    Plane areas in the projection differ from it by the projection's scale: in
    a 3° Gauss-Krüger zone the plane area is larger by about ``(y / R)²``, ``y``
    the distance from the central meridian (1.6e-6 at 8 km, 4.9e-4 at the
    zone's edge 141 km away at 32°N).  The survey's ``TBMJ``
    is this area further adjusted (调平) so that each village's 图斑 add up to its
    control area, so it agrees with it to a few 0.01 m², not exactly.

    Parameters
    ----------
    geometries
        A GeoSeries or GeoDataFrame (its CRS is used), or a shapely geometry or
        array of them with ``crs``.
    crs
        The CRS of the coordinates (projected or geographic), when ``geometries``
        carries none.

    Returns
    -------
    float or numpy.ndarray
        m² per geometry (``nan`` for a missing one, 0 for an empty one or one
        without area); a float for a single geometry.

    Examples
    --------
    A 100 m square in Gauss-Krüger zone 40, 8 km west of its central meridian:

    >>> from shapely import box
    >>> square = box(40_492_000, 3_596_000, 40_492_100, 3_596_100)
    >>> round(ellipsoidal_area(square, 4528), 2)  # the plane area is 10 000 m²
    9999.98
    """
    import shapely
    from pyproj import Transformer

    if hasattr(geometries, "geometry") and hasattr(geometries, "crs"):
        crs = geometries.crs if geometries.crs is not None else crs
        values = np.asarray(geometries.geometry.values, dtype=object)
        single = False
    else:
        single = isinstance(geometries, shapely.Geometry)
        values = np.atleast_1d(np.asarray(geometries, dtype=object))
    if crs is None:
        raise CRSError("ellipsoidal_area: the geometries have no CRS; pass crs= (e.g. 4528).")
    crs = parse_crs(crs)
    geodetic = crs.geodetic_crs
    if geodetic is None:  # pragma: no cover - every CRS pyproj builds has one
        raise CRSError(f"ellipsoidal_area: {crs.to_string()} has no ellipsoid.")
    ellipsoid = geodetic.ellipsoid
    a = ellipsoid.semi_major_metre
    f = 1.0 / ellipsoid.inverse_flattening if ellipsoid.inverse_flattening else 0.0
    to_degrees = Transformer.from_crs(crs, geodetic, always_xy=True)
    out = np.full(len(values), np.nan)
    for i, geom in enumerate(values):
        if geom is None:
            continue
        if not isinstance(geom, shapely.Geometry):
            raise GeometryError(f"ellipsoidal_area: item {i} is not a geometry ({geom!r}).")
        total = 0.0
        for part in shapely.get_parts(geom):
            if shapely.get_type_id(part) != 3 or shapely.is_empty(part):  # no area
                continue
            rings = [part.exterior, *part.interiors]
            for k, ring in enumerate(rings):
                xy = shapely.get_coordinates(ring)
                lon, lat = to_degrees.transform(xy[:, 0], xy[:, 1])
                area = abs(_ring_area(np.radians(lon), np.radians(lat), a, f))
                total += area if k == 0 else -area
        out[i] = total
    return float(out[0]) if single else out


def _ring_area(lon: np.ndarray, lat: np.ndarray, a: float, f: float) -> float:
    """Signed ellipsoidal area of a closed ring of (radians) longitudes and latitudes:
    the trapezoids between each edge and the ring's first meridian, by the series
    in the multiples of the latitude used by the land survey."""
    e2 = f * (2.0 - f)
    b = a * (1.0 - f)
    e4, e6, e8 = e2**2, e2**3, e2**4
    c_a = 1 + e2 / 2 + 3 * e4 / 8 + 35 * e6 / 112 + 630 * e8 / 2304
    c_b = e2 / 6 + 15 * e4 / 80 + 21 * e6 / 112 + 420 * e8 / 2304
    c_c = 3 * e4 / 80 + 7 * e6 / 112 + 180 * e8 / 2304
    c_d = e6 / 112 + 45 * e8 / 2304
    c_e = 5 * e8 / 2304
    b1, b2 = lat[:-1], lat[1:]
    lm = (lon[:-1] + lon[1:]) / 2.0 - lon[0]
    db = b2 - b1
    bm = (b1 + b2) / 2.0
    series = (
        c_a * np.sin(db / 2) * np.cos(bm)
        - c_b * np.sin(3 * db / 2) * np.cos(3 * bm)
        + c_c * np.sin(5 * db / 2) * np.cos(5 * bm)
        - c_d * np.sin(7 * db / 2) * np.cos(7 * bm)
        + c_e * np.sin(9 * db / 2) * np.cos(9 * bm)
    )
    return float(2.0 * b * b * np.sum(lm * series))
