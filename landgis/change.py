"""Change of actual use between two surveys (长效管护): new, grown and removed use.

:func:`use_change` compares two footprint layers, :func:`use_change_from_rasters`
two classified rasters; both return findings (``use_new``, ``use_grown``,
``use_removed``) that the CSV, GeoPackage and map writers take as they are.
:func:`detect_change` is what ``landgis change`` runs: read, compare, and a
:class:`Change` that writes ``change.csv``, ``change.gpkg`` and ``change.html``.
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
    from landgis.config import load_campaign
    from landgis.findings import build_findings
    from landgis.io.vector import read_parcels

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
    all_after = shapely.union_all(after_g, grid_size=grid_size)
    shapely.prepare(all_before)
    rows: list[tuple[str, str, Any]] = []
    for user in pd.unique(after_u):
        mine = shapely.union_all(after_g[after_u == user], grid_size=grid_size)
        for piece in _pieces(shapely.difference(mine, all_before, grid_size=grid_size)):
            grown = not shapely.is_empty(all_before) and shapely.intersects(all_before, piece)
            rows.append(("use_grown" if grown else "use_new", user, piece))
    for user in pd.unique(before_u):
        mine = shapely.union_all(before_g[before_u == user], grid_size=grid_size)
        for piece in _pieces(shapely.difference(mine, all_after, grid_size=grid_size)):
            rows.append(("use_removed", user, piece))

    raw = _split_by_parcels(rows, red, grid_size=grid_size)
    raw = raw.loc[raw["area_m2"] >= min_area].reset_index(drop=True) if len(raw) else raw
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=target)
    settings = load_campaign(campaign).with_options(min_area=min_area, grid_size=grid_size)
    context = (
        red if red is not None else gpd.GeoDataFrame({"parcel_id": []}, geometry=[], crs=target)
    )
    if admin is not None and not admin.crs.equals(target):
        admin = admin.to_crs(target)
    return build_findings(raw, parcels=context, campaign=settings, admin=admin)


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
    before: str | Path | gpd.GeoDataFrame,
    after: str | Path | gpd.GeoDataFrame,
    *,
    parcels: str | Path | gpd.GeoDataFrame | None = None,
    admin: str | Path | gpd.GeoDataFrame | None = None,
    classes: int | Iterable[int] | None = None,
    mask_from: str | Path | None = None,
    min_area: float = Tolerances.min_area,
    crs: Any = None,
    config: Any = None,
) -> Change:
    """Read two surveys of one place and find what changed (``landgis change``).

    Parameters
    ----------
    before, after
        Both footprint layers (paths or frames, with users as for
        :func:`landgis.read_footprints`), or both classified rasters.
    parcels, admin
        Optional red lines (each change is split by them and names their
        holder; for rasters they also give each footprint its user) and
        street/village areas.
    classes, mask_from
        For rasters: the pixel values that are actual use (required), and an
        image to take the georeference from.
    min_area, crs, config
        Smallest change kept (m²), the analysis CRS, the campaign (file, dict or
        :class:`~landgis.Campaign`) for deadlines and routing.

    Raises
    ------
    ConfigError
        One survey is a raster and the other not, or rasters without ``classes``.
    """
    from landgis.config import load_campaign
    from landgis.io.raster import RASTER_SUFFIXES, is_raster
    from landgis.io.vector import read_admin, read_footprints, read_parcels

    rasters = [is_raster(before), is_raster(after)]
    if any(rasters) and not all(rasters):
        raise ConfigError(
            f"before and after must both be rasters ({', '.join(RASTER_SUFFIXES)}) "
            "or both footprint layers."
        )
    if all(rasters) and not classes:
        raise ConfigError("two rasters need classes=: the pixel values that are actual use.")
    campaign = load_campaign(config)
    red = read_parcels(parcels, crs=crs) if parcels is not None else None
    zones = read_admin(admin, crs=crs) if admin is not None else None
    common = {"parcels": red, "admin": zones, "min_area": min_area, "crs": crs}
    if all(rasters):
        assert classes is not None  # two rasters without classes raised above
        found = use_change_from_rasters(
            before, after, classes=classes, mask_from=mask_from, campaign=campaign, **common
        )
    else:
        found = use_change(
            read_footprints(before, crs=crs),
            read_footprints(after, crs=crs),
            campaign=campaign,
            **common,
        )
    return Change(findings=found, parcels=red, admin=zones, campaign=campaign)
