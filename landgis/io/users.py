"""Who uses a footprint that names nobody: the holder of the red line holding most of it.

Footprints vectorized from a raster, the 图斑 of the land survey and 卫片 change
patches carry no user.  :func:`assign_users` takes it from the red lines: the
holder of the authorized parcel (requisitioned, proxy-requisitioned, leased out)
holding the largest part of the footprint, when that part is at least
``min_share`` of it.  Leased-in parcels name the lessor, not the user, and assign
nobody.
"""

from __future__ import annotations

import numpy as np
import shapely

from landgis.errors import ConfigError

__all__ = ["assign_users"]


def assign_users(frame, parcels, *, min_share: float, unknown_user: str, only=None):
    """``user`` from the authorized parcel holding the largest part of each footprint.

    Parameters
    ----------
    frame
        Footprints (GeoDataFrame with a CRS and ``area_m2``, their area in it).
    parcels
        Red lines (GeoDataFrame or path, read by :func:`landgis.read_parcels`).
    min_share
        Smallest share of a footprint inside one authorized parcel that makes
        its holder the user.
    unknown_user
        ``user`` of the footprints no parcel assigns.
    only
        Optional boolean mask: assign only these rows; the others keep their
        ``user`` (``parcel_id`` empty, ``user_share`` their largest share).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``user``, ``parcel_id`` (the assigning parcel, or ``""``) and
        ``user_share`` (the share of the footprint in its largest authorized parcel).
    """
    from landgis.io.vector import read_parcels
    from landgis.schema import AUTHORIZED_TENURES

    if not 0 < min_share <= 1:
        raise ConfigError(f"min_share={min_share!r}; give a share in (0, 1].")
    red = read_parcels(parcels)
    red = red.loc[red["tenure"].isin(AUTHORIZED_TENURES)]
    if not red.crs.equals(frame.crs):
        red = red.to_crs(frame.crs)
    n = len(frame)
    mask = np.ones(n, dtype=bool) if only is None else np.asarray(only, dtype=bool)
    user = frame["user"].to_numpy(dtype=object).copy() if "user" in frame else np.full(n, "")
    user = user.astype(object)
    user[mask] = unknown_user
    parcel_id = np.full(n, "", dtype=object)
    share = np.zeros(n)
    if n and len(red):
        fgeoms = np.asarray(frame.geometry.values, dtype=object)
        pgeoms = np.asarray(red.geometry.values, dtype=object)
        fi, pi = shapely.STRtree(pgeoms).query(fgeoms, predicate="intersects")
        if len(fi):
            overlap = shapely.area(shapely.intersection(fgeoms[fi], pgeoms[pi]))
            order = np.lexsort((-overlap, fi))
            fi, pi, overlap = fi[order], pi[order], overlap[order]
            first = np.r_[True, fi[1:] != fi[:-1]]
            fi, pi, overlap = fi[first], pi[first], overlap[first]
            share[fi] = overlap / np.maximum(frame["area_m2"].to_numpy()[fi], 1e-300)
            ok = (share[fi] >= min_share) & mask[fi]
            user[fi[ok]] = red["holder"].to_numpy(dtype=object)[pi[ok]]
            parcel_id[fi[ok]] = red["parcel_id"].to_numpy(dtype=object)[pi[ok]]
    frame = frame.copy()
    frame["user"] = user
    frame["parcel_id"] = parcel_id
    frame["user_share"] = np.round(np.minimum(share, 1.0), 6)
    return frame
