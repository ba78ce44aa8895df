"""The national land survey as actual use: 地类图斑 (DLTB) and 卫片 change patches.

A land office rarely has a footprint layer with a user on every building, but
it has the land survey database on every desk: the 第三次全国国土调查 (三调) and
each year's 国土变更调查, whose layer 地类图斑 ``DLTB`` classes every 图斑
(``DLBM``/``DLMC``, TD/T 1055-2019 工作分类) with its owner and location
(``QSDWMC``, ``ZLDWMC``), its area on the ellipsoid (``TBMJ``) and, in towns and
villages, the 城镇村属性码 ``CZCSXM``; and, from 卫片执法, change patches (监测图斑)
with the class before and after.

* :func:`read_dltb` — every 图斑 of a DLTB layer (File Geodatabase, GeoPackage or
  Shapefile as delivered), its class as a code and a label, its plane and
  ellipsoidal areas beside the survey's ``TBMJ``;
* :func:`read_land_survey` — the 图斑 that are actual use (建设用地 and
  设施农用地 by default, :class:`~landgis.landclass.LandSurveySettings`) as
  footprints, their users inferred like a raster's: a survey attribute, else the
  holder of the authorized parcel holding most of the 图斑, else one anonymous
  user (``user_source`` says which);
* :func:`read_change_patches` — a 卫片 patch layer with the classes before and
  after and the dates, through a configurable field map.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import Campaign, load_campaign
from landgis.crs import analysis_crs, ellipsoidal_area
from landgis.errors import SchemaError
from landgis.io.columns import as_text, fmt_list, fmt_rows, user_aliases, warn
from landgis.io.report import report_of
from landgis.io.users import assign_users
from landgis.io.vector import Source, read_footprints, read_layer
from landgis.landclass import (
    CZCSXM,
    LAND_CLASSES,
    LandSurveySettings,
    class_label,
    normalize_code,
    resolve_class,
)
from landgis.schema import LAYERS, Aliases

__all__ = [
    "USER_SOURCES",
    "land_survey_footprints",
    "land_survey_settings",
    "parse_survey_date",
    "read_change_patches",
    "read_dltb",
    "read_land_survey",
]

#: ``user_source`` of a land-survey footprint: code → Chinese wording.
USER_SOURCES: dict[str, str] = {
    "attribute": "调查属性",  # the layer names the user (an office's own field)
    "parcel": "所在宗地（推定）",  # the holder of the authorized parcel holding most of it
    "unknown": "未知",  # neither: one anonymous user
}

#: ``TBMJ`` and the ellipsoidal area of the geometry differ by more than this share
#: (and 1 m²): the layer was clipped or reshaped after the survey, or its CRS is wrong.
TBMJ_TOLERANCE = 0.005

#: Codes that are 城镇村属性码 or survey-stage pseudo classes, not 地类 (a DLTB layer
#: before 细化, or the wrong field).
_PSEUDO_CLASSES = frozenset({"201", "202", "203", "204", "205", "1301", "1302", "1303", "1304"})


def land_survey_settings(config: Any = None) -> LandSurveySettings:
    """The land-survey settings of a campaign (a :class:`~landgis.Campaign`, its
    TOML file or dict, or :class:`~landgis.landclass.LandSurveySettings`)."""
    if isinstance(config, LandSurveySettings):
        return config
    campaign = config if isinstance(config, Campaign) else load_campaign(config)
    return campaign.land_survey


def read_dltb(
    source: Source,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    source_crs: Any = None,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    mask: Any = None,
) -> gpd.GeoDataFrame:
    """Read every 图斑 of a land-survey layer (地类图斑 ``DLTB``) with its class.

    Parameters
    ----------
    source
        A File Geodatabase (``.gdb``; the layer ``DLTB`` is found in it, also
        inside the feature dataset ``TDDC``), a GeoPackage, a Shapefile or a
        GeoDataFrame.
    layer
        Layer name (default: the one layer, or the one named ``DLTB``/地类图斑).
    crs
        The analysis CRS (projected, metres).  Default: the layer's when it is
        such a projection (the survey's 3° Gauss-Krüger zone), else the
        Gauss-Krüger zone of the data.
    source_crs, aliases, columns, encoding
        As in :func:`landgis.read_parcels`.  Field names are those of TD/T
        1057-2020 (``DLBM``, ``DLMC``, ``BSM``, ``TBBH``, ``QSDWMC``, ``ZLDWMC``,
        ``ZLDWDM``, ``TBMJ``, ``KCMJ``, ``TBDLMJ``, ``CZCSXM``, ``SJNF``) or their
        Chinese aliases; ``columns={"MYDLBM": "class_code"}`` maps others.
    mask
        Optional area (a shapely geometry in ``crs``, or a GeoSeries): only the
        图斑 touching it are kept — a county's layer holds far more than one zone.

    Returns
    -------
    geopandas.GeoDataFrame
        ``class_code`` (``DLBM``, normalized: ``"0601"``, ``"05H1"``), ``class_name``
        (``DLMC``, else the standard's name), ``land_class`` (``"0601 工业用地"``),
        ``czcsxm``, the optional columns found (``survey_id`` ``BSM``,
        ``survey_number`` ``TBBH``, ``owner_unit`` ``QSDWMC``, ``location_unit`` ``ZLDWMC``,
        ``survey_area_m2`` ``TBMJ`` …, ``user``), ``area_m2`` (plane area in
        ``crs``) and ``area_ellipsoid_m2`` (:func:`landgis.crs.ellipsoidal_area`).
        The report (``attrs["landgis"]``) records the sums of ``TBMJ``, plane and
        ellipsoidal area.

    Raises
    ------
    SchemaError
        No class field (``DLBM``), or 图斑 without a class.

    Warns
    -----
    LandgisWarning
        Class codes the 三调 工作分类 does not know (provincial refinements count
        only when the campaign names them), 城镇村属性码 used as classes, unknown
        ``CZCSXM``, and ``TBMJ`` that the geometry does not bear out.
    """
    gdf, origin = read_layer(
        LAYERS["land_survey"],
        source,
        layer=layer,
        crs=crs,
        source_crs=source_crs,
        aliases=user_aliases(aliases, columns, None),
        encoding=encoding,
    )
    report = report_of(gdf)
    target = analysis_crs(gdf.crs, gdf.total_bounds if len(gdf) else (0, 0, 0, 0), crs=crs)
    if len(gdf) and not gdf.crs.equals(target):
        gdf = gdf.to_crs(target)
        gdf.attrs["landgis"] = report
    if mask is not None and len(gdf):
        if isinstance(mask, gpd.GeoSeries | gpd.GeoDataFrame):
            shown = mask if mask.crs is None or mask.crs.equals(gdf.crs) else mask.to_crs(gdf.crs)
            mask = shapely.union_all(np.asarray(shown.geometry.values, dtype=object))
        gdf = gdf.loc[gdf.intersects(mask)]
        gdf.attrs["landgis"] = report

    codes = gdf["class_code"].map(normalize_code).astype(object)
    empty = codes == ""
    if empty.any():
        raise SchemaError(
            f"{origin}: the class (DLBM, 地类编码) is empty in {fmt_rows(gdf, empty)}; every "
            "图斑 of a land survey has one. Fill it in, or remove those rows."
        )
    gdf["class_code"] = codes
    pseudo = codes.isin(_PSEUDO_CLASSES)
    if pseudo.any():
        warn(
            gdf,
            f"{origin}: class codes {fmt_list(codes[pseudo].unique())} in "
            f"{fmt_rows(gdf, pseudo)} are 城镇村属性码 or survey-stage classes, not 地类: is "
            "this the refined DLTB layer (and DLBM the class field)? They are not counted as use.",
        )
    unknown = ~codes.isin(list(LAND_CLASSES)) & ~pseudo
    if unknown.any():
        warn(
            gdf,
            f"{origin}: class codes {fmt_list(codes[unknown].unique())} are not in the 三调 "
            f"工作分类 (TD/T 1055 表A.2) ({fmt_rows(gdf, unknown)}); they count as use only "
            "when [land_survey] in_use names them.",
        )
    names = as_text(gdf["class_name"]) if "class_name" in gdf else pd.Series("", index=gdf.index)
    gdf["class_name"] = [
        name or (LAND_CLASSES[c].name if c in LAND_CLASSES else "")
        for c, name in zip(codes, names, strict=True)
    ]
    gdf["land_class"] = [class_label(c, n) for c, n in zip(codes, gdf["class_name"], strict=True)]
    if "czcsxm" in gdf:
        czc = gdf["czcsxm"].map(normalize_code).astype(object)
        odd = (czc != "") & ~czc.isin(list(CZCSXM))
        if odd.any():
            warn(
                gdf,
                f"{origin}: 城镇村属性码 (CZCSXM) {fmt_list(czc[odd].unique())} in "
                f"{fmt_rows(gdf, odd)} are not in TD/T 1055 表A.3 ({', '.join(CZCSXM)}).",
            )
        gdf["czcsxm"] = czc
    else:
        gdf["czcsxm"] = ""
    texts = ("survey_id", "survey_number", "owner_unit", "location_unit", "location_code", "user")
    for name in texts:
        if name in gdf:
            gdf[name] = as_text(gdf[name])
    for name in ("survey_area_m2", "deducted_area_m2", "class_area_m2"):
        if name in gdf:
            gdf[name] = _numbers(gdf, name, origin)
    gdf["area_m2"] = gdf.geometry.area
    gdf["area_ellipsoid_m2"] = ellipsoidal_area(gdf) if len(gdf) else np.zeros(0)
    facts = {
        "rows": len(gdf),
        "area_m2": round(float(gdf["area_m2"].sum()), 2),
        "area_ellipsoid_m2": round(float(gdf["area_ellipsoid_m2"].sum()), 2),
    }
    if "survey_area_m2" in gdf:
        facts["survey_area_m2"] = round(float(gdf["survey_area_m2"].sum()), 2)
        tbmj = gdf["survey_area_m2"].to_numpy(dtype=float)
        ell = gdf["area_ellipsoid_m2"].to_numpy(dtype=float)
        off = np.isfinite(tbmj) & (np.abs(tbmj - ell) > np.maximum(TBMJ_TOLERANCE * ell, 1.0))
        if off.any():
            warn(
                gdf,
                f"{origin}: TBMJ differs from the ellipsoidal area of the geometry by more than "
                f"{TBMJ_TOLERANCE:.1%} in {fmt_rows(gdf, pd.Series(off, index=gdf.index))}: the "
                "图斑 were clipped or edited after the survey, or the layer's CRS is wrong. "
                "landgis measures areas from the geometry.",
            )
    report["land_survey"] = facts
    report.rows = len(gdf)
    gdf.attrs["landgis"] = report
    return gdf


def land_survey_footprints(
    dltb: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    settings: LandSurveySettings | None = None,
) -> gpd.GeoDataFrame:
    """The 图斑 of a DLTB frame (:func:`read_dltb`) that are actual use, as footprints.

    Parameters
    ----------
    dltb
        Every 图斑 with its class.
    parcels
        Red lines, which give a 图斑 without a user attribute its user: the
        holder of the authorized parcel holding at least ``settings.min_share``
        of it.
    settings
        Which classes are use, the anonymous user's name (default: the
        campaign defaults).

    Returns
    -------
    geopandas.GeoDataFrame
        Validated footprints (:func:`landgis.read_footprints`): ``footprint_id``
        (``BSM``, else ``ZLDWDM``-``TBBH``, else ``D1``, ``D2`` …), ``user``,
        ``user_source`` (:data:`USER_SOURCES`), ``use`` and ``land_class``
        (``"0601 工业用地"``), ``class_code``, ``class_name``, ``czcsxm`` and the
        survey's other columns, ``area_m2``, ``area_ellipsoid_m2``,
        ``parcel_id`` (the parcel that named the user) and ``user_share``.
    """
    settings = settings or LandSurveySettings()
    source_report = report_of(dltb)
    keep = dltb["class_code"].map(settings.is_in_use).to_numpy(dtype=bool)
    frame = dltb.loc[keep].copy()
    frame.insert(0, "footprint_id", _footprint_ids(frame))
    named = frame["user"].to_numpy(dtype=object) if "user" in frame else np.full(len(frame), "")
    attribute = np.array([bool(u) for u in named], dtype=bool)
    frame["user"] = np.where(attribute, named, settings.unknown_user).astype(object)
    if parcels is not None:
        frame = assign_users(
            frame,
            parcels,
            min_share=settings.min_share,
            unknown_user=settings.unknown_user,
            only=~attribute,
        )
    else:
        frame["parcel_id"] = ""
        frame["user_share"] = np.nan
    frame["user_source"] = np.where(
        attribute, "attribute", np.where(frame["parcel_id"] != "", "parcel", "unknown")
    ).astype(object)
    frame["use"] = frame["land_class"]
    first = ["footprint_id", "user", "user_source", "use", "land_class", "class_code", "class_name"]
    rest = [c for c in frame.columns if c not in first and c != frame.geometry.name]
    frame = frame[[*first, *rest, frame.geometry.name]]
    out = read_footprints(frame)
    report = report_of(out)
    found = list(report.warnings)
    report.update(
        {k: v for k, v in source_report.items() if k not in ("columns", "rows", "warnings")}
    )
    report["warnings"] = list(source_report.warnings)
    for message in found:
        report.note(message)
    counts = pd.Series(out["user_source"]).value_counts()
    report["land_survey"] = {
        **source_report.get("land_survey", {}),
        "footprints": len(out),
        "user_source": {k: int(counts.get(k, 0)) for k in USER_SOURCES},
        "in_use": list(settings.in_use),
    }
    report.rows = len(out)
    return out


def read_land_survey(
    source: Source,
    *,
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    built_up: Iterable[str] | None = None,
    config: Any = None,
    layer: str | int | None = None,
    crs: Any = None,
    source_crs: Any = None,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    mask: Any = None,
) -> gpd.GeoDataFrame:
    """Actual use from the land survey: the 图斑 of a DLTB layer in use, as footprints.

    Reads the layer (:func:`read_dltb`), keeps the 图斑 whose class is actual use
    and names their users (:func:`land_survey_footprints`).  The result audits
    like any footprints: ``landgis.audit(parcels, footprints)``, or in one step
    ``landgis.audit(parcels, "DLTB.gdb", land_survey=True)``, which also
    carries each 图斑's class into the findings.

    Parameters
    ----------
    source
        The DLTB layer: File Geodatabase, GeoPackage, Shapefile or GeoDataFrame.
    parcels
        Red lines (GeoDataFrame or path): a 图斑 without a user attribute is
        used by the holder of the authorized parcel holding most of it (at
        least ``min_share``, default half), else by the anonymous
        ``未知使用人``.  Without them every such 图斑 is anonymous.
    built_up
        The classes (``DLBM`` codes) that are actual use, replacing the
        campaign's ``[land_survey] in_use``.  Default: 建设用地 but 1201 空闲地,
        and 1202 设施农用地 (:data:`landgis.landclass.DEFAULT_IN_USE`).  An entry
        matches its refined codes (``"1104"``: ``1104A``, ``1104K``), a two-digit
        one a whole 一级类 (``"07"``).
    config
        Campaign (:class:`~landgis.Campaign`, TOML file or dict) whose
        ``[land_survey]`` says which classes are use, the anonymous user's
        name, the share that makes a parcel's holder the user, a user field.
    layer, crs, source_crs, aliases, columns, encoding, mask
        As in :func:`read_dltb`.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`land_survey_footprints`; ``user_source`` says where each
        user comes from: ``attribute`` (a field of the layer), ``parcel`` (the
        red line holding most of it), ``unknown``.

    Examples
    --------
    >>> import landgis
    >>> fp = landgis.read_land_survey(landgis.get_path("land_survey"),
    ...                               parcels=landgis.get_path("parcels"))
    >>> fp.loc[fp["class_code"] == "0702", ["user", "user_source"]].values.tolist()
    [['未知使用人', 'unknown']]
    """
    settings = land_survey_settings(config)
    if settings.user_field:
        columns = {settings.user_field: "user", **dict(columns or {})}
    if built_up is not None:
        codes = [built_up] if isinstance(built_up, str) else list(built_up)
        settings = replace(settings, in_use=tuple(codes))
    dltb = read_dltb(
        source,
        layer=layer,
        crs=crs,
        source_crs=source_crs,
        aliases=aliases,
        columns=columns,
        encoding=encoding,
        mask=mask,
    )
    return land_survey_footprints(dltb, parcels=parcels, settings=settings)


def _footprint_ids(frame: gpd.GeoDataFrame) -> list[str]:
    """``BSM`` when every kept 图斑 has a distinct one, else ``ZLDWDM-TBBH``
    (``TBBH`` is unique within a village), else ``D`` + the row number."""
    for column in ("survey_id", "survey_number"):
        if column not in frame:
            continue
        ids = frame[column].astype(str).to_numpy(dtype=object)
        if column == "survey_number" and "location_code" in frame:
            place = frame["location_code"].astype(str).to_numpy(dtype=object)
            ids = np.where(place != "", place + "-" + ids, ids)
        if len(ids) and all(ids != "") and len(set(ids)) == len(ids):
            return list(ids)
    return [f"D{i}" for i in frame.index]


def _numbers(gdf: gpd.GeoDataFrame, name: str, origin: str) -> pd.Series:
    values = pd.to_numeric(gdf[name], errors="coerce")
    bad = values.isna() & gdf[name].notna() & (gdf[name].astype(str).str.strip() != "")
    if bad.any():
        warn(gdf, f"{origin}: column {name!r} is not a number in {fmt_rows(gdf, bad)}; left empty.")
    return values


# ------------------------------------------------------------ change patches

_DATE = re.compile(r"(\d{4})\D{0,3}(\d{1,2})?\D{0,3}(\d{1,2})?")


def parse_survey_date(value) -> dt.date | None:
    """A 卫片 acquisition date as the layers write it, or ``None``.

    ``20240415``, ``2024-04-15``, ``2024/4/15``, ``2024年4月15日``, ``202404``
    and ``2024-04`` (the first of the month), dates and timestamps.

    >>> parse_survey_date("2024年4月15日"), parse_survey_date(202404)
    (datetime.date(2024, 4, 15), datetime.date(2024, 4, 1))
    >>> parse_survey_date(""), parse_survey_date("unknown")
    (None, None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    digits = re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", text)
    match = digits or _DATE.fullmatch(text.replace("日", "").strip())
    if not match:
        return None
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def read_change_patches(
    source: Source,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    source_crs: Any = None,
    config: Any = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a 卫片 change-patch layer (卫片执法 / 遥感监测图斑).

    Parameters
    ----------
    source
        The patch layer (Shapefile, GeoPackage, File Geodatabase or GeoDataFrame).
    layer, crs, source_crs, encoding
        As in :func:`read_dltb`.
    config
        Campaign whose ``[land_survey]`` says which classes are use and maps
        fields (``patch_fields``: role → field).
    columns
        Field → role, e.g. ``{"QDL": "before_class"}``, for this call.

    Returns
    -------
    geopandas.GeoDataFrame
        ``patch_id`` (``JCBH``, else ``P1``, ``P2`` …), ``before_class`` and
        ``after_class`` (codes, 一级类 codes such as ``"01"`` for 耕地, or
        三大类 names, :func:`landgis.landclass.resolve_class`), ``before_date``
        and ``after_date`` (dates or ``None``: 前时相, 后时相), ``user`` (``""``
        unless the layer names one), ``built_before``/``built_after`` (whether
        the class is actual use) and ``farmland_before``.

    Raises
    ------
    SchemaError
        No before or after class field (say which with ``patch_fields``), or a
        class value that is neither a code nor a class name.
    """
    settings = land_survey_settings(config)
    mapping = {field: role for role, field in settings.patch_fields.items()}
    mapping.update(columns or {})
    gdf, origin = read_layer(
        LAYERS["patches"],
        source,
        layer=layer,
        crs=crs,
        source_crs=source_crs,
        aliases=Aliases(columns=mapping),
        encoding=encoding,
    )
    if "patch_id" in gdf:
        gdf["patch_id"] = as_text(gdf["patch_id"])
        if (gdf["patch_id"] == "").any():
            gdf.loc[gdf["patch_id"] == "", "patch_id"] = [
                f"P{i}" for i in gdf.index[gdf["patch_id"] == ""]
            ]
    else:
        gdf.insert(0, "patch_id", [f"P{i}" for i in gdf.index])
    for role in ("before_class", "after_class"):
        resolved = []
        bad = np.zeros(len(gdf), dtype=bool)
        for i, value in enumerate(gdf[role].tolist()):
            try:
                resolved.append(resolve_class(value))
            except ValueError:
                resolved.append("")
                bad[i] = True
        if bad.any():
            values = gdf.loc[bad, role].astype(str).unique()
            raise SchemaError(
                f"{origin}: column {role!r} holds {fmt_list(values)} in "
                f"{fmt_rows(gdf, pd.Series(bad, index=gdf.index))}, neither a class code "
                "(0103, 0601 …) nor a class name (旱地, 工业用地, 耕地, 建设用地). If another "
                f'field holds the codes, name it: [land_survey.patch_fields] {role} = "FIELD".'
            )
        gdf[role] = resolved
    for role in ("before_date", "after_date"):
        if role in gdf:
            dates = [parse_survey_date(v) for v in gdf[role].tolist()]
            unread = [
                d is None and str(v).strip() not in ("", "nan", "None", "NaT")
                for d, v in zip(dates, gdf[role].tolist(), strict=True)
            ]
            if any(unread):
                warn(
                    gdf,
                    f"{origin}: {role} cannot be read as a date in "
                    f"{fmt_rows(gdf, pd.Series(unread, index=gdf.index))}; left empty.",
                )
            gdf[role] = pd.Series(dates, index=gdf.index, dtype=object)
        else:
            gdf[role] = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    gdf["user"] = as_text(gdf["user"]) if "user" in gdf else ""
    gdf["built_before"] = gdf["before_class"].map(settings.is_in_use).astype(bool)
    gdf["built_after"] = gdf["after_class"].map(settings.is_in_use).astype(bool)
    gdf["farmland_before"] = gdf["before_class"].map(settings.is_farmland).astype(bool)
    target = analysis_crs(gdf.crs, gdf.total_bounds if len(gdf) else (0, 0, 0, 0), crs=crs)
    if len(gdf) and not gdf.crs.equals(target):
        report = report_of(gdf)
        gdf = gdf.to_crs(target)
        gdf.attrs["landgis"] = report
    return gdf
