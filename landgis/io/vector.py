"""Readers: vector files or GeoDataFrames → validated frames with landgis' columns.

Every reader returns a GeoDataFrame whose columns follow DOMAIN.md (``parcel_id``,
``tenure``, ``holder`` …), whose geometries are valid 2-D (Multi)Polygons, and
whose ``attrs["landgis"]`` holds its :class:`~landgis.io.report.ReadReport` (what
was renamed, repaired or dropped, the encoding, the warnings).  Problems that
would make the audit wrong raise a :class:`~landgis.errors.LandgisError` naming
the file, the rows or column, and the fix.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.crs import M2_PER_MU, crs_from_coordinates, parse_crs
from landgis.errors import CRSError, GeometryError, InputFileError, LandgisWarning, SchemaError
from landgis.io.columns import (
    as_text,
    fmt_list,
    fmt_rows,
    rename_columns,
    row_numbers,
    user_aliases,
    warn,
    without_controls,
)
from landgis.io.report import ReadReport, report_of
from landgis.io.text import TextEncoding, dbf_encoding, recode_latin1
from landgis.schema import AUTHORIZED_TENURES, LAYERS, TENURES, Aliases, LayerSpec

__all__ = [
    "check_registered_unit",
    "read_admin",
    "read_footprints",
    "read_geodata",
    "read_layer",
    "read_parcels",
    "read_planning",
]

Source: TypeAlias = str | Path | gpd.GeoDataFrame


def read_parcels(
    source: Source,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    source_crs: Any = None,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    tenure_values: Mapping[str, str] | None = None,
    encoding: str | None = None,
    strict: bool = True,
) -> gpd.GeoDataFrame:
    """Read red lines (宗地/红线) and validate them.

    Parameters
    ----------
    source
        Path of a GeoPackage, Shapefile, GeoJSON (anything GDAL reads) or a
        GeoDataFrame.
    layer
        Layer name or index in a multi-layer file.  Without it, a file with
        several layers must have exactly one named like ``parcels`` (宗地, 红线 …).
    crs
        The CRS to work in: the layer is reprojected to it.  A layer without a
        CRS (and no ``source_crs``) is taken to be in it.
    source_crs
        The CRS the coordinates are really in, for a file that has none or a
        wrong one (a GeoJSON without ``crs`` member is read as WGS84 degrees).
    aliases
        Extra column and tenure aliases: a dict ``{"columns": {…}, "tenure":
        {…}}`` or a TOML/YAML file with those tables (see
        :func:`landgis.schema.load_aliases`).
    columns
        Shorthand for ``aliases={"columns": columns}``: source field →
        landgis column, e.g. ``{"DKBH": "parcel_id", "DWMC": "holder"}``.
    tenure_values
        Shorthand for ``aliases={"tenure": tenure_values}``, e.g.
        ``{"划拨": "requisitioned"}``.
    encoding
        Text encoding of a Shapefile's attributes (e.g. ``"gbk"``).  Without it,
        a DBF with no ``.cpg`` is read as UTF-8 when it is valid UTF-8 and as
        GB18030 (GBK) otherwise; other formats are UTF-8 by definition.
    strict
        For boundary-point TXT files: a parcel with fewer points than its header
        announces, or whose header area the points do not bear out, is an error
        (default) or, with ``strict=False``, skipped with a warning.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``parcel_id``, ``tenure``, ``holder`` and whichever optional
        columns were found (``street``, ``village``, ``registered_area_mu`` …),
        plus the file's other columns unchanged.

    Raises
    ------
    SchemaError
        A required column is missing or ambiguous, a tenure value is unknown,
        ``parcel_id`` is empty or duplicated, an authorized parcel has no holder.
    GeometryError
        Non-polygon geometries, or no usable geometry at all.
    CRSError
        The layer has no CRS and ``crs`` was not given.

    Examples
    --------
    >>> import landgis
    >>> parcels = landgis.read_parcels(landgis.get_path("parcels"))
    >>> sorted(parcels["tenure"].unique())
    ['leased_in', 'leased_out', 'proxy_requisitioned', 'requisitioned']
    """
    user = user_aliases(aliases, columns, tenure_values)
    gdf, origin = read_layer(
        LAYERS["parcels"],
        source,
        layer=layer,
        crs=crs,
        source_crs=source_crs,
        aliases=user,
        encoding=encoding,
        strict=strict,
    )
    gdf["parcel_id"] = _ids(gdf, "parcel_id", origin)
    _check_unique(gdf, "parcel_id", origin)
    gdf["tenure"] = _tenure_codes(gdf, user, origin)
    gdf["holder"] = as_text(gdf["holder"])
    missing_holder = (gdf["holder"] == "") & gdf["tenure"].isin(AUTHORIZED_TENURES)
    if missing_holder.any():
        raise SchemaError(
            f"{origin}: column 'holder' is empty for authorized parcels "
            f"{fmt_list(gdf.loc[missing_holder, 'parcel_id'])}; every requisitioned, "
            "proxy-requisitioned or leased-out parcel needs its holder (权利人)."
        )
    for name in ("registered_area_mu", "registered_area_m2"):
        if name in gdf:
            gdf[name] = _numbers(gdf, name, origin)
    for name in ("holder_id", "parcel_name", "use", "street", "village"):
        if name in gdf:
            gdf[name] = as_text(gdf[name])
    return gdf


def read_footprints(
    source: Source,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    source_crs: Any = None,
    aliases: Aliases | Mapping[str, Any] | str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read surveyed actual-use footprints (实际使用) and validate them.

    Parameters are those of :func:`read_parcels`.  ``footprint_id`` is
    optional: without it the footprints are numbered ``F1``, ``F2`` … in file
    order.  A user's footprints may overlap; the audit dissolves them.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``footprint_id``, ``user`` and the optional ones found
        (``use``, ``survey_date`` …).

    Raises
    ------
    SchemaError
        The ``user`` column is missing or has empty cells.
    GeometryError, CRSError
        As in :func:`read_parcels`.
    """
    user = user_aliases(aliases, columns, None)
    gdf, origin = read_layer(
        LAYERS["footprints"],
        source,
        layer=layer,
        crs=crs,
        source_crs=source_crs,
        aliases=user,
        encoding=encoding,
    )
    if "footprint_id" in gdf:
        gdf["footprint_id"] = _ids(gdf, "footprint_id", origin)
        dup = gdf["footprint_id"].duplicated(keep=False)
        if dup.any():
            warn(
                gdf,
                f"{origin}: footprint_id repeats for "
                f"{fmt_list(gdf.loc[dup, 'footprint_id'].unique())}",
            )
    else:
        gdf.insert(0, "footprint_id", [f"F{i}" for i in range(1, len(gdf) + 1)])
        report_of(gdf)["generated_ids"] = True
    gdf["user"] = as_text(gdf["user"])
    empty = gdf["user"] == ""
    if empty.any():
        raise SchemaError(
            f"{origin}: column 'user' is empty in {fmt_rows(gdf, empty)}; "
            "fill in the occupant (使用人) of every footprint, or remove those rows."
        )
    for name in ("use", "street", "village"):
        if name in gdf:
            gdf[name] = as_text(gdf[name])
    return gdf


