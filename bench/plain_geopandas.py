"""Baseline: the audit figures the way a competent analyst writes them in GeoPandas.

This is what the benchmark compares the landgis engine against.  It computes
the same outputs as ``tests/reference.py`` (per-holder ``used_m2, own_m2,
encroachment_m2, outside_redline_m2, park_overuse_m2``; per-parcel ``tenure,
holder, area_m2, used_m2, use_ratio``) with ordinary vectorized GeoPandas and
no per-holder Python loop:

* ``dissolve`` footprints by ``user`` -> U_h, and authorized parcels by
  ``holder`` -> A_h;
* row-aligned ``GeoSeries.intersection/difference`` for U_h & A_h and
  X_h = U_h - A_h;
* ``geopandas.overlay`` (spatial-index driven) for everything that meets other
  holders' parcels or the red lines, ``dissolve`` of the overlay pieces where
  overlapping parcels or footprints must count once.

Multipart unions are exploded into their parts before overlaying them so the
spatial index sees small boxes -- the usual way to keep ``overlay`` fast.
R (all red lines) is not materialised as one ``union_all()``: differencing
every piece against one park-wide polygon is quadratic (44 s instead of 5 s at
10,000 footprints on this machine); ``overlay(how="difference")`` against the
parcels subtracts, piece by piece, only the red lines the index finds, which
is X_h - R all the same.

Expected to be WRONG where parcels meet.  GeoPandas overlays have no
``grid_size``: everything runs in floating point.  Where adjacent parcels'
vertices lie ~1e-12 m off each other's edges, the float union made by
``dissolve`` can come out with a spurious zero-area hole, and GEOS then
classifies a whole footprint inside those parcels as lying outside them: own
use drops to 0 and the land vanishes from every figure (see
``test_plain_geopandas_is_fooled_by_float_gaps``).  Overlays along shared
edges also leave sliver pieces of ~0 area.  A speed baseline, not an oracle.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
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


def _overlay(a, b, how):
    with warnings.catch_warnings():
        # keep_geom_type=True drops line/point by-products of touching edges
        warnings.simplefilter("ignore", UserWarning)
        return gpd.overlay(a, b, how=how, keep_geom_type=True)


def _dissolve_pieces(gdf, key):
    """Union the overlay pieces of each key (so overlaps count once)."""
    if len(gdf) == 0:
        return gdf
    return gdf[[key, "geometry"]].dissolve(by=key).reset_index()


def _area_by(gdf, key):
    if len(gdf) == 0:
        return pd.Series(dtype=float)
    return gdf.geometry.area.groupby(gdf[key].to_numpy()).sum()


def plain_audit(parcels, footprints):
    """Per-holder and per-parcel audit figures with plain GeoPandas.

    Returns ``(holders, parcels)`` shaped like ``reference_audit``: ``holders``
    indexed by ``holder`` (every footprint user and authorized holder, sorted),
    ``parcels`` indexed by ``parcel_id`` in input order.
    """
    crs = parcels.crs
    fp = footprints[["user", "geometry"]]
    pa = parcels[["parcel_id", "tenure", "holder", "geometry"]]
    auth = pa[pa["tenure"].isin(AUTHORIZED)]
    leased_in = pa[pa["tenure"] == "leased_in"]

    # -- the dissolves -------------------------------------------------------
    U = fp.dissolve(by="user")  # U_h, indexed by user
    A = auth[["holder", "geometry"]].dissolve(by="holder")  # A_h, indexed by holder

    names = U.index.union(A.index).sort_values()
    U_al = U.geometry.reindex(names)
    A_al = A.geometry.reindex(names)

    used = U_al.area.fillna(0.0)
    own = U_al.intersection(A_al).area.fillna(0.0)

    # X_h = U_h - A_h (U_h itself where h holds no authorized land)
    X = U_al.difference(A_al)
    X = X.where(~shapely.is_missing(A_al.to_numpy()), U_al)
    X = gpd.GeoDataFrame({"user": names}, geometry=X.to_numpy(), crs=crs)
    X = X[X.geometry.area > 0]  # drops missing (NaN area) and empty rows
    X = X.explode(index_parts=False).reset_index(drop=True)
    X = X[X.geometry.area > 0]

    # encroachment: X_h & (others' authorized parcels); dissolve so that
    # overlapping parcels of two other holders count once
    enc = _overlay(X, auth[["holder", "geometry"]], "intersection")
    enc = enc[enc["user"] != enc["holder"]]
    encroachment = _area_by(_dissolve_pieces(enc, "user"), "user")

    # outside the red lines: X_h - R.  overlay "difference" subtracts from each
    # piece the red lines its spatial index finds -- R restricted to the piece.
    # (Differencing every piece against one park-wide ``union_all()`` of the
    # red lines is quadratic: 44 s instead of a few at 10,000 footprints.)
    outside = _area_by(_overlay(X, pa[["geometry"]], "difference"), "user")

    # park over-use: (X_h & R) - O_h.  X_h misses A_h, so subtracting every
    # authorized parcel subtracts O_h, and what is left of R is leased-in land:
    # (X_h - AUTH) & (leased-in parcels), dissolved in case those overlap.
    rest = _overlay(X, auth[["geometry"]], "difference")
    park_pieces = _overlay(rest, leased_in[["geometry"]], "intersection")
    park = _area_by(_dissolve_pieces(park_pieces, "user"), "user")

    holders = pd.DataFrame(
        {
            "used_m2": used.to_numpy(dtype=float),
            "own_m2": own.to_numpy(dtype=float),
            "encroachment_m2": encroachment.reindex(names).fillna(0.0).to_numpy(),
            "outside_redline_m2": outside.reindex(names).fillna(0.0).to_numpy(),
            "park_overuse_m2": park.reindex(names).fillna(0.0).to_numpy(),
        },
        index=pd.Index(names, name="holder"),
    )

    # -- per parcel ---------------------------------------------------------
    U_parts = U.reset_index().explode(index_parts=False).reset_index(drop=True)
    # authorized parcel p of h: area(p & U_h)
    own_p = _overlay(auth[["parcel_id", "holder", "geometry"]], U_parts, "intersection")
    own_p = own_p[own_p["holder"] == own_p["user"]]
    used_auth = _area_by(own_p, "parcel_id")
    # leased-in parcel L: area(L & all footprints); dissolve per parcel so that
    # footprints of several users overlapping each other count once
    li = _overlay(leased_in[["parcel_id", "geometry"]], U_parts, "intersection")
    used_li = _area_by(_dissolve_pieces(li, "parcel_id"), "parcel_id")

    used_p = pd.concat([used_auth, used_li])
    out = pd.DataFrame(
        {
            "tenure": pa["tenure"].to_numpy(),
            "holder": pa["holder"].to_numpy(),
            "area_m2": pa.geometry.area.to_numpy(dtype=float),
        },
        index=pd.Index(pa["parcel_id"].to_numpy(), name="parcel_id"),
    )
    is_auth = out["tenure"].isin(AUTHORIZED)
    is_li = out["tenure"] == "leased_in"
    u = used_p.reindex(out.index).fillna(0.0)
    out["used_m2"] = np.where(is_auth | is_li, u.to_numpy(dtype=float), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["use_ratio"] = out["used_m2"] / out["area_m2"]
    return holders, out


def textbook_audit(parcels, footprints):
    """The same figures as the first draft of an analyst: dissolve, then overlay.

    The layers are dissolved (one multi-part geometry per user and per
    holder) and overlaid as they are, without the part-exploding and
    alignment tricks of :func:`plain_audit`.  The spatial index then sees each
    holder's whole spread as one box, so every overlay compares far more
    pairs; this is the "plain GeoPandas way" whose cost the yardstick table in
    NOTES.md reports (43–47 s at 60,000 footprints).
    """
    crs = parcels.crs
    pa = parcels[["parcel_id", "tenure", "holder", "geometry"]]
    auth = pa[pa["tenure"].isin(AUTHORIZED)]
    leased_in = pa[pa["tenure"] == "leased_in"]

    U = footprints[["user", "geometry"]].dissolve(by="user").reset_index()
    A = auth[["holder", "geometry"]].dissolve(by="holder").reset_index()
    names = pd.Index(U["user"]).union(pd.Index(A["holder"])).sort_values()

    ua = _overlay(U, A, "intersection")
    own = _area_by(ua[ua["user"] == ua["holder"]], "user")
    # X_h = U_h − A_h: subtract each user's own authorized land
    own_land = A.rename(columns={"holder": "user"})
    X = U.merge(own_land, on="user", how="left", suffixes=("", "_own"))
    has_own = ~X["geometry_own"].isna()
    geom = np.array(X.geometry.to_numpy(), dtype=object)  # a copy: U must stay intact
    geom[has_own.to_numpy()] = shapely.difference(
        geom[has_own.to_numpy()], X.loc[has_own, "geometry_own"].to_numpy()
    )
    X = gpd.GeoDataFrame({"user": X["user"]}, geometry=geom, crs=crs)
    X = X[~X.geometry.is_empty]

    enc = _overlay(X, A, "intersection")
    encroachment = _area_by(_dissolve_pieces(enc[enc["user"] != enc["holder"]], "user"), "user")
    outside = _area_by(_overlay(X, pa[["geometry"]].dissolve(), "difference"), "user")
    rest = _overlay(X, auth[["geometry"]].dissolve(), "difference")
    park = _area_by(_overlay(rest, leased_in[["geometry"]], "intersection"), "user")

    holders = pd.DataFrame(
        {
            "used_m2": U.set_index("user").area.reindex(names).fillna(0.0).to_numpy(),
            "own_m2": own.reindex(names).fillna(0.0).to_numpy(),
            "encroachment_m2": encroachment.reindex(names).fillna(0.0).to_numpy(),
            "outside_redline_m2": outside.reindex(names).fillna(0.0).to_numpy(),
            "park_overuse_m2": park.reindex(names).fillna(0.0).to_numpy(),
        },
        index=pd.Index(names, name="holder"),
    )

    own_p = _overlay(auth, U, "intersection")
    used_auth = _area_by(own_p[own_p["holder"] == own_p["user"]], "parcel_id")
    all_use = footprints[["geometry"]].dissolve()
    used_li = _area_by(_overlay(leased_in, all_use, "intersection"), "parcel_id")
    out = pd.DataFrame(
        {
            "tenure": pa["tenure"].to_numpy(),
            "holder": pa["holder"].to_numpy(),
            "area_m2": pa.geometry.area.to_numpy(dtype=float),
        },
        index=pd.Index(pa["parcel_id"].to_numpy(), name="parcel_id"),
    )
    used = pd.concat([used_auth, used_li]).reindex(out.index).fillna(0.0)
    out["used_m2"] = used.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["use_ratio"] = out["used_m2"] / out["area_m2"]
    return holders, out
