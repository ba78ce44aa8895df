"""Orthophotos under the HTML map: reprojected, stretched, embedded as PNG.

:func:`orthophoto_overlay` turns a GeoTIFF (drone orthophoto, imagery) into the
image the offline map draws under its vector layers (``build_map(...,
orthophoto=path)``): reprojected to Web Mercator (or GCJ-02 for Gaode
basemaps), each band stretched to its 2–98 % range, encoded as a PNG data URI.
"""

from __future__ import annotations

import base64
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from landgis.errors import ConfigError
from landgis.io.raster import (
    GDAL_CACHE_MB,
    RasterSource,
    check_band,
    georeference,
    image_bounds,
    open_raster,
    rasterio_module,
)

__all__ = ["orthophoto_overlay"]


def orthophoto_overlay(
    path: RasterSource,
    *,
    max_size: int = 2048,
    bands: Iterable[int] | None = None,
    opacity: float = 1.0,
    label: str | None = None,
    source_crs: Any = None,
    gcj: bool = False,
) -> dict[str, Any]:
    """An orthophoto as an image layer of the HTML map: Web Mercator PNG in a data URI.

    The image is read decimated (GDAL uses the file's overviews), reprojected
    to Web Mercator (EPSG:3857, the map's own projection, so that Leaflet's
    ``L.imageOverlay`` stretched between its corners lies true) at no more than
    ``max_size`` pixels on the long side, stretched to 8 bits where needed
    (2–98 % per band), made transparent on nodata and outside the image, and
    encoded as PNG.  It travels inside the page, so the street office sees the
    ground without network.

    Parameters
    ----------
    path
        A georeferenced image (GeoTIFF …): RGB(A), grey, or one band with a
        colour table (drawn in its colours, e.g. ESA WorldCover).
    max_size
        Longest side of the embedded image, pixels (default 2048: a few MB).
    bands
        Bands to draw as red, green, blue (default 1, 2, 3; or 1 for grey).
    opacity
        Initial opacity, 0–1.
    label
        Name in the layer switcher (default ``"影像·<file name>"``); shown as text.
    source_crs
        The image's CRS when the file has none.
    gcj
        Shift the corners to GCJ-02 (for Gaode basemaps; ``build_map`` sets it).

    Returns
    -------
    dict
        ``{"id", "label", "url", "bounds": [[south, west], [north, east]],
        "opacity", "size": [width, height]}``, what ``build_map(orthophoto=…)``
        puts into the map's data.
    """
    rio = rasterio_module()
    from rasterio.enums import ColorInterp, Resampling
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds

    if not isinstance(max_size, int | np.integer) or max_size < 16:
        raise ConfigError(f"max_size={max_size!r}; give the longest side in pixels (≥ 16).")
    if not 0 <= opacity <= 1:
        raise ConfigError(f"opacity={opacity!r}; give a value between 0 and 1.")
    with rio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), open_raster(path) as ds:
        transform, src_crs = georeference(ds, path, mask_from=None, source_crs=source_crs)
        if bands is None:
            bands = (1, 2, 3) if ds.count >= 3 else (1,)
        bands = tuple(int(b) for b in bands)
        for b in bands:
            check_band(ds, b, path)
        if len(bands) not in (1, 3):
            raise ConfigError(f"{path}: bands={bands}; give one band (grey) or three (RGB).")
        palette = None
        if len(bands) == 1 and ds.colorinterp[bands[0] - 1] == ColorInterp.palette:
            palette = ds.colormap(bands[0])
        left, bottom, right, top = image_bounds(transform, ds.width, ds.height)
        with warnings.catch_warnings():  # rasterio 1.4 multiplies affines with `*`
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            dst_transform, dst_w, dst_h = calculate_default_transform(
                src_crs, "EPSG:3857", ds.width, ds.height,
                left=left, bottom=bottom, right=right, top=top,
            )  # fmt: skip
        scale = max(dst_w, dst_h) / max_size
        if scale > 1:
            dst_transform = dst_transform @ Affine.scale(scale)
            dst_w, dst_h = math.ceil(dst_w / scale), math.ceil(dst_h / scale)
        # read at about twice the target resolution, never the full image; an
        # overview level read as it is stored is fast (a 36000² tile: 0.01 s,
        # against 3 s for GDAL to resample one to an odd size)
        factor = max(1.0, min(ds.width / (2 * dst_w), ds.height / (2 * dst_h)))
        levels = [f for f in ds.overviews(bands[0]) if f <= factor]
        if levels:
            factor = float(max(levels))
        out_w, out_h = math.ceil(ds.width / factor), math.ceil(ds.height / factor)
        resampling = Resampling.nearest if palette else Resampling.average
        src = ds.read(bands, out_shape=(len(bands), out_h, out_w), resampling=resampling)
        nodata = ds.nodatavals[bands[0] - 1]
        flags = {f.name for f in ds.mask_flag_enums[bands[0] - 1]}
        if "nodata" in flags and nodata is not None:  # invalid where every band is nodata
            blank = np.isnan(src) if np.isnan(nodata) else src == nodata
            valid = np.where(blank.all(axis=0), 0, 255).astype(np.uint8)
        elif "all_valid" in flags:
            valid = np.full((out_h, out_w), 255, dtype=np.uint8)
        else:  # alpha band or mask file
            valid = ds.read_masks(bands[0], out_shape=(out_h, out_w), resampling=Resampling.nearest)
        src_transform = transform @ Affine.scale(ds.width / out_w, ds.height / out_h)
        name = Path(str(path)).name

    if palette is None and src.dtype != np.uint8:
        src = _stretch(src, valid > 0)
    if palette is not None:
        lut = np.zeros((max(256, max(palette) + 1), 4), dtype=np.uint8)
        for value, rgba in palette.items():
            lut[value] = rgba
        rgba = np.moveaxis(lut[src[0].astype(np.int64)], -1, 0)
        rgba[3] = np.where(valid > 0, rgba[3], 0)
        src = rgba
    else:
        if len(bands) == 1:
            src = np.repeat(src, 3, axis=0)
        alpha = np.where(valid > 0, 255, 0).astype(np.uint8)
        src = np.concatenate([src.astype(np.uint8), alpha[None]], axis=0)

    dst = np.zeros((4, dst_h, dst_w), dtype=np.uint8)
    for i in range(4):
        reproject(
            src[i],
            dst[i],
            src_transform=src_transform,
            src_crs=src_crs,
            dst_transform=dst_transform,
            dst_crs="EPSG:3857",
            resampling=Resampling.nearest if palette is not None or i == 3 else Resampling.bilinear,
            src_nodata=None,
            dst_nodata=0,
        )
    dst[:3, dst[3] == 0] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rio.errors.NotGeoreferencedWarning)
        with MemoryFile() as memfile:
            with memfile.open(
                driver="PNG", width=dst_w, height=dst_h, count=4, dtype="uint8"
            ) as png:
                png.write(dst)
            data = memfile.read()
    west, south, east, north = transform_bounds(
        "EPSG:3857",
        "EPSG:4326",
        dst_transform.c,
        dst_transform.f + dst_transform.e * dst_h,
        dst_transform.c + dst_transform.a * dst_w,
        dst_transform.f,
    )
    if gcj:
        from landgis.gcj02 import wgs84_to_gcj02

        (west, east), (south, north) = wgs84_to_gcj02([west, east], [south, north])
        west, east, south, north = (float(v) for v in (west, east, south, north))
    return {
        "id": f"image-{name}",
        "label": label if label is not None else f"影像·{name}",
        "url": "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
        "opacity": float(opacity),
        "size": [int(dst_w), int(dst_h)],
    }


def _stretch(bands: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each band's 2–98 % range (of valid pixels) → 0–255."""
    out = np.zeros(bands.shape, dtype=np.uint8)
    for i, band in enumerate(bands.astype(np.float64)):
        sample = band[valid & np.isfinite(band)]
        if not sample.size:
            continue
        lo, hi = np.percentile(sample, [2, 98])
        if hi <= lo:
            hi = lo + 1
        out[i] = np.clip((band - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)
    return out