def read_planning(
    source: Source,
    *,
    layer=None,
    crs=None,
    source_crs=None,
    aliases=None,
    columns=None,
    encoding=None,
) -> gpd.GeoDataFrame:
    """Read planning zones (规划分区, column ``zone``); see :func:`read_parcels`."""
    return _read_areas(
        "planning", source, layer=layer, crs=crs, source_crs=source_crs, aliases=aliases,
        columns=columns, encoding=encoding,
    )  # fmt: skip


def read_admin(
    source: Source,
    *,
    layer=None,
    crs=None,
    source_crs=None,
    aliases=None,
    columns=None,
    encoding=None,
) -> gpd.GeoDataFrame:
    """Read admin areas (街道/村, columns ``street`` and ``village``); see :func:`read_parcels`."""
    return _read_areas(
        "admin", source, layer=layer, crs=crs, source_crs=source_crs, aliases=aliases,
        columns=columns, encoding=encoding,
    )  # fmt: skip


def _read_areas(kind: str, source, *, columns, aliases, **options) -> gpd.GeoDataFrame:
    """A layer of named areas (planning zones, streets): its name columns as text."""
    spec = LAYERS[kind]
    gdf, _ = read_layer(spec, source, aliases=user_aliases(aliases, columns, None), **options)
    for name in (*spec.required, *spec.optional):
        if name in gdf:
            gdf[name] = as_text(gdf[name])
    return gdf


