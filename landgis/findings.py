"""The findings frame: one row per finding, routed, located and with a stable id.

Turns the engine's raw pieces into what people act on: labels, action,
working group and deadline from :mod:`landgis.rules` and the campaign, street
and village, area in m² and 亩, a WGS84 point, and a ``finding_id`` derived
from content (category, holder, parcels, position), not from row order.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from landgis.config import Campaign
from landgis.crs import to_mu
from landgis.rules import CATEGORIES, codes

__all__ = ["COLUMNS", "EXTRA_COLUMNS", "SPATIAL_PIECE_CATEGORIES", "build_findings"]

#: The findings columns, in the order the CSV uses.
COLUMNS = [
    "finding_id",
    "category",
    "category_label",
    "holder",
    "parcel_id",
    "other_holder",
    "street",
    "village",
    "area_m2",
    "area_mu",
    "action",
    "group",
    "deadline",
    "lon",
    "lat",
]
#: Further columns after :data:`COLUMNS`.
EXTRA_COLUMNS = [
    "other_parcel_id",
    "use_ratio",
    "registered_area_mu",
    "departments",
    "amount_owed",
    "annual_rent",
    "months_overdue",
    "days_overdue",
    "score",
    "deadline_basis",
    "land_class",
]

#: Categories whose rows are pieces of land; ``min_area`` drops the slivers
#: (as imported: see :func:`landgis.rules.codes`).
SPATIAL_PIECE_CATEGORIES = codes(kind="piece")


def build_findings(
    raw: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame,
    campaign: Campaign,
    planning: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    found: dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Filter, route, locate and identify the engine's raw findings.

    Parameters
    ----------
    raw
        :attr:`landgis.engine.EngineResult.raw` (with ``land_class`` when the
        land survey's classes were applied: :func:`landgis.survey.apply_land_classes`).
    parcels
        The parcels as audited (for street and village).
    campaign
        Deadlines, ``min_area`` and the agricultural-park routing.
    planning, admin
        Optional layers: the agricultural park zone(s) and the street/village areas.
    found
        The day this round found the findings (the survey; default
        ``campaign.round_date``).  A finding found after its category's campaign
        deadline gets a deadline counted from it (``Campaign.deadline_for``);
        ``deadline_basis`` says which: ``campaign`` or ``round``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`COLUMNS` + :data:`EXTRA_COLUMNS` and ``geometry``,
        sorted by category (DOMAIN.md's order), street and holder (in pinyin
        order) and id.
    """
    df = raw.copy()
    for col in ("holder", "parcel_id", "other_holder", "other_parcel_id", "land_class"):
        df[col] = df[col].fillna("").astype(object) if col in df else ""
    for col in (
        "use_ratio",
        "registered_area_mu",
        "amount_owed",
        "annual_rent",
        "months_overdue",
        "days_overdue",
        "score",
    ):
        if col not in df:
            df[col] = np.nan
    small = df["category"].isin(codes(kind="piece")) & (df["area_m2"] < campaign.min_area)
    df = df.loc[~small].reset_index(drop=True)

    geoms = np.asarray(df.geometry.values, dtype=object)
    # Register findings of a party without land have no place: no geometry, no point.
    geoms[shapely.is_empty(geoms)] = None
    df = df.set_geometry(gpd.GeoSeries(geoms, index=df.index, crs=raw.crs))
    points = shapely.point_on_surface(geoms)
    if len(df) and df.crs is not None:
        lon, lat = Transformer.from_crs(df.crs, "EPSG:4326", always_xy=True).transform(
            shapely.get_x(points), shapely.get_y(points)
        )
    else:
        lon = lat = np.full(len(df), np.nan)
    df["lon"] = np.round(lon, 7)
    df["lat"] = np.round(lat, 7)
    df["area_mu"] = to_mu(df["area_m2"].to_numpy(dtype=float))

    df["street"], df["village"] = _locate(df, points, parcels, admin)
    cats = [CATEGORIES[c] for c in df["category"]]
    df["category_label"] = [c.label for c in cats]
    df["action"] = [c.action for c in cats]
    df["group"] = [c.group for c in cats]
    df["departments"] = ["、".join(c.departments) for c in cats]
    if planning is not None and len(planning) and len(df):
        in_park = _in_zones(points, planning, campaign.agricultural_park_zones)
        df.loc[in_park, "group"] = campaign.agricultural_park_group
    when = found or campaign.round_date
    due = [campaign.deadline_for(c, when) for c in df["category"]]
    df["deadline"] = [d for d, _ in due]
    df["deadline_basis"] = [b for _, b in due]
    df["finding_id"] = _finding_ids(df, geoms)

    rank = {code: i for i, code in enumerate(CATEGORIES)}
    df["_rank"] = df["category"].map(rank)
    from landgis.order import pinyin_order

    for column in ("street", "holder"):  # for people: 城东 before 京泰路
        rank = {name: i for i, name in enumerate(pinyin_order(df[column]))}
        df[f"_{column}"] = df[column].map(lambda v, r=rank: r["" if v != v else str(v)])
    df = df.sort_values(["_rank", "_street", "_holder", "finding_id"], kind="stable")
    out = gpd.GeoDataFrame(df[[*COLUMNS, *EXTRA_COLUMNS]], geometry=df.geometry.values, crs=raw.crs)
    return out.reset_index(drop=True)


