"""Rasters in: footprints from classified images, and coverage per parcel.

Many zones have no vector survey of actual use but do have a land-cover map, a
building mask from a segmentation model, or a drone orthophoto.  This module
reads them:

* :func:`footprints_from_raster` — the pixels of chosen classes → one footprint
  (polygon) per connected region, read in windows so that a 36000×36000 tile
  fits in well under 2 GB, speckle removed, simplified to the pixel size,
  georeferenced from a sibling image when the mask has no georeference of its
  own, users assigned from the parcels;
* :func:`coverage` — the share of each parcel covered by chosen classes, partial
  pixels weighted by their exact area inside the parcel (idle detection without
  vector footprints).

The change between two surveys is :mod:`landgis.change`; orthophotos under the
HTML map are :mod:`landgis.present.orthophoto`.  rasterio is imported on first
use, so ``import landgis`` does not load it.

Notes
-----
Vectorizing happens in pixel space: polygon corners lie on integer pixel
corners, so pieces of one region cut by window seams share their edges exactly
and are merged without tolerance.  Only then are the polygons simplified (in
pixels), moved to map coordinates with the raster's transform, and — for
rasters in degrees such as ESA WorldCover (EPSG:4326) — projected to the
metric analysis CRS (:func:`landgis.crs.analysis_crs`: the CGCS2000 3°
Gauss-Krüger zone in China, UTM elsewhere), where ``area_m2`` is measured.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.crs import analysis_crs, parse_crs
from landgis.errors import (
    ConfigError,
    CRSError,
    GeometryError,
    InputFileError,
    LandgisWarning,
)
from landgis.io.report import ReadReport
from landgis.io.users import assign_users

__all__ = [
    "RASTER_SUFFIXES",
    "RasterSource",
    "check_band",
    "coverage",
    "footprints_from_raster",
    "georeference",
    "image_bounds",
    "is_raster",
    "open_raster",
    "rasterio_module",
]


#: GDAL block cache while reading (MB): keeps the peak memory of a whole-tile
#: pass bounded whatever the machine's default (5 % of RAM).
GDAL_CACHE_MB = 256
#: Simplification tolerance of ``simplify=True``, in pixels (see
#: :func:`footprints_from_raster`).
_SIMPLIFY_PIXELS = 0.5

RasterSource = str | Path

#: Suffixes of the rasters the audit reads as footprints (see :func:`footprints_from_raster`).
RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".vrt", ".jp2")


def is_raster(source: Any) -> bool:
    """A path whose suffix says it is a raster (:data:`RASTER_SUFFIXES`)."""
    return isinstance(source, str | Path) and Path(source).suffix.lower() in RASTER_SUFFIXES


# ----------------------------------------------------------------- opening


def rasterio_module():
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ImportError("rasters need rasterio: pip install rasterio") from exc
    return rasterio


def open_raster(path: RasterSource):
    rio = rasterio_module()
    if not Path(path).exists() and "://" not in str(path) and not str(path).startswith("/vsi"):
        raise InputFileError(f"{path}: no such file; give the path of a GeoTIFF (or any raster).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rio.errors.NotGeoreferencedWarning)
            return rio.open(path)
    except rio.errors.RasterioIOError as exc:
        raise InputFileError(
            f"{path}: cannot be read as a raster ({exc}); give a GeoTIFF or another raster "
            "format GDAL reads."
        ) from exc


def _hasgeoreference(ds) -> bool:
    return ds.crs is not None or not ds.transform.is_identity


def georeference(ds, path, *, mask_from, source_crs):
    """The transform and CRS of ``ds``: its own, or those of ``mask_from``."""
    if mask_from is not None:
        with open_raster(mask_from) as ref:
            if (ref.width, ref.height) != (ds.width, ds.height):
                raise GeometryError(
                    f"{path}: {ds.width}×{ds.height} pixels, but mask_from={mask_from} has "
                    f"{ref.width}×{ref.height}; the mask takes the georeference of the image "
                    "it was made from, so both must have the same size."
                )
            if not _hasgeoreference(ref):
                raise CRSError(
                    f"mask_from={mask_from}: has no georeference either; give the image the "
                    "mask was made from (a GeoTIFF with a transform and a CRS)."
                )
            transform, crs = ref.transform, ref.crs
    else:
        if not _hasgeoreference(ds):
            raise CRSError(
                f"{path}: the raster has no georeference (no transform, no CRS), as masks "
                "from segmentation models often have; pass mask_from= the image it was made "
                "from (same size), e.g. mask_from='sample_geotiff.tif'."
            )
        transform, crs = ds.transform, ds.crs
    if source_crs is not None:
        crs = parse_crs(source_crs, what="source_crs")
    elif crs is not None:
        crs = parse_crs(crs.to_wkt())  # rasterio's CRS → pyproj's
    if crs is None:
        raise CRSError(
            f"{path}: the raster has a transform but no CRS (a world file without .prj?); "
            "pass source_crs= (e.g. source_crs=4528)."
        )
    return transform, crs


def check_band(ds, band: int, path) -> None:
    if not isinstance(band, int | np.integer) or not 1 <= band <= ds.count:
        raise ConfigError(f"{path}: band={band!r}; the raster has bands 1–{ds.count}.")


def _classes(classes, ds, band: int, path) -> np.ndarray:
    if classes is None:
        raise ConfigError(
            f"{path}: say which pixel values are actual use, e.g. classes=[50] (ESA "
            "WorldCover built-up) or classes=[255] (a 0/255 building mask)."
        )
    values = np.atleast_1d(np.asarray(list(classes) if _is_iterable(classes) else classes))
    if values.size == 0 or not np.issubdtype(values.dtype, np.number):
        raise ConfigError(f"{path}: classes={classes!r}; give one or more pixel values.")
    values = np.unique(values)
    nodata = ds.nodatavals[band - 1]
    if nodata is not None and np.isin(nodata, values):
        raise ConfigError(
            f"{path}: classes={classes!r} includes the raster's nodata value {nodata:g}; "
            "nodata pixels are never use."
        )
    return values


def _is_iterable(value) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)


# ----------------------------------------------------------------- footprints


def footprints_from_raster(
    path: RasterSource,
    *,
    classes: int | Iterable[int],
    mask_from: RasterSource | None = None,
    band: int = 1,
    window_size: int = 4096,
    sieve: int = 0,
    min_area: float = 0.0,
    connectivity: int = 8,
    simplify: bool | float = True,
    crs: Any = None,
    source_crs: Any = None,
    parcels: gpd.GeoDataFrame | str | Path | None = None,
    min_share: float = 0.5,
    unknown_user: str = "",
    id_prefix: str = "F",
) -> gpd.GeoDataFrame:
    """Vectorize the pixels of chosen classes into actual-use footprints.

    Every connected region of pixels of one class becomes one footprint, also
    when it spans several reading windows: each window is vectorized on its own
    (``rasterio.features.shapes``) and the pieces that meet along a window seam
    are merged.  Peak memory depends on ``window_size``, not on the raster:
    the 36000×36000 ESA WorldCover tile takes about 0.3 GB.

    Parameters
    ----------
    path
        A classified raster (GeoTIFF or anything GDAL reads): land cover, a
        building mask, a classified orthophoto.
    classes
        The pixel value(s) that are actual use: ``50`` for ESA WorldCover
        built-up, ``255`` for a 0/255 building mask.  Each value gives its own
        footprints (column ``class``); regions of different classes are never
        merged.
    mask_from
        A sibling image whose transform and CRS the raster takes — for masks
        written by segmentation models without georeference (same size as
        the image, pixel for pixel).
    band
        Band to read (1-based).
    window_size
        Side of the square reading window, pixels.  Results do not depend on it.
    sieve
        Remove regions smaller than this many pixels before vectorizing
        (``rasterio.features.sieve``): specks of the classes vanish and small
        holes inside them are filled, each taking the value of its largest
        neighbour.  Windows overlap by ``sieve`` pixels, so the sieve gives the
        same result as on the whole raster.  ``0`` (default) keeps every pixel.
    min_area
        Drop footprints smaller than this, m² (after merging, in the output
        CRS).  ``0`` (default) keeps all.
    connectivity
        ``8`` (default): pixels that touch only at a corner belong to one
        region, so a building whose outline steps diagonally stays one
        footprint (such a footprint may be a MultiPolygon whose parts meet at
        a point).  ``4``: only pixels sharing an edge belong together; every
        footprint is then a simple polygon, and lone diagonal pixels become
        footprints of their own.  The real SpaceNet mask has 151 buildings
        8-connected and 154 4-connected (3 single diagonal pixels).
    simplify
        ``True`` (default) removes the pixel staircase: Douglas-Peucker with a
        tolerance of half a pixel (in pixel space), which straightens diagonal
        steps but keeps every feature a pixel wide — a lone pixel stays a
        square.  On the SpaceNet mask (117,996 px, 151 footprints) it changes
        the total area not at all (its buildings are drawn along the pixel grid)
        and drops 17 % of the vertices; on the 43 SpaceNet labels burned at
        0.5 m it changes the area by 0.03 %.  A number
        is the tolerance in pixels; ``False`` keeps the exact pixel edges.
        Footprints are simplified one by one, so two footprints of *different*
        classes that share an edge may then overlap or gap by up to the
        tolerance; use ``simplify=False`` where that matters.
    crs
        Output (analysis) CRS, projected in metres.  Default: the raster's CRS
        when it is such a projection, else the CGCS2000 3° Gauss-Krüger zone
        of the raster's centre (UTM outside China) — ESA WorldCover, in
        degrees, is projected.
    source_crs
        The raster's CRS when its file has none (or a wrong one).
    parcels
        Red lines (GeoDataFrame or path, read by :func:`landgis.read_parcels`)
        that assign each footprint its ``user``: the holder of the authorized
        parcel (requisitioned, proxy-requisitioned, leased out) holding the
        largest part of the footprint, when that part is at least
        ``min_share`` of the footprint's area.  Leased-in parcels name the
        lessor, not the user, and assign nobody.
    min_share
        Smallest share of a footprint inside one authorized parcel that makes
        its holder the user (default 0.5: the majority of the footprint).
    unknown_user
        ``user`` of the footprints no parcel assigns (default ``""``: unknown).
        :func:`landgis.audit` needs a user on every footprint: pass e.g.
        ``unknown_user="未知使用人"`` to audit them as one anonymous occupant
        (their use outside every red line is then ``outside_redline``, on the
        zone's ungranted land ``unleased_use``, on someone's grant
        ``encroachment``).
    id_prefix
        ``footprint_id`` is this prefix and a number, in reading order (top to
        bottom, left to right).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``footprint_id``, ``user``, ``class``, ``area_m2`` (m² in the
        output CRS) and geometry; with ``parcels`` also ``parcel_id`` (the
        assigning parcel, or ``""``), ``user_share`` and ``user_source``
        (``parcel`` or ``unknown``, as for :func:`landgis.read_land_survey`).  ``attrs["landgis"]``
        records the source, pixel size, counts and options.

    Raises
    ------
    InputFileError
        The file is missing or not a raster.
    CRSError
        The raster has no georeference and no ``mask_from``, or no CRS.
    GeometryError
        ``mask_from`` has another size than the raster.
    ConfigError
        Bad ``classes``, ``band``, ``window_size``, ``sieve``, ``connectivity``.
    """
    rio = rasterio_module()
    if connectivity not in (4, 8):
        raise ConfigError(f"connectivity={connectivity!r}; use 4 or 8.")
    if not isinstance(window_size, int | np.integer) or window_size < 16:
        raise ConfigError(f"window_size={window_size!r}; give a whole number of pixels ≥ 16.")
    if not isinstance(sieve, int | np.integer) or sieve < 0:
        raise ConfigError(f"sieve={sieve!r}; give a whole number of pixels ≥ 0.")
    if not min_area >= 0:
        raise ConfigError(f"min_area={min_area!r}; give m² ≥ 0.")
    tolerance = _SIMPLIFY_PIXELS if simplify is True else float(simplify or 0.0)
    if tolerance < 0:
        raise ConfigError(f"simplify={simplify!r}; give True, False or a tolerance in pixels.")

    with rio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), open_raster(path) as ds:
        check_band(ds, band, path)
        transform, src_crs = georeference(ds, path, mask_from=mask_from, source_crs=source_crs)
        values = _classes(classes, ds, band, path)
        geoms, codes, order_keys = _vectorize(
            ds, band=band, values=values, window_size=int(window_size), sieve=int(sieve),
            connectivity=connectivity,
        )  # fmt: skip
        width, height = ds.width, ds.height

    if tolerance > 0 and len(geoms):
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    geoms = _to_map(geoms, transform)
    frame = gpd.GeoDataFrame(
        {"class": values[codes - 1] if len(codes) else values[:0]},
        geometry=gpd.GeoSeries(geoms, crs=src_crs).values,
        crs=src_crs,
    )
    extent = image_bounds(transform, width, height)
    target = analysis_crs(src_crs, extent, crs=crs)
    if not target.equals(src_crs):
        frame = frame.to_crs(target)
    frame["area_m2"] = frame.geometry.area
    order = np.lexsort((order_keys[:, 1], order_keys[:, 0])) if len(frame) else np.zeros(0, int)
    frame = frame.iloc[order]
    frame = frame.loc[frame["area_m2"] >= min_area].reset_index(drop=True)
    frame.insert(0, "footprint_id", [f"{id_prefix}{i}" for i in range(1, len(frame) + 1)])
    frame.insert(1, "user", unknown_user)
    if parcels is not None:
        frame = assign_users(frame, parcels, min_share=min_share, unknown_user=unknown_user)
        frame["user_source"] = np.where(frame["parcel_id"] != "", "parcel", "unknown")
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    frame.attrs["landgis"] = ReadReport(
        source=str(path),
        rows_read=len(frame),
        facts={
            "raster": {
                "georeference_from": str(mask_from) if mask_from is not None else str(path),
                "size": [width, height],
                "pixel_size": [abs(transform.a), abs(transform.e)],
                "raster_crs": src_crs.to_string(),
                "classes": values.tolist(),
                "connectivity": connectivity,
                "sieve": int(sieve),
                "min_area": float(min_area),
                "simplify_pixels": tolerance,
            }
        },
    )

    return frame


def _vectorize(ds, *, band, values, window_size, sieve, connectivity):
    """Pixel-space polygons of the chosen classes, one per connected region.

    Returns the geometries (integer pixel-corner coordinates, y down), their
    class codes (1-based index into ``values``) and their (top row, left
    column) for ordering.
    """
    from rasterio.features import shapes
    from rasterio.features import sieve as sieve_fn
    from rasterio.transform import Affine
    from rasterio.windows import Window

    halo = sieve if sieve > 1 else 0
    lut = _lookup(ds.dtypes[band - 1], values, ds.nodatavals[band - 1])
    mask_flags = ds.mask_flag_enums[band - 1]
    own_mask = not any(f.name in ("all_valid", "nodata") for f in mask_flags)

    pieces: list = []
    codes: list[int] = []
    window_ids: list[int] = []
    seam: list[bool] = []
    width, height = ds.width, ds.height
    window_id = 0
    for row0 in range(0, height, window_size):
        for col0 in range(0, width, window_size):
            window_id += 1
            h = min(window_size, height - row0)
            w = min(window_size, width - col0)
            r_a, c_a = max(0, row0 - halo), max(0, col0 - halo)
            r_b, c_b = min(height, row0 + h + halo), min(width, col0 + w + halo)
            win = Window(c_a, r_a, c_b - c_a, r_b - r_a)
            data = ds.read(band, window=win)
            code = _codes(data, lut, values, ds.nodatavals[band - 1])
            del data
            if own_mask:
                code[ds.read_masks(band, window=win) == 0] = 0
            if not code.any():
                continue
            if halo:
                code = sieve_fn(code, size=sieve, connectivity=connectivity)
            core = np.ascontiguousarray(
                code[row0 - r_a : row0 - r_a + h, col0 - c_a : col0 - c_a + w]
            )
            del code
            if not core.any():
                continue
            for geojson, value in shapes(
                core,
                mask=core > 0,
                connectivity=connectivity,
                transform=Affine.translation(col0, row0),
            ):
                geom = shapely.geometry.shape(geojson)
                minx, miny, maxx, maxy = geom.bounds
                pieces.append(geom)
                codes.append(int(value))
                window_ids.append(window_id)
                seam.append(
                    (minx == col0 and col0 > 0)
                    or (miny == row0 and row0 > 0)
                    or (maxx == col0 + w and col0 + w < width)
                    or (maxy == row0 + h and row0 + h < height)
                )
    geoms = np.asarray(pieces, dtype=object)
    code_arr = np.asarray(codes, dtype=np.int64)
    if not len(geoms):
        return geoms, code_arr, np.zeros((0, 2))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # 8-connected regions: rings touching themselves at a corner
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms, code_arr = _merge_seams(
        geoms,
        code_arr,
        np.asarray(window_ids),
        np.asarray(seam, dtype=bool),
        connectivity=connectivity,
    )
    # the same region read in other windows gives the same polygon: no vertices
    # left on straight edges where seams cut them, rings in a canonical order
    geoms = shapely.normalize(shapely.simplify(geoms, 0.0, preserve_topology=True))
    bounds = shapely.bounds(geoms)
    return geoms, code_arr, bounds[:, [1, 0]]


def _lookup(dtype: str, values: np.ndarray, nodata) -> np.ndarray | None:
    """A value → class-code table for 8- and 16-bit rasters (one fancy index per window)."""
    if dtype not in ("uint8", "uint16"):
        return None
    lut = np.zeros(
        256 if dtype == "uint8" else 65536, dtype=np.uint8 if len(values) < 255 else np.uint16
    )
    inside = (values >= 0) & (values < len(lut)) & (values == np.round(values))
    lut[values[inside].astype(np.int64)] = np.flatnonzero(inside) + 1
    if nodata is not None and 0 <= nodata < len(lut):
        lut[int(nodata)] = 0
    return lut


def _codes(data: np.ndarray, lut, values: np.ndarray, nodata) -> np.ndarray:
    if lut is not None:
        return lut[data]
    dtype = np.uint8 if len(values) < 255 else np.int32
    hit = np.isin(data, values)
    if nodata is not None:
        hit &= ~(np.isnan(data) if np.isnan(nodata) else data == nodata)
    code = np.zeros(data.shape, dtype=dtype)
    code[hit] = np.searchsorted(values, data[hit]) + 1
    return code


def _merge_seams(geoms, codes, window_ids, seam, *, connectivity):
    """Merge the pieces of one region that window seams cut apart.

    Pieces meet along a seam when they share an edge (4-connectivity) or at
    least a corner (8-connectivity); coordinates are whole pixels, so the
    test and the union are exact.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cand = np.flatnonzero(seam)
    if len(cand) < 2:
        return geoms, codes
    tree = shapely.STRtree(geoms[cand])
    a, b = tree.query(geoms[cand], predicate="intersects")
    a, b = cand[a], cand[b]
    keep = (a < b) & (window_ids[a] != window_ids[b]) & (codes[a] == codes[b])
    a, b = a[keep], b[keep]
    if connectivity == 4 and len(a):
        shared = shapely.length(shapely.intersection(geoms[a], geoms[b], grid_size=1.0))
        a, b = a[shared > 0], b[shared > 0]
    if not len(a):
        return geoms, codes
    n = len(geoms)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels)
    single = counts[labels] == 1
    out_geoms = list(geoms[single])
    out_codes = list(codes[single])
    multi = np.flatnonzero(~single)
    multi = multi[np.argsort(labels[multi], kind="stable")]
    groups = np.split(multi, np.flatnonzero(np.diff(labels[multi])) + 1)
    for group in groups:
        out_geoms.append(shapely.union_all(geoms[group], grid_size=1.0))
        out_codes.append(codes[group[0]])
    return np.asarray(out_geoms, dtype=object), np.asarray(out_codes, dtype=np.int64)