# --------------------------------------------------------------------------- core


def read_layer(
    spec: LayerSpec,
    source: Source,
    *,
    layer=None,
    crs=None,
    source_crs=None,
    aliases: Aliases | None = None,
    encoding: str | None = None,
    strict: bool = True,
) -> tuple[gpd.GeoDataFrame, str]:
    """Load one layer, map its columns and clean its geometries.

    Returns the frame and the name of its origin (for messages).  The frame's
    index is the 1-based row number in the source, so messages about later
    checks still name the row a user sees.  The per-layer readers add the
    checks of their own columns.
    """
    # Every warning raised while reading goes into the layer's report too, so the
    # audit trail and the CLI show it whether or not Python prints warnings.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf, origin = _read_layer(
            spec,
            source,
            layer=layer,
            crs=crs,
            source_crs=source_crs,
            aliases=aliases or Aliases(),
            encoding=encoding,
            strict=strict,
        )
    report = report_of(gdf)
    for caught_warning in caught:
        message = str(caught_warning.message)
        if issubclass(caught_warning.category, LandgisWarning):
            report.note(message)
        warnings.warn(message, caught_warning.category, stacklevel=3)
    return gdf, origin


def _read_layer(spec, source, *, layer, crs, source_crs, aliases, encoding, strict=True):
    if isinstance(source, gpd.GeoDataFrame):
        origin = f"the {spec.name} GeoDataFrame"
        gdf = source.copy()
        gdf.attrs = {}
    elif isinstance(source, str | Path):
        origin = str(source)
        gdf = read_geodata(
            source,
            layer=layer,
            encoding=encoding,
            source_crs=source_crs,
            what=spec.name,
            strict=strict,
        )
    else:
        raise TypeError(
            f"{spec.name}: expected a file path or a GeoDataFrame, got {type(source).__name__}"
        )
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise GeometryError(
            f"{origin}: has no geometry column; the {spec.name} must be a vector layer "
            "(GeoPackage, Shapefile, GeoJSON …), not a table."
        )
    gdf.index = pd.RangeIndex(1, len(gdf) + 1)
    report = ReadReport(source=origin, rows_read=len(gdf), encoding=gdf.attrs.get("encoding"))
    gdf.attrs = {"landgis": report}
    if len(gdf) == 0 and not spec.may_be_empty:
        raise GeometryError(f"{origin}: the {spec.name} layer is empty (no features).")

    gdf = rename_columns(gdf, spec, aliases, origin)
    report["columns"] = {c: c for c in gdf.columns if c in (*spec.required, *spec.optional)}
    _remove_controls(gdf, origin)
    gdf = _set_crs(gdf, crs=crs, source_crs=source_crs, origin=origin, report=report)
    gdf = _clean_geometries(gdf, origin, report, allow_empty=spec.may_be_empty)
    gdf.attrs["landgis"] = report
    return gdf, origin


def _remove_controls(gdf: gpd.GeoDataFrame, origin: str) -> None:
    """Control characters in text cells are removed, with a warning naming the rows."""
    for column in gdf.columns:
        if column == gdf.geometry.name or not pd.api.types.is_object_dtype(gdf[column]):
            continue
        cleaned, changed = without_controls(gdf[column])
        if changed.any():
            gdf[column] = cleaned
            warn(gdf, f"{origin}: control characters removed from column {column!r} in "
                      f"{fmt_rows(gdf, changed)}")  # fmt: skip


_SHAPEFILE_SUFFIXES = (".shp", ".dbf")