def _finding_ids(df: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Stable ids: a hash of what the finding is and where (centroid to 1 cm)."""
    centroids = shapely.centroid(geoms)
    xs = np.round(shapely.get_x(centroids), 2)
    ys = np.round(shapely.get_y(centroids), 2)
    ids = []
    seen: dict[str, int] = {}
    for cat, holder, pid, opid, x, y in zip(
        df["category"], df["holder"], df["parcel_id"], df["other_parcel_id"], xs, ys, strict=True
    ):
        key = f"{cat}|{holder}|{pid}|{opid}|{x:.2f}|{y:.2f}"
        fid = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12].upper()
        n = seen.get(fid, 0)
        seen[fid] = n + 1
        ids.append(fid if n == 0 else f"{fid}-{n + 1}")
    return ids


def _in_zones(points: np.ndarray, planning: gpd.GeoDataFrame, names) -> np.ndarray:
    zones = planning.loc[planning["zone"].isin(list(names))]
    inside = np.zeros(len(points), dtype=bool)
    if len(zones):
        pt, _ = shapely.STRtree(np.asarray(zones.geometry.values, dtype=object)).query(
            points, predicate="intersects"
        )
        inside[pt] = True
    return inside


def _locate(
    df: pd.DataFrame, points: np.ndarray, parcels: gpd.GeoDataFrame, admin: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Street and village where the finding lies.

    From the admin area holding its point when that layer is given; else from
    the red line holding its point (the finding's own parcel first, where red
    lines overlap); else, outside every red line, from the nearest red line.
    """
    n = len(df)
    street = np.full(n, "", dtype=object)
    village = np.full(n, "", dtype=object)
    if n == 0:
        return street, village
    todo = np.ones(n, dtype=bool)
    if admin is not None and len(admin):
        found, ai = _smallest_holding(points, np.asarray(admin.geometry.values, dtype=object))
        street[found] = admin["street"].to_numpy(dtype=object)[ai]
        if "village" in admin:
            village[found] = admin["village"].to_numpy(dtype=object)[ai]
        todo[found] = False
    if not todo.any() or ("street" not in parcels and "village" not in parcels):
        return street, village
    p_street = _column(parcels, "street")
    p_village = _column(parcels, "village")
    pgeoms = np.asarray(parcels.geometry.values, dtype=object)
    rows = np.flatnonzero(todo)
    own = pd.Index(parcels["parcel_id"]).get_indexer(
        [str(v).split(";")[0].strip() for v in df["parcel_id"].to_numpy()[rows]]
    )
    found, pj = _smallest_holding(points[rows], pgeoms, prefer=own)
    street[rows[found]] = p_street[pj]
    village[rows[found]] = p_village[pj]
    rest = rows[np.setdiff1d(np.arange(len(rows)), found)]
    if len(rest):
        pt, pj = shapely.STRtree(pgeoms).query_nearest(points[rest], all_matches=False)
        street[rest[pt]] = p_street[pj]
        village[rest[pt]] = p_village[pj]
    return street, village


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), "", dtype=object)
    return frame[name].fillna("").to_numpy(dtype=object)


def _smallest_holding(points: np.ndarray, areas: np.ndarray, prefer: np.ndarray | None = None):
    """For each point inside some area: (point index, area index), the preferred
    area (``prefer[point]``) when it holds the point, else the smallest."""
    pt, ai = shapely.STRtree(areas).query(points, predicate="intersects")
    if not len(pt):
        return pt, ai
    rank = shapely.area(areas[ai])
    if prefer is not None:
        rank = np.where(prefer[pt] == ai, -1.0, rank)
    order = np.lexsort((rank, pt))
    pt, ai = pt[order], ai[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    return pt[first], ai[first]