def _to_map(geoms: np.ndarray, transform) -> np.ndarray:
    """Pixel-space geometries → map coordinates with the raster's affine transform."""
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f

    def affine(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([a * x + b * y + c, d * x + e * y + f])

    if not len(geoms):
        return geoms
    return shapely.transform(geoms, affine)


def image_bounds(transform, width: int, height: int) -> tuple[float, float, float, float]:
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=float)
    xs = transform.a * corners[:, 0] + transform.b * corners[:, 1] + transform.c
    ys = transform.d * corners[:, 0] + transform.e * corners[:, 1] + transform.f
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


# ----------------------------------------------------------------- coverage


def coverage(
    parcels: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterSource,
    *,
    classes: int | Iterable[int],
    band: int = 1,
    mask_from: RasterSource | None = None,
    source_crs: Any = None,
) -> pd.Series:
    """The share of each parcel covered by the chosen classes, partial pixels weighted exactly.

    A pixel counts with the area of its intersection with the parcel: whole
    for pixels inside, the exact polygon ∩ cell area (shapely) for the pixels
    the parcel's boundary crosses.  Those are found by rasterizing the
    boundary with ``all_touched`` and widening it by one pixel; every other
    pixel of the parcel's window is wholly inside or wholly outside, which its
    centre decides.  Only the window of each parcel is read.

    Parameters
    ----------
    parcels
        Polygons with a CRS (red lines, or any areas).
    raster
        Classified raster (see :func:`footprints_from_raster`).
    classes
        Pixel value(s) that count as covered, e.g. ``50`` (WorldCover built-up).
    band, mask_from, source_crs
        As in :func:`footprints_from_raster`.

    Returns
    -------
    pandas.Series
        ``covered area / area with data`` per parcel, indexed like ``parcels``
        and named ``"coverage"``.  Nodata pixels and parts outside the raster
        are left out of both (unknown is not idle); a parcel with no data at
        all gets NaN, and a :class:`~landgis.LandgisWarning` names the parcels
        with less than 99.9 % of their area on data.  Areas are measured in
        the raster's pixel grid: exact for projected rasters; for rasters in
        degrees the pixels' ground size varies with latitude by about 1e-5
        across a 100 m parcel.

    Examples
    --------
    Idle detection without vector footprints:
    ``parcels["built"] = coverage(parcels, "worldcover.tif", classes=50)``, then
    ``parcels[parcels["built"] < 0.1]``.
    """
    rio = rasterio_module()
    from rasterio.features import rasterize
    from rasterio.windows import Window
    from scipy.ndimage import binary_dilation

    series = parcels.geometry if isinstance(parcels, gpd.GeoDataFrame) else parcels
    if not isinstance(series, gpd.GeoSeries):
        raise TypeError(f"parcels: expected a GeoDataFrame or GeoSeries, got {type(parcels)}")
    if series.crs is None:
        raise CRSError("coverage: the parcels have no CRS; set one (gdf.set_crs(4528)).")
    result = np.full(len(series), np.nan)
    partial: list = []
    with rio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), open_raster(raster) as ds:
        check_band(ds, band, raster)
        transform, src_crs = georeference(ds, raster, mask_from=mask_from, source_crs=source_crs)
        values = _classes(classes, ds, band, raster)
        lut = _lookup(ds.dtypes[band - 1], values, ds.nodatavals[band - 1])
        nodata = ds.nodatavals[band - 1]
        own_mask = not any(f.name in ("all_valid", "nodata") for f in ds.mask_flag_enums[band - 1])
        geoms = np.asarray(series.to_crs(src_crs).values, dtype=object)
        pixel = _to_map(geoms, ~transform)  # pixel space: x = column, y = row
        for i, poly in enumerate(pixel):
            if poly is None or shapely.is_empty(poly) or shapely.area(poly) == 0:
                continue
            minx, miny, maxx, maxy = poly.bounds
            c0, r0 = max(0, math.floor(minx)), max(0, math.floor(miny))
            c1, r1 = min(ds.width, math.ceil(maxx)), min(ds.height, math.ceil(maxy))
            if c1 <= c0 or r1 <= r0:
                partial.append(series.index[i])
                continue
            window = Window(c0, r0, c1 - c0, r1 - r0)
            local = shapely.transform(poly, lambda xy, c0=c0, r0=r0: xy - [c0, r0])
            shape = (r1 - r0, c1 - c0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rio.errors.NotGeoreferencedWarning)
                weight = rasterize([(local, 1)], out_shape=shape, dtype="uint8").astype(float)
                edge = rasterize(
                    [(shapely.boundary(local), 1)], out_shape=shape, all_touched=True, dtype="uint8"
                ).astype(bool)
            edge = binary_dilation(edge, structure=np.ones((3, 3), bool))
            rows, cols = np.nonzero(edge)
            cells = shapely.box(cols, rows, cols + 1, rows + 1)
            shapely.prepare(local)
            frac = np.zeros(len(cells))
            inside = shapely.contains_properly(local, cells)
            frac[inside] = 1.0
            cut = ~inside & shapely.intersects(local, cells)
            frac[cut] = shapely.area(shapely.intersection(cells[cut], local))
            weight[rows, cols] = frac
            data = ds.read(band, window=window)
            code = _codes(data, lut, values, nodata)
            valid = np.ones(shape, bool)
            if nodata is not None:
                valid = ~(np.isnan(data) if np.isnan(nodata) else data == nodata)
            if own_mask:
                valid &= ds.read_masks(band, window=window) > 0
            total = float((weight * valid).sum())
            covered = float((weight * (valid & (code > 0))).sum())
            if total > 0:
                result[i] = covered / total
            if total < 0.999 * shapely.area(local):
                partial.append(series.index[i])
    if partial:
        shown = ", ".join(str(p) for p in partial[:10]) + (" …" if len(partial) > 10 else "")
        warnings.warn(
            f"coverage: {len(partial)} parcel(s) lie partly outside {raster} or on nodata "
            f"(index {shown}); their share is of the part with data (NaN when none).",
            LandgisWarning,
            stacklevel=2,
        )
    return pd.Series(result, index=series.index, name="coverage")