def read_geodata(
    source: str | Path,
    *,
    layer=None,
    encoding=None,
    source_crs=None,
    what: str = "layer",
    strict: bool = True,
) -> gpd.GeoDataFrame:
    """Any vector source landgis knows, as read (no column mapping or checks).

    Boundary-point coordinate TXT (``.txt``) and DXF drawings (``.dxf``; the CRS
    must be given as ``source_crs``, the DXF layer as ``layer``) go through
    their own readers, everything else through GDAL.
    """
    suffix = Path(str(source)).suffix.lower()
    if suffix == ".txt":
        from landgis.io.boundary_txt import read_boundary_txt

        return read_boundary_txt(source, encoding=encoding, crs=source_crs, strict=strict)
    if suffix == ".dxf":
        from landgis.io.dxf import read_dxf_polygons

        if source_crs is None:
            raise CRSError(
                f"{source}: a DXF drawing carries no CRS; name it with source_crs= "
                "(CLI: --source-crs), e.g. 4528."
            )
        return read_dxf_polygons(
            source, crs=source_crs, encoding=encoding, layers=None if layer is None else [layer]
        )
    if suffix == ".zip":
        return _read_zip(source, what=what, layer=layer, encoding=encoding)
    return _read_file(source, what=what, layer=layer, encoding=encoding)


def _read_file(source: str | Path, *, what: str, layer, encoding) -> gpd.GeoDataFrame:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    text = str(source)
    virtual = text.startswith(("zip://", "/vsi"))  # GDAL paths: keep them as written
    path = text if virtual else Path(source)
    if not virtual and not Path(path).exists():
        raise InputFileError(f"{path}: file not found ({what}).")
    try:
        if layer is None:
            layer = _pick_layer(path, what, pyogrio.list_layers(path))
        kwargs: dict[str, Any] = {"engine": "pyogrio", "layer": layer}
        chosen = None
        if text.lower().endswith(_SHAPEFILE_SUFFIXES):
            chosen = _shapefile_encoding(text, encoding)
        recode = chosen is not None and chosen.reason != "the text is ASCII"
        if recode:
            # GDAL hands the DBF's bytes over unchanged (as Latin-1); they are decoded
            # here, where a name or value cut inside a character is no error.
            kwargs["ENCODING"] = "ISO-8859-1"
        if importlib.util.find_spec("pyarrow") is not None:
            kwargs["use_arrow"] = True
        gdf = gpd.read_file(path, **kwargs)
        if recode:
            assert chosen is not None  # recode only with an encoding chosen
            gdf = _recoded(gdf, chosen.name)
        if chosen is not None:
            gdf.attrs["encoding"] = chosen.as_dict()
        return gdf
    except DataLayerError as exc:
        raise InputFileError(f"{path}: {exc}. Name an existing layer (layer=…).") from exc
    except DataSourceError as exc:
        raise InputFileError(
            f"{path}: GDAL cannot open it as a vector layer ({exc}). Use a GeoPackage, "
            "Shapefile (with .shx and .dbf beside it), GeoJSON or File Geodatabase."
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: attribute text is not valid {exc.encoding}; pass encoding='gbk' "
            "(CLI: --encoding gbk) or the file's real encoding, or fix its .cpg file."
        ) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("pyarrow", "pyogrio")):  # ArrowInvalid …
            raise InputFileError(
                f"{path}: cannot be read ({exc}); if the text is not UTF-8 pass encoding= "
                "(CLI: --encoding gbk)."
            ) from exc
        raise


_LAYER_NAMES = {
    "parcels": ("parcels", "parcel", "宗地", "红线", "zd", "dk", "地块"),
    "footprints": ("footprints", "footprint", "实际使用", "图斑", "使用", "tb"),
    "planning": ("planning", "规划分区", "规划", "zones"),
    "admin": ("admin", "行政区", "街道", "streets"),
    "land_survey": ("DLTB", "地类图斑", "DLTBGX"),
    "patches": ("JCTB", "WPTB", "监测图斑", "卫片图斑", "变化图斑"),
}
#: The CLI option naming the layer of each kind, where it is not ``--<kind>-layer``.
_LAYER_OPTIONS = {"land_survey": "--footprints-layer", "patches": "--after-layer"}


