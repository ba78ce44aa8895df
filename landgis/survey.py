"""The land survey's classes on the findings: ``land_class``, village homesteads, 耕地.

The set algebra knows use and red lines, not what the land is.  The national
land survey does (地类图斑 ``DLTB``, :mod:`landgis.io.land_survey`), and what it
says changes what a piece of use outside every red line means:

* a house in a village (0702 农村宅基地, or use inside 城镇村属性码 203 村庄) is the
  village's, not the zone's over-use: ``village_homestead``, verified with the
  township;
* construction on cultivated land (耕地, 01xx, by the class the land had before
  it was built on) is ``farmland_construction``, for the natural-resources
  bureau.

:func:`apply_land_classes` splits such pieces by the survey's 图斑 and gives
every finding with land the class covering the largest part of it
(``land_class``, ``"0601 工业用地"``): an idle requisitioned parcel says it is
still 旱地, a piece outside the red lines that it is 工业用地.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.landclass import LandSurveySettings

__all__ = ["apply_land_classes", "majority_class"]


def apply_land_classes(
    raw: gpd.GeoDataFrame,
    classes: gpd.GeoDataFrame,
    *,
    outside: np.ndarray,
    settings: LandSurveySettings | None = None,
    grid_size: float = 1e-6,
) -> gpd.GeoDataFrame:
    """Split the use outside every red line by the survey's classes, and label every finding.

    Parameters
    ----------
    raw
        Raw findings (the engine's, or the change between two surveys), with
        ``category``, ``area_m2`` and geometry.
    classes
        The survey's 图斑: polygons with ``class_code`` (what the land is),
        ``land_class`` (its label), optional ``czcsxm`` and ``was_code`` (the
        class the land had before it was built on, for change patches; default
        ``class_code``).  In the CRS of ``raw``.
    outside
        Boolean mask of the rows of ``raw`` that are use outside every red line
        and may be reclassified (``outside_redline``; new use with no parcel).
    settings
        Which classes are homesteads, villages and 耕地.
    grid_size
        Snap-rounding grid of the splits, m.

    Returns
    -------
    geopandas.GeoDataFrame
        ``raw`` with the ``outside`` rows split: the part on 耕地 (before it was
        built on) becomes ``farmland_construction``, the part that is a village's
        homestead land ``village_homestead``, one row per connected piece, the
        rest keeps its category; every row gets ``land_class`` (the class
        covering the largest part of its land, ``""`` for none).  The areas of
        the parts of a row add up to its area.
    """
    settings = settings or LandSurveySettings()
    outside = np.asarray(outside, dtype=bool)
    cgeoms = np.asarray(classes.geometry.values, dtype=object)
    codes = classes["class_code"].astype(str).to_numpy(dtype=object)
    was = classes["was_code"].astype(str).to_numpy(dtype=object) if "was_code" in classes else codes
    czc = (
        classes["czcsxm"].fillna("").astype(str).to_numpy(dtype=object)
        if "czcsxm" in classes
        else np.full(len(classes), "", dtype=object)
    )
    farmland = np.array([settings.is_farmland(c) for c in was], dtype=bool)
    village = (
        np.array([settings.is_village(c, z) for c, z in zip(codes, czc, strict=True)], dtype=bool)
        & ~farmland
    )
    tree = shapely.STRtree(cgeoms)

    rows = []
    geoms = np.asarray(raw.geometry.values, dtype=object)
    categories = raw["category"].to_numpy(dtype=object)
    for i in range(len(raw)):
        geom = geoms[i]
        if not outside[i] or geom is None or shapely.is_empty(geom):
            rows.append((i, categories[i], geom))
            continue
        near = tree.query(geom, predicate="intersects")
        parts = {}
        rest = geom
        for category, chosen in (
            ("farmland_construction", farmland[near]),
            ("village_homestead", village[near]),
        ):
            if not chosen.any():
                continue
            land = shapely.union_all(cgeoms[near[chosen]], grid_size=grid_size)
            part = shapely.intersection(rest, land, grid_size=grid_size)
            if shapely.area(part) > 0:
                parts[category] = part
                rest = shapely.difference(rest, land, grid_size=grid_size)
        if not parts:
            rows.append((i, categories[i], geom))
            continue
        parts[categories[i]] = rest
        for category, part in parts.items():
            for piece in _polygons(part):
                rows.append((i, category, piece))

    index = [i for i, _, _ in rows]
    out = raw.iloc[index].copy()
    out["category"] = [c for _, c, _ in rows]
    pieces = np.asarray([g for _, _, g in rows], dtype=object)
    split = np.asarray([g is not geoms[i] for i, _, g in rows], dtype=bool)
    out = out.set_geometry(gpd.GeoSeries(pieces, index=out.index, crs=raw.crs))
    if split.any():
        area = out["area_m2"].to_numpy(dtype=float).copy()
        area[split] = shapely.area(pieces[split])
        out["area_m2"] = area
    out = out.reset_index(drop=True)
    out["land_class"] = majority_class(out.geometry, classes)
    return out


def majority_class(geometries, classes: gpd.GeoDataFrame) -> np.ndarray:
    """The ``land_class`` covering the largest part of each geometry (``""`` for none).

    Areas are added per class, not per 图斑: two 工业用地 图斑 outweigh one 旱地
    larger than either.  A tie goes to the class label first in order.

    Examples
    --------
    >>> from shapely import box
    >>> survey = gpd.GeoDataFrame({"land_class": ["0103 旱地", "0601 工业用地"]},
    ...                           geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> majority_class([box(5, 0, 20, 10), box(30, 0, 40, 10)], survey).tolist()
    ['0601 工业用地', '']
    """
    geoms = np.asarray(
        geometries.values if hasattr(geometries, "values") else geometries, dtype=object
    )
    out = np.full(len(geoms), "", dtype=object)
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not has.any() or not len(classes):
        return out
    cgeoms = np.asarray(classes.geometry.values, dtype=object)
    labels = classes["land_class"].astype(str).to_numpy(dtype=object)
    which = np.flatnonzero(has)
    fi, cj = shapely.STRtree(cgeoms).query(geoms[which], predicate="intersects")
    if not len(fi):
        return out
    area = shapely.area(shapely.intersection(geoms[which][fi], cgeoms[cj]))
    table = pd.DataFrame({"row": which[fi], "label": labels[cj], "area": area})
    table = table.loc[table["area"] > 0].groupby(["row", "label"], as_index=False)["area"].sum()
    table = table.sort_values(["row", "area", "label"], ascending=[True, False, True])
    best = table.drop_duplicates("row")
    out[best["row"].to_numpy(dtype=int)] = best["label"].to_numpy(dtype=object)
    return out


def _polygons(geom) -> list:
    parts = shapely.get_parts(shapely.get_parts(geom))
    return [p for p in parts if shapely.get_type_id(p) == 3 and shapely.area(p) > 0]
