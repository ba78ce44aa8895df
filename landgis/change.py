"""Change of actual use between two surveys (长效管护): new, grown and removed use.

:func:`use_change` compares two footprint layers, :func:`use_change_from_rasters`
two classified rasters, :func:`use_change_from_patches` a survey with the 卫片
change patches (监测图斑) found since; all return findings (``use_new``,
``use_grown``, ``use_removed``, and with the land survey's classes
``farmland_construction`` for new use on 耕地 outside every red line) that the
CSV, GeoPackage and map writers take as they are.  :func:`detect_change` is what
``landgis change`` runs: read, compare, and a :class:`Change` that writes
``change.csv``, ``change.gpkg`` and ``change.html``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import Campaign, Tolerances
from landgis.crs import analysis_crs
from landgis.errors import ConfigError, CRSError, GeometryError
from landgis.io.raster import RasterSource, footprints_from_raster
from landgis.rules import codes

__all__ = [
    "CHANGE_CATEGORIES",
    "Change",
    "detect_change",
    "use_change",
    "use_change_from_patches",
    "use_change_from_rasters",
]

#: Finding categories :func:`use_change` produces (see :mod:`landgis.rules`).
CHANGE_CATEGORIES = codes(family="monitoring")


def use_change(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    admin: gpd.GeoDataFrame | None = None,
    min_area: float = Tolerances.min_area,
    grid_size: float = Tolerances.grid_size,
    crs: Any = None,
    campaign: Any = None,
    land_classes: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """New, grown and removed use between two surveys, as findings.

    With ``B`` the union of the earlier footprints and ``A`` that of the later
    ones (snap-rounded on ``grid_size``, like the audit engine, so that a
    boundary digitized twice leaves no slivers):

    * ``use_new`` (新增用地): the connected pieces of ``A_u − B`` (each later
      user ``u``'s use outside all earlier use) that do not touch ``B``;
    * ``use_grown`` (扩建用地): those pieces that touch ``B`` (an extension);
    * ``use_removed`` (用地减少): the pieces of ``B_u − A`` per earlier user.

    With ``parcels``, every piece is split by the red lines (the smaller
    parcel first where red lines overlap, so no area counts twice); the part
    outside every red line keeps ``parcel_id`` empty.  Pieces smaller than
    ``min_area`` after the split are survey noise and dropped.

    Parameters
    ----------
    before, after
        Footprints of the two surveys (GeoDataFrames with a CRS; column
        ``user`` optional, missing or empty meaning unknown).
    parcels
        Red lines (GeoDataFrame or path, see :func:`landgis.read_parcels`).
    admin
        Optional street/village areas (see :func:`landgis.audit`).
    min_area
        Smallest piece kept, m² (default 1).  ``0`` keeps everything.
    grid_size
        Snap-rounding grid, m (default 1e-6).
    crs
        Analysis CRS; default as in :func:`landgis.audit` (the parcels', or
        the later survey's, when metric, else the Gauss-Krüger zone).
    campaign
        Campaign settings for deadlines and routing (see :func:`landgis.load_campaign`).
    land_classes
        The earlier land survey's 图斑 (:func:`landgis.io.land_survey.read_dltb`):
        every finding gets ``land_class``, the class its land had, and new or
        grown use outside every red line on 耕地 becomes
        ``farmland_construction`` (:func:`landgis.survey.apply_land_classes`).

    Returns
    -------
    geopandas.GeoDataFrame
        The findings shape (:data:`landgis.findings.COLUMNS`,
        :data:`~landgis.findings.EXTRA_COLUMNS`, geometry): ``holder`` is the
        footprint's user, ``parcel_id`` the red line the piece lies in,
        ``other_holder`` that red line's holder when it is not the user.
        :func:`landgis.present.csv.write_csv` and
        :func:`landgis.present.webmap.build_map` take it as it is.
    """
    return _change(
        before,
        after,
        parcels=parcels,
        admin=admin,
        min_area=min_area,
        grid_size=grid_size,
        crs=crs,
        campaign=campaign,
        classes=land_classes,
    )


def _change(
    before,
    after,
    *,
    parcels,
    admin,
    min_area,
    grid_size,
    crs,
    campaign,
    classes=None,
    grown: bool = True,
    found=None,
) -> gpd.GeoDataFrame:
    """:func:`use_change`; ``grown=False`` reports all new use as ``use_new`` (change
    patches alone, without the earlier survey, cannot tell an extension)."""
    from landgis.config import load_campaign
    from landgis.findings import build_findings
    from landgis.io.vector import read_parcels
    from landgis.survey import apply_land_classes

    if not min_area >= 0:
        raise ConfigError(f"min_area={min_area!r}; give m² ≥ 0.")
    if not grid_size > 0:
        raise ConfigError(f"grid_size={grid_size!r}; give a positive grid, metres.")
    for name, frame in (("before", before), ("after", after)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}")
        if frame.crs is None:
            raise CRSError(f"use_change: the {name} footprints have no CRS; set one.")
    red = read_parcels(parcels) if parcels is not None else None
    reference = red if red is not None else after if len(after) else before
    target = analysis_crs(reference.crs, reference.total_bounds, crs=crs)
    before_g, before_u = _polygons_and_users(before, target, "before")
    after_g, after_u = _polygons_and_users(after, target, "after")
    if red is not None and not red.crs.equals(target):
        attrs = red.attrs
        red = red.to_crs(target)
        red.attrs = attrs

    all_before = shapely.union_all(before_g, grid_size=grid_size)
    shapely.prepare(all_before)
    rows: list[tuple[str, str, Any]] = []
    for user in pd.unique(after_u):
        mine = shapely.union_all(after_g[after_u == user], grid_size=grid_size)
        for piece in _pieces(shapely.difference(mine, all_before, grid_size=grid_size)):
            touches = not shapely.is_empty(all_before) and shapely.intersects(all_before, piece)
            rows.append(("use_grown" if grown and touches else "use_new", user, piece))
    all_after = shapely.union_all(after_g, grid_size=grid_size)
    for user in pd.unique(before_u):
        mine = shapely.union_all(before_g[before_u == user], grid_size=grid_size)
        for piece in _pieces(shapely.difference(mine, all_after, grid_size=grid_size)):
            rows.append(("use_removed", user, piece))

    raw = gpd.GeoDataFrame(
        _split_by_parcels(rows, red, grid_size=grid_size), geometry="geometry", crs=target
    )
    settings = load_campaign(campaign).with_options(min_area=min_area, grid_size=grid_size)
    if classes is not None and len(raw):
        if not classes.crs.equals(target):
            classes = classes.to_crs(target)
        outside = raw["category"].isin(("use_new", "use_grown")) & (raw["parcel_id"] == "")
        raw = apply_land_classes(
            raw,
            classes,
            outside=outside.to_numpy(),
            settings=settings.land_survey,
            grid_size=grid_size,
        )
    raw = raw.loc[raw["area_m2"] >= min_area].reset_index(drop=True) if len(raw) else raw
    context = (
        red if red is not None else gpd.GeoDataFrame({"parcel_id": []}, geometry=[], crs=target)
    )
    if admin is not None and not admin.crs.equals(target):
        admin = admin.to_crs(target)
    return build_findings(raw, parcels=context, campaign=settings, admin=admin, found=found)


def use_change_from_patches(
    patches: gpd.GeoDataFrame,
    *,
    before: gpd.GeoDataFrame | None = None,
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    admin: gpd.GeoDataFrame | None = None,
    min_area: float = Tolerances.min_area,
    grid_size: float = Tolerances.grid_size,
    crs: Any = None,
    campaign: Any = None,
) -> gpd.GeoDataFrame:
    """:func:`use_change` from 卫片 change patches (监测图斑): new construction per
    parcel and holder, as two survey rounds would give it.

    A patch whose class after (后时相) is actual use and before (前时相) was not
    is new construction; one whose class before was use and after is not, use
    removed; the others (a factory become a warehouse, a field become an
    orchard) change no use.  Each patch's user is the one the layer names, else
    the holder of the authorized parcel holding most of it, else the
    campaign's anonymous user (``[land_survey]``).

    With ``before`` (the survey the patches are relative to: footprints, or
    :func:`landgis.read_land_survey` of the earlier DLTB), the later survey is
    ``before`` less the removed patches plus the new ones, and the findings are
    exactly those of :func:`use_change` between the two; without it every new
    construction is ``use_new`` (no extension can be told) and every removal
    ``use_removed``.  New or grown use outside every red line on land that was
    耕地 before is ``farmland_construction``; every finding says in
    ``land_class`` what the patch found (``0103 旱地→0601 工业用地``).

    Parameters
    ----------
    patches
        The patch layer as :func:`landgis.io.land_survey.read_change_patches`
        reads it.
    before
        Optional footprints of the earlier survey (with ``user``).
    parcels, admin, min_area, grid_size, crs, campaign
        As in :func:`use_change`.  The findings' deadlines count from the latest
        后时相 of the patches.

    Returns
    -------
    geopandas.GeoDataFrame
        The findings shape, as :func:`use_change`.
    """
    from landgis.config import load_campaign
    from landgis.io.users import assign_users
    from landgis.landclass import class_label

    settings = load_campaign(campaign).land_survey
    frame = patches.copy()
    red = parcels
    if red is not None and not isinstance(red, gpd.GeoDataFrame):
        from landgis.io.vector import read_parcels

        red = read_parcels(red)
    reference = red if red is not None else frame
    target = analysis_crs(reference.crs, reference.total_bounds, crs=crs)
    if len(frame) and not frame.crs.equals(target):
        frame = frame.to_crs(target)
    frame["area_m2"] = frame.geometry.area
    named = frame["user"].astype(str).to_numpy(dtype=object) != ""
    if red is not None:
        frame = assign_users(
            frame,
            red,
            min_share=settings.min_share,
            unknown_user=settings.unknown_user,
            only=~named,
        )
    else:
        frame["user"] = np.where(named, frame["user"], settings.unknown_user)
    new = frame.loc[frame["built_after"] & ~frame["built_before"], ["user", "geometry"]]
    gone = frame.loc[frame["built_before"] & ~frame["built_after"], ["user", "geometry"]]
    classes = gpd.GeoDataFrame(
        {
            "class_code": frame["after_class"].to_numpy(dtype=object),
            "was_code": frame["before_class"].to_numpy(dtype=object),
            "land_class": [
                f"{class_label(b)}→{class_label(a)}"
                for b, a in zip(frame["before_class"], frame["after_class"], strict=True)
            ],
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    dates = [d for d in frame["after_date"] if d is not None] if "after_date" in frame else []
    common: dict[str, Any] = {
        "parcels": red,
        "admin": admin,
        "min_area": min_area,
        "grid_size": grid_size,
        "crs": target,
        "campaign": campaign,
        "classes": classes,
        "found": max(dates) if dates else None,
    }
    if before is None:
        return _change(gone, new, grown=False, **common)
    earlier = before if before.crs.equals(target) else before.to_crs(target)
    later = earlier[["user", "geometry"]].copy()
    if len(gone):
        removed = shapely.union_all(np.asarray(gone.geometry.values, dtype=object))
        later["geometry"] = later.geometry.difference(removed)
        kept = np.asarray(later.geometry.values, dtype=object)
        later = later.loc[~shapely.is_missing(kept) & (shapely.area(kept) > 0)]
    later = gpd.GeoDataFrame(
        pd.concat([later, new], ignore_index=True), geometry="geometry", crs=target
    )
    return _change(earlier, later, **common)


def use_change_from_rasters(
    before: RasterSource,
    after: RasterSource,
    *,
    classes: int | Iterable[int],
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    admin: gpd.GeoDataFrame | None = None,
    min_area: float = Tolerances.min_area,
    grid_size: float = Tolerances.grid_size,
    crs: Any = None,
    campaign: Any = None,
    **options: Any,
) -> gpd.GeoDataFrame:
    """:func:`use_change` between two classified rasters (two surveys of one place).

    Both rasters are vectorized by :func:`footprints_from_raster` with
    ``classes`` and ``options`` (``sieve``, ``connectivity``, ``simplify``,
    ``mask_from`` …; ``simplify`` defaults to ``False`` here, so that pixel
    edges the two epochs share cancel exactly); with ``parcels`` their users
    are assigned from the red lines.  The remaining parameters are those of
    :func:`use_change`.
    """
    options.setdefault("simplify", False)
    kwargs = {"classes": classes, "parcels": parcels, "crs": crs, **options}
    first = footprints_from_raster(before, **kwargs)
    second = footprints_from_raster(after, **kwargs)
    return use_change(
        first,
        second,
        parcels=parcels,
        admin=admin,
        min_area=min_area,
        grid_size=grid_size,
        crs=crs,
        campaign=campaign,
    )


def _polygons_and_users(frame: gpd.GeoDataFrame, target, name: str):
    if not frame.crs.equals(target):
        frame = frame.to_crs(target)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    ok = np.array([g is not None for g in geoms], dtype=bool)
    ok[ok] = np.isin(shapely.get_type_id(geoms[ok]), (3, 6, 7)) & ~shapely.is_empty(geoms[ok])
    if not ok.all():
        bad = [str(i) for i in frame.index[~ok][:10]]
        raise GeometryError(
            f"use_change: the {name} footprints hold empty or non-polygon geometries "
            f"(rows {', '.join(bad)}); footprints must be polygons."
        )
    geoms = shapely.make_valid(geoms)
    if "user" in frame:
        users = frame["user"].astype(object).where(frame["user"].notna(), "").astype(str)
        users = users.str.strip().to_numpy(dtype=object)
    else:
        users = np.full(len(frame), "", dtype=object)
    return geoms, users


def _pieces(geom) -> list:
    """The polygons of a geometry (collection), non-empty, with area."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    parts = parts[shapely.get_type_id(parts) == 3]
    return [p for p in parts if shapely.area(p) > 0]


def _split_by_parcels(rows, red, *, grid_size: float) -> pd.DataFrame:
    columns = ["category", "holder", "parcel_id", "other_holder", "other_parcel_id", "area_m2"]
    out: list[dict] = []

    def add(category, user, piece, pid="", pholder=""):
        for part in _pieces(piece):
            out.append(
                {
                    "category": category,
                    "holder": user,
                    "parcel_id": pid,
                    "other_holder": pholder if pholder != user else "",
                    "other_parcel_id": "",
                    "area_m2": float(shapely.area(part)),
                    "geometry": part,
                }
            )

    if red is None or not len(red) or not rows:
        for category, user, piece in rows:
            add(category, user, piece)
        return pd.DataFrame(out, columns=[*columns, "geometry"])
    pgeoms = np.asarray(red.geometry.values, dtype=object)
    parea = shapely.area(pgeoms)
    pids = red["parcel_id"].to_numpy(dtype=object)
    holders = red["holder"].fillna("").to_numpy(dtype=object)
    tree = shapely.STRtree(pgeoms)
    for category, user, piece in rows:
        rest = piece
        for j in sorted(tree.query(piece, predicate="intersects"), key=lambda k: parea[k]):
            inside = shapely.intersection(rest, pgeoms[j], grid_size=grid_size)
            if shapely.area(inside) > 0:
                add(category, user, inside, pids[j], holders[j])
                rest = shapely.difference(rest, pgeoms[j], grid_size=grid_size)
            if shapely.is_empty(rest):
                break
        add(category, user, rest)
    return pd.DataFrame(out, columns=[*columns, "geometry"])



@dataclass
class Change:
    """The change between two surveys, as :func:`detect_change` found it.

    Attributes
    ----------
    findings
        ``use_new`` / ``use_grown`` / ``use_removed`` findings (the findings shape).
    parcels, admin
        The red lines and street/village areas used (or ``None``).
    campaign
        Deadlines and routing used.
    """

    findings: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame | None
    admin: gpd.GeoDataFrame | None
    campaign: Campaign

    def write(self, outdir: str | Path, *, lang: str = "zh") -> dict[str, Path]:
        """Write ``change.csv`` (UTF-8 with BOM), ``change.gpkg`` (layer ``findings``)
        and ``change.html`` (an offline map of new, grown and removed use)."""
        from landgis.io.atomic import atomic_path
        from landgis.present.csv import write_csv
        from landgis.present.gpkg import write_gpkg
        from landgis.present.webmap import build_map, map_html

        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        layers = {"parcels": self.parcels, "admin": self.admin}
        written = {
            "change.csv": write_csv(self.findings, outdir / "change.csv", lang=lang),
            "change.gpkg": write_gpkg(self.findings, outdir / "change.gpkg", layers=layers),
        }
        page = build_map(
            self.findings,
            parcels=self.parcels,
            admin=self.admin,
            title=f"{self.campaign.name} · 用地变化",
        )
        with atomic_path(outdir / "change.html") as tmp:
            tmp.write_text(map_html(page), encoding="utf-8")
        written["change.html"] = outdir / "change.html"
        return written


def detect_change(
    before: str | Path | gpd.GeoDataFrame | None,
    after: str | Path | gpd.GeoDataFrame,
    *,
    parcels: str | Path | gpd.GeoDataFrame | None = None,
    admin: str | Path | gpd.GeoDataFrame | None = None,
    classes: int | Iterable[int] | None = None,
    mask_from: str | Path | None = None,
    min_area: float = Tolerances.min_area,
    crs: Any = None,
    config: Any = None,
    land_survey: bool = False,
    patches: bool = False,
    land_classes: str | Path | gpd.GeoDataFrame | None = None,
    before_layer: str | int | None = None,
    after_layer: str | int | None = None,
    land_classes_layer: str | int | None = None,
) -> Change:
    """Read two surveys of one place and find what changed (``landgis change``).

    Parameters
    ----------
    before, after
        Both footprint layers (paths or frames, with users as for
        :func:`landgis.read_footprints`), or both classified rasters; with
        ``land_survey``, land-survey layers (地类图斑 ``DLTB``); with
        ``patches``, ``after`` is a 卫片 change-patch layer and ``before`` the
        survey it is relative to (or ``None``).
    parcels, admin
        Optional red lines (each change is split by them and names their
        holder; for rasters, land-survey 图斑 and patches they also give each
        footprint its user) and street/village areas.
    classes, mask_from
        For rasters: the pixel values that are actual use (required), and an
        image to take the georeference from.
    min_area, crs, config
        Smallest change kept (m²), the analysis CRS, the campaign (file, dict or
        :class:`~landgis.Campaign`) for deadlines, routing and ``[land_survey]``.
    land_survey
        ``before`` (and ``after``, unless ``patches``) are the land survey's
        地类图斑 layers (三调, 国土变更调查): their 图斑 in use are the footprints
        (:func:`landgis.read_land_survey`), and the earlier one's classes label
        the findings (new use outside every red line on 耕地:
        ``farmland_construction``).
    patches
        ``after`` is a 卫片 change-patch layer (监测图斑, fields mapped by
        ``[land_survey.patch_fields]``): :func:`use_change_from_patches`.
    land_classes, land_classes_layer
        A land-survey layer whose classes label the change of two footprint
        layers (default with ``land_survey``: ``before``).
    before_layer, after_layer
        Layer names in multi-layer files (GeoPackage, File Geodatabase).

    Raises
    ------
    ConfigError
        One survey is a raster and the other not, rasters without ``classes``,
        or rasters with ``land_survey`` or ``patches``.
    """
    from landgis.config import load_campaign
    from landgis.io.land_survey import land_survey_footprints, read_change_patches, read_dltb
    from landgis.io.raster import RASTER_SUFFIXES, is_raster
    from landgis.io.vector import read_admin, read_footprints, read_parcels

    rasters = [is_raster(before), is_raster(after)]
    if any(rasters) and (land_survey or patches):
        raise ConfigError(
            "land_survey / patches read vector layers (地类图斑, 卫片 patches), not rasters."
        )
    if any(rasters) and not all(rasters):
        raise ConfigError(
            f"before and after must both be rasters ({', '.join(RASTER_SUFFIXES)}) "
            "or both footprint layers."
        )
    if all(rasters) and not classes:
        raise ConfigError("two rasters need classes=: the pixel values that are actual use.")
    if before is None and not patches:
        raise ConfigError("before is missing: give the earlier survey (only patches go without).")
    campaign = load_campaign(config)
    red = read_parcels(parcels, crs=crs) if parcels is not None else None
    if crs is None and red is not None and not all(rasters):  # every layer in the parcels'
        crs = analysis_crs(red.crs, red.total_bounds)
    zones = read_admin(admin, crs=crs) if admin is not None else None
    common = {"parcels": red, "admin": zones, "min_area": min_area, "crs": crs}
    if all(rasters):
        assert classes is not None  # two rasters without classes raised above
        assert isinstance(before, str | Path) and isinstance(after, str | Path)  # rasters
        found = use_change_from_rasters(
            before, after, classes=classes, mask_from=mask_from, campaign=campaign, **common
        )
        return Change(findings=found, parcels=red, admin=zones, campaign=campaign)

    settings = campaign.land_survey
    later = (
        read_change_patches(after, layer=after_layer, crs=crs, config=campaign)
        if patches
        else None
    )
    area = _bounds_of(red, zones, later)

    def survey(source, layer):
        """A land-survey layer: every 图斑 (classes) and those in use (footprints)."""
        dltb = read_dltb(source, layer=layer, crs=crs, mask=area)
        return dltb, land_survey_footprints(dltb, parcels=red, settings=settings)

    labels = None
    if land_survey:
        labels, first = survey(before, before_layer) if before is not None else (None, None)
    elif before is not None:
        first = read_footprints(before, layer=before_layer, crs=crs)
    else:
        first = None
    if land_classes is not None:
        labels = read_dltb(land_classes, layer=land_classes_layer, crs=crs, mask=area)
    if later is not None:
        found = use_change_from_patches(later, before=first, campaign=campaign, **common)
    else:
        assert first is not None  # checked above: only patches go without
        second = (
            survey(after, after_layer)[1]
            if land_survey
            else read_footprints(after, layer=after_layer, crs=crs)
        )
        found = use_change(first, second, campaign=campaign, land_classes=labels, **common)
    return Change(findings=found, parcels=red, admin=zones, campaign=campaign)


def _bounds_of(*frames) -> gpd.GeoSeries | None:
    """The bounding boxes of the frames given (the land survey's 图斑 touching them
    are read), or ``None`` (read them all)."""
    present = [f for f in frames if f is not None and len(f)]
    if not present:
        return None
    crs = present[0].crs
    boxes = [
        shapely.box(*(f if f.crs.equals(crs) else f.to_crs(crs)).total_bounds) for f in present
    ]
    return gpd.GeoSeries([shapely.envelope(shapely.union_all(boxes))], crs=crs)