def _pick_layer(path, what: str, layers) -> str | int:
    """The only layer, or the one named like the layer kind; else say which exist."""
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if len(names) <= 1:
        return 0
    wanted = _LAYER_NAMES.get(what, (what,))
    matches = [n for n in names if n.casefold() in {w.casefold() for w in wanted}]
    if len(matches) == 1:
        return matches[0]
    raise InputFileError(
        f"{path}: holds {len(names)} layers ({', '.join(names[:10])}); say which one holds the "
        f"{what} with layer=… (CLI: {_LAYER_OPTIONS.get(what, f'--{what}-layer')} NAME)."
    )


def _shapefile_encoding(path: str, encoding: str | None) -> TextEncoding | None:
    """The encoding of a Shapefile's attributes (see :mod:`landgis.io.text`), with a
    warning when its ``.cpg`` says otherwise."""
    try:
        chosen = dbf_encoding(path, given=encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: the attribute text is neither UTF-8 nor GBK ({exc.reason}); pass the "
            "file's real encoding with encoding=… (CLI: --encoding)."
        ) from exc
    except LookupError as exc:
        raise InputFileError(f"{path}: {exc}") from exc
    if chosen is not None and chosen.deviates and not encoding:
        warnings.warn(
            f"{Path(path).with_suffix('.cpg')}: says {chosen.declared}, but the attributes are "
            f"not; read as {_ENCODING_NAMES.get(chosen.name, chosen.name)} ({chosen.reason}).",
            LandgisWarning,
            stacklevel=5,
        )
    return chosen


_ENCODING_NAMES = {"gb18030": "GBK (GB18030)", "utf-8": "UTF-8", "gbk": "GBK"}


def _recoded(gdf: gpd.GeoDataFrame, encoding: str) -> gpd.GeoDataFrame:
    """Column names and text cells read as Latin-1, decoded as ``encoding``."""
    geometry = gdf.geometry.name
    for column in gdf.columns:
        if column != geometry and pd.api.types.is_string_dtype(gdf[column]):
            gdf[column] = gdf[column].astype(object).map(
                lambda v: recode_latin1(v, encoding) if isinstance(v, str) else v
            )
    names = {c: recode_latin1(c, encoding) for c in gdf.columns if c != geometry}
    return gdf.rename(columns=names)


def _read_zip(source: str | Path, *, what: str, layer, encoding) -> gpd.GeoDataFrame:
    """A zipped delivery: read its one data file in place (nothing is extracted).

    Members whose path climbs out of the archive (``../x.shp``) or is absolute
    are refused, as a careless unzip would write them elsewhere.
    """
    import zipfile

    path = Path(source)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(f"{path}: not a readable zip archive ({exc}).") from exc
    unsafe = [
        n
        for n in names
        if n.startswith(("/", "\\")) or ".." in Path(n).parts or ":" in n.split("/")[0]
    ]
    if unsafe:
        raise InputFileError(
            f"{path}: members {unsafe[:3]} point outside the archive; it is refused. "
            "Ask the sender for a clean archive."
        )
    data = [
        n
        for n in names
        if n.lower().endswith((".shp", ".gpkg", ".geojson", ".json"))
        and not n.startswith("__MACOSX")
    ]
    if len(data) != 1:
        raise InputFileError(
            f"{path}: holds {len(data)} data files ({', '.join(data[:6]) or 'none'}); name one "
            f"as zip://{path}!<member>."
        )
    return _read_file(f"zip://{path}!{data[0]}", what=what, layer=layer, encoding=encoding)


