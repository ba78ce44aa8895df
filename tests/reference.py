"""Reference audit: the audit figures computed the plain, obviously correct way.

This module is an *independent* implementation of the per-holder and per-parcel
figures of the audit (DOMAIN.md, "The rules").  The fast engine in
``landgis/`` is checked against it, so it deliberately shares nothing with the
engine and uses none of its tricks:

* every set in the rules is built literally as one global union
  (``shapely.union_all``) of the rows it names -- no clustering, no spatial
  index, no "only subtract the local candidates";
* every figure is the area of one explicit set operation on those unions, so
  the conservation law ``used = own + encroachment + outside + park_overuse``
  is *not* built in and can be tested;
* simple Python loops, one holder at a time, clarity over speed.

Why ``grid_size``.  Where two parcels meet, the vertices of one lie ~1e-12 m
off the other's edge.  In floating point the union of such parcels keeps
zero-width gaps (even whole spurious holes), and differences against it report
land *inside* a parcel as "outside".  Every overlay here is therefore run with
snap-rounding (``grid_size``, default 1e-6 m): a vertex within a grid cell of
a neighbour's edge is snapped onto it and the gap closes.

Accuracy.  Snap-rounding moves vertices by up to half a grid cell, so an area
is off by up to about ``grid_size x boundary length`` (~1e-5 m^2 for a 100 m
slanted edge at the default 1e-6 m).  Moreover ``union_all(..., grid_size=g)``
is a *cascaded* union that rounds intermediate results, which is not the same
as one snap-rounding of all edges at once: on layers of hundreds of parcels
sharing edges GEOS 3.14 leaves a few sliver holes one grid cell wide in the
union -- even in a perfect tiling without float gaps -- each of area about
``g x edge length``.  At park scale the figures are right to ~1e-4 m^2 per
holder, not exactly: compare against this reference with an absolute
tolerance of the order of 1e-3 m^2.

Speed.  Each holder's sets are intersected with park-wide unions, so the cost
grows faster than linearly: ~0.6 s at 1,000 footprints / 400 parcels, ~3 s at
2,000 / 1,000, ~11 s at 5,000 / 2,500 on a 2-core machine.

Definitions (for holder ``h``)::

    U_h  = union of h's footprints            F = union of all footprints
    A_h  = union of h's authorized parcels    AUTH = union of all authorized parcels
    O_h  = union of other holders' authorized parcels
    R    = union of all parcels (every tenure)
    X_h  = U_h - A_h

    used_m2            = area(U_h)
    own_m2             = area(U_h & A_h)
    encroachment_m2    = area(X_h & O_h)
    outside_redline_m2 = area(X_h - R)
    park_overuse_m2    = area((X_h & R) - O_h)

``X_h`` is disjoint from ``A_h``, so ``X_h & O_h == X_h & AUTH`` and
``(X_h & R) - O_h == (X_h & R) - AUTH``; the reference uses the right-hand sides
so that ``AUTH`` is built once instead of one ``O_h`` per holder.

Per parcel: an authorized parcel ``p`` of holder ``h`` has
``used_m2 = area(p & U_h)``; a leased-in parcel ``L`` has
``used_m2 = area(L & F)``; ``use_ratio = used_m2 / area_m2`` (``area_m2`` is the
plain area of the parcel geometry).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

AUTHORIZED = ("requisitioned", "proxy_requisitioned", "leased_out")

HOLDER_COLUMNS = [
    "used_m2",
    "own_m2",
    "encroachment_m2",
    "outside_redline_m2",
    "park_overuse_m2",
]
PARCEL_COLUMNS = ["tenure", "holder", "area_m2", "used_m2", "use_ratio"]


def _polygonal(geom):
    """The polygonal part of an overlay result.

    GEOS may return a GeometryCollection mixing polygons with the lines and
    points where the operands only touch; those have no area, and GEOS refuses
    them as input of the next overlay ("mixed-dimension").
    """
    if shapely.get_type_id(geom) in (3, 6):  # Polygon, MultiPolygon
        return geom
    polys = []
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) in (3, 6):
            polys.extend(shapely.get_parts(part))
    return shapely.MultiPolygon(polys) if polys else shapely.Polygon()


def _union(geoms, grid_size):
    """Union of a list of geometries (empty list -> empty polygon)."""
    return _polygonal(shapely.union_all(list(geoms), grid_size=grid_size))


def _intersection(a, b, grid_size):
    return _polygonal(shapely.intersection(a, b, grid_size=grid_size))


def _difference(a, b, grid_size):
    return _polygonal(shapely.difference(a, b, grid_size=grid_size))


def reference_audit(parcels, footprints, *, grid_size=1e-6):
    """Audit figures by global unions and snap-rounded overlays.

    Parameters
    ----------
    parcels : GeoDataFrame
        ``parcel_id`` (unique), ``tenure``, ``holder``, polygon geometry.
    footprints : GeoDataFrame
        ``footprint_id``, ``user``, polygon geometry.
    grid_size : float
        Snap-rounding grid (m) for every union and overlay.

    Returns
    -------
    (holders, parcels) : (DataFrame, DataFrame)
        ``holders`` indexed by ``holder`` (every footprint user and every holder
        of an authorized parcel, sorted) with ``used_m2, own_m2,
        encroachment_m2, outside_redline_m2, park_overuse_m2``;
        ``parcels`` indexed by ``parcel_id`` (input order) with
        ``tenure, holder, area_m2, used_m2, use_ratio``.
    """
    g = grid_size
    p_geom = np.asarray(parcels.geometry.values, dtype=object)
    p_tenure = parcels["tenure"].to_numpy()
    p_holder = parcels["holder"].to_numpy()
    f_geom = np.asarray(footprints.geometry.values, dtype=object)
    f_user = footprints["user"].to_numpy()

    is_auth = np.isin(p_tenure, AUTHORIZED)

    # Global unions, each built once.
    R = _union(p_geom, g)  # every red line
    AUTH = _union(p_geom[is_auth], g)  # every authorized parcel
    F = _union(f_geom, g)  # every footprint

    names = sorted(set(f_user.tolist()) | set(p_holder[is_auth].tolist()))

    U = {}  # U_h, needed again for the per-parcel figures
    rows = []
    for h in names:
        U_h = _union(f_geom[f_user == h], g)
        A_h = _union(p_geom[is_auth & (p_holder == h)], g)
        X_h = _difference(U_h, A_h, g)
        U[h] = U_h
        rows.append(
            {
                "holder": h,
                "used_m2": shapely.area(U_h),
                "own_m2": shapely.area(_intersection(U_h, A_h, g)),
                # X_h & O_h  (== X_h & AUTH because X_h misses A_h)
                "encroachment_m2": shapely.area(_intersection(X_h, AUTH, g)),
                "outside_redline_m2": shapely.area(_difference(X_h, R, g)),
                # (X_h & R) - O_h  (== (X_h & R) - AUTH)
                "park_overuse_m2": shapely.area(_difference(_intersection(X_h, R, g), AUTH, g)),
            }
        )
    holders = pd.DataFrame(rows, columns=["holder", *HOLDER_COLUMNS])
    holders = holders.set_index("holder").astype(float)

    empty = shapely.Polygon()
    prow = []
    for pid, geom, tenure, holder, auth in zip(
        parcels["parcel_id"], p_geom, p_tenure, p_holder, is_auth, strict=True
    ):
        area = shapely.area(geom)
        if auth:
            used = shapely.area(_intersection(geom, U.get(holder, empty), g))
        elif tenure == "leased_in":
            used = shapely.area(_intersection(geom, F, g))
        else:  # unknown tenure: no use defined
            used = np.nan
        prow.append(
            {
                "parcel_id": pid,
                "tenure": tenure,
                "holder": holder,
                "area_m2": float(area),
                "used_m2": float(used),
                "use_ratio": float(used) / area if area > 0 else np.nan,
            }
        )
    out_parcels = pd.DataFrame(prow, columns=["parcel_id", *PARCEL_COLUMNS])
    out_parcels = out_parcels.set_index("parcel_id")
    return holders, out_parcels