def _set_crs(
    gdf: gpd.GeoDataFrame, *, crs, source_crs, origin: str, report: ReadReport
) -> gpd.GeoDataFrame:
    """Give the layer its CRS (``source_crs`` wins, else the file's, else ``crs``),
    check that the coordinates fit it, and reproject to ``crs``."""
    if source_crs is not None:
        given = parse_crs(source_crs, what="source_crs")
        if gdf.crs is not None and not gdf.crs.equals(given):
            report["crs_overridden"] = gdf.crs.to_string()
        gdf = gdf.set_crs(given, allow_override=True)
    elif gdf.crs is None:
        guess, reason = crs_from_coordinates(gdf.total_bounds) if len(gdf) else (None, "")
        if guess is not None:
            warn(
                gdf,
                f"{origin}: the layer has no CRS; {guess.to_string()} assumed because "
                f"{reason} (say otherwise with source_crs=).",
            )
            gdf = gdf.set_crs(guess)
        elif crs is not None:
            gdf = gdf.set_crs(parse_crs(crs))
        else:
            raise CRSError(
                f"{origin}: the layer has no coordinate reference system (no .prj?) and "
                f"{reason}. Name it with source_crs= (CLI: --source-crs), e.g. 4528 for "
                "CGCS2000 3° Gauss-Krüger zone 40 with zone prefix, 4549 for the same zone "
                "without prefix, 4490 for CGCS2000 degrees."
            )
    _check_coordinates_fit(gdf, origin)
    if crs is not None:
        target = parse_crs(crs)
        if not gdf.crs.equals(target):
            report["reprojected_from"] = gdf.crs.to_string()
            gdf = gdf.to_crs(target)
            if len(gdf) and not np.isfinite(gdf.total_bounds).all():
                raise CRSError(
                    f"{origin}: reprojecting to {target.to_string()} gave infinite "
                    "coordinates; is the layer's own CRS right (source_crs=)?"
                )
    return gdf


def _check_coordinates_fit(gdf: gpd.GeoDataFrame, origin: str) -> None:
    """Coordinates that do not fit the layer's CRS are caught here, naming the fix:
    degrees in a projected layer, metres (or swapped axes) in a geographic one,
    and single rows blown far outside the CRS's area (corrupt coordinates)."""
    usable = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not usable.any():
        return
    bounds = gdf.geometry[usable].bounds
    minx, miny = bounds["minx"].median(), bounds["miny"].median()
    maxx, maxy = bounds["maxx"].median(), bounds["maxy"].median()
    degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    if gdf.crs.is_geographic and not degrees:
        if -90 <= minx <= maxx <= 90 and 90 < maxy <= 180:
            raise CRSError(
                f"{origin}: x runs {minx:.3f}–{maxx:.3f} and y {miny:.3f}–{maxy:.3f}: latitude "
                "and longitude are swapped (x must be the longitude). Swap them when exporting."
            )
        hint = ""
        if 25e6 <= minx <= maxx < 46e6:
            hint = (
                f" (they look like Gauss-Krüger zone {int(minx // 1e6)} with prefix: "
                f"source_crs={4488 + int(minx // 1e6)})"
            )
        raise CRSError(
            f"{origin}: coordinates ({minx:.0f}, {miny:.0f} …) are not degrees although the "
            f"layer says {gdf.crs.to_string()} (a GeoJSON without a crs member says so by "
            f"default). Name the real CRS with source_crs= (CLI: --source-crs){hint}."
        )
    if gdf.crs.is_projected and 25e6 <= miny < 46e6 and 0 < minx < 6e6:
        crs_from_coordinates((minx, miny, maxx, maxy))  # raises: the axes are swapped
    if gdf.crs.is_projected and degrees and maxx - minx < 10:
        raise CRSError(
            f"{origin}: coordinates look like degrees ({minx:.4f}, {miny:.4f} …) but the layer "
            f"is taken to be in {gdf.crs.to_string()}, which is projected; give "
            "source_crs=4490 (CGCS2000 geographic) or the CRS the data was surveyed in."
        )
    far = _far_outside(gdf.crs, bounds)
    if far.any():
        raise GeometryError(
            f"{origin}: coordinates far outside the area of {gdf.crs.to_string()} (e.g. x = "
            f"{bounds['maxx'][far].iloc[0]:.6g}) in "
            f"{fmt_rows(gdf, gdf.index.isin(bounds.index[far]))}: corrupt coordinates. Fix or "
            "remove those rows."
        )


@functools.lru_cache(maxsize=32)
def _to_degrees(crs_wkt: str):
    """A transformer to WGS84 degrees (made once per CRS: it costs milliseconds)."""
    from pyproj import Transformer

    return Transformer.from_crs(crs_wkt, "EPSG:4326", always_xy=True)


def _far_outside(crs, bounds: pd.DataFrame) -> np.ndarray:
    """Rows whose bounds lie more than 10° beyond the CRS's area of use."""
    area = crs.area_of_use
    if area is None:
        return np.zeros(len(bounds), dtype=bool)
    to_degrees = _to_degrees(crs.to_wkt())
    out = np.zeros(len(bounds), dtype=bool)
    for x, y in (("minx", "miny"), ("maxx", "maxy")):
        with np.errstate(all="ignore"):
            lon, lat = to_degrees.transform(bounds[x].to_numpy(), bounds[y].to_numpy())
        out |= ~np.isfinite(lon) | ~np.isfinite(lat)
        out |= (lon < area.west - 10) | (lon > area.east + 10)
        out |= (lat < area.south - 10) | (lat > area.north + 10)
    return out


def _clean_geometries(
    gdf: gpd.GeoDataFrame, origin: str, report: ReadReport, *, allow_empty: bool = False
) -> gpd.GeoDataFrame:
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.asarray(shapely.get_type_id(geoms))
    polygonal = np.isin(types, (3, 6)) | missing
    if (~polygonal).any():
        bad = ~polygonal
        kinds = sorted({shapely.GeometryType(t).name.title() for t in types[bad]})
        raise GeometryError(
            f"{origin}: {', '.join(kinds)}, not polygons, in {fmt_rows(gdf, bad)}. "
            "Red lines and footprints must be areas: convert closed lines to polygons "
            "(QGIS: Lines to polygons) or remove those rows."
        )
    if missing.any():
        report.count("dropped_empty", int(missing.sum()))
        warn(
            gdf,
            f"{origin}: dropped {int(missing.sum())} rows without geometry "
            f"({fmt_rows(gdf, missing)})",
        )
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    broken = np.zeros(len(geoms), dtype=bool)
    broken[owner[~np.isfinite(coords).all(axis=1)]] = True
    if broken.any():
        raise GeometryError(
            f"{origin}: vertices whose coordinates are not numbers (NaN or infinite) in "
            f"{fmt_rows(gdf, broken)}. A polygon cannot be repaired from them without "
            "guessing; fix those vertices in the source, or remove the rows."
        )
    if shapely.has_z(geoms[~missing]).any():
        report.count("dropped_z", int(shapely.has_z(geoms[~missing]).sum()))
        geoms = np.where(missing, geoms, shapely.force_2d(geoms))
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        # "structure" keeps both lobes of a bow-tie and returns only polygons.
        repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        _warn_area_changes(gdf, invalid, geoms[invalid], repaired, origin)
        geoms = geoms.copy()
        geoms[invalid] = repaired
        report.count("repaired", int(invalid.sum()))
        collapsed = invalid.copy()
        collapsed[invalid] = shapely.is_empty(repaired)
        if collapsed.any():
            report.count("dropped_collapsed", int(collapsed.sum()))
            warn(
                gdf,
                f"{origin}: dropped {int(collapsed.sum())} geometries with no area "
                f"after repair ({fmt_rows(gdf, collapsed)})",
            )
        missing = missing | collapsed
    out = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    if missing.any():
        out = out.loc[~missing]
    if len(out) == 0 and not allow_empty:
        raise GeometryError(f"{origin}: no feature has a usable polygon geometry.")
    report.rows = len(out)
    return out


#: A repair that changes a polygon's area by more than this (m², or relative) is named.
REPAIR_TOLERANCE_M2 = 0.01
REPAIR_TOLERANCE_REL = 1e-9


def _warn_area_changes(gdf, invalid: np.ndarray, before: np.ndarray, after: np.ndarray, origin):
    """Name the rows whose area a repair changed (a bow-tie's lobes no longer cancel,
    a spike is cut off), with both areas in m²."""
    if gdf.crs is not None and gdf.crs.is_geographic:
        from landgis.crs import analysis_crs

        target = analysis_crs(gdf.crs, gdf.total_bounds)
        project = gpd.GeoSeries(np.concatenate([before, after]), crs=gdf.crs).to_crs(target)
        before, after = np.split(np.asarray(project.values, dtype=object), 2)
    area_before, area_after = shapely.area(before), shapely.area(after)
    gap = np.abs(area_after - area_before)
    changed = gap > np.maximum(REPAIR_TOLERANCE_M2, REPAIR_TOLERANCE_REL * area_after)
    if not changed.any():
        return
    rows = np.flatnonzero(invalid)[changed]
    mask = np.zeros(len(gdf), dtype=bool)
    mask[rows] = True
    pairs = zip(area_before[changed][:3], area_after[changed][:3], strict=True)
    examples = ", ".join(f"{a:,.2f} → {b:,.2f} m²" for a, b in pairs)
    warn(
        gdf,
        f"{origin}: repairing invalid polygons changed their area in {fmt_rows(gdf, mask)} "
        f"({examples}); check those red lines in the source",
    )


# ------------------------------------------------------------------- value checks


def _ids(gdf: gpd.GeoDataFrame, column: str, origin: str) -> pd.Series:
    ids = as_text(gdf[column])
    empty = ids == ""
    if empty.any():
        raise SchemaError(
            f"{origin}: column {column!r} is empty in {fmt_rows(gdf, empty)}; "
            "every feature needs an id."
        )
    return ids


def _check_unique(gdf: gpd.GeoDataFrame, column: str, origin: str) -> None:
    dup = gdf[column].duplicated(keep=False)
    if dup.any():
        rows = row_numbers(gdf, dup)
        raise SchemaError(
            f"{origin}: {column} is not unique: {fmt_list(gdf.loc[dup, column].unique())} "
            f"appear more than once (rows {fmt_list(rows)}). Give each red line its own id, "
            "or merge the duplicates into one multi-part feature."
        )


def _tenure_codes(gdf: gpd.GeoDataFrame, aliases: Aliases, origin: str) -> pd.Series:
    table = aliases.tenure_table()
    raw = as_text(gdf["tenure"])
    codes = raw.map(lambda v: table.get(v.casefold()))
    unknown = codes.isna()
    if unknown.any():
        values = sorted(raw[unknown].unique())
        raise SchemaError(
            f"{origin}: unknown tenure value(s) {values[:10]} in column 'tenure' "
            f"({fmt_rows(gdf, unknown)}). Known: 征用, 代征, 租出, 租入 or the codes "
            f"{list(TENURES)}; map others with tenure_values={{{values[0]!r}: "
            "'requisitioned'} or a [tenure] table in the alias file."
        )
    return codes.astype(object)


def _numbers(gdf: gpd.GeoDataFrame, column: str, origin: str) -> pd.Series:
    raw = gdf[column]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    text = as_text(raw)
    values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        raise SchemaError(
            f"{origin}: column {column!r} holds text that is not a number in rows "
            f"{fmt_rows(gdf, bad)} (e.g. {text[bad].iloc[0]!r}); write plain numbers."
        )
    return values.astype(float)


def check_registered_unit(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A registered-area column in the other unit (亩 vs m², 666.7× apart) is renamed
    to the unit it is in, with a warning; a plain 面积/MJ column is read as m² otherwise.

    The parcels must be in a metric CRS (the audit checks them after aligning them).
    """
    measured = parcels.geometry.area.to_numpy()
    for column, other, factor in (
        ("registered_area_m2", "registered_area_mu", M2_PER_MU),
        ("registered_area_mu", "registered_area_m2", 1 / M2_PER_MU),
    ):
        if column not in parcels or other in parcels:
            continue
        values = parcels[column].to_numpy(dtype=float)
        ok = np.isfinite(values) & (values > 0) & (measured > 0)
        if ok.sum() < 3:
            continue
        ratio = np.median(values[ok] * factor / measured[ok])
        if 0.8 < ratio < 1.25:  # the values are in the other unit
            read = report_of(parcels)
            parcels = parcels.rename(columns={column: other})
            parcels.attrs = {"landgis": read}
            read.warn(
                f"{read.source or 'parcels'}: the registered areas read as {column} look like "
                f"{other.split('_')[-1]} (median ratio to the red lines' area {ratio:.3f}); "
                "they are used as such.",
                stacklevel=3,
            )
    return parcels
