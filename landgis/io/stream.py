"""Footprints read by bounding box: what a tile of a partitioned audit loads.

A province's footprints do not fit in one process.  A :class:`FootprintSource`
returns the footprints whose bounding box meets a box — validated like
:func:`landgis.read_footprints` does, in the analysis CRS, in input order, with
their row numbers in the whole input — from a frame in memory
(:class:`FrameSource`), a GeoParquet file (row groups whose box meets the query;
bbox covering columns used when present) or any GDAL source with a spatial index
(GeoPackage: pyogrio ``bbox``).  :func:`open_footprints` picks the right one.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.errors import CRSError, InputFileError

__all__ = ["STREAMED_SUFFIXES", "FootprintSource", "FrameSource", "open_footprints"]

#: Footprint files the partitioned audit streams tile by tile.
STREAMED_SUFFIXES = (".parquet", ".geoparquet", ".pq", ".gpkg", ".fgb", ".sqlite")


class FootprintSource:
    """Footprints read by bounding box, validated, in the analysis CRS.

    :meth:`read` returns the footprints whose box meets ``bbox`` (in input
    order) and their row numbers in the whole input (0-based), which order
    footprints the same way in every partition.
    """

    crs: Any
    bounds: tuple[float, float, float, float]

    def __len__(self) -> int:
        raise NotImplementedError

    def read(self, bbox) -> tuple[gpd.GeoDataFrame, np.ndarray, dict]:
        """``(footprints, rows, report)`` for the box ``(xmin, ymin, xmax, ymax)``."""
        raise NotImplementedError

    def counts(self, grid) -> set[tuple[int, int]] | None:
        """Tiles of ``grid`` (anything with ``tile_of(xy)``) that may hold footprints
        (``None``: unknown, every tile of the bounds)."""
        return None


class FrameSource(FootprintSource):
    """Footprints already in memory (validated, in the analysis CRS)."""

    def __init__(self, frame: gpd.GeoDataFrame):
        self.frame = frame.reset_index(drop=True)
        self.crs = frame.crs
        self._bounds = shapely.bounds(np.asarray(self.frame.geometry.values, dtype=object))
        self.bounds = tuple(self.frame.total_bounds) if len(frame) else (0.0, 0.0, 0.0, 0.0)

    def __len__(self) -> int:
        return len(self.frame)

    def read(self, bbox):
        rows = np.flatnonzero(_meets(self._bounds, bbox))
        return self.frame.iloc[rows].reset_index(drop=True), rows, {}

    def counts(self, grid):
        b = self._bounds
        i0, j0 = grid.tile_of(b[:, :2])
        i1, j1 = grid.tile_of(b[:, 2:])
        tiles = set()
        for a, b_, c, d in zip(i0, j0, i1, j1, strict=True):
            for i in range(a, c + 1):
                for j in range(b_, d + 1):
                    tiles.add((int(i), int(j)))
        return tiles


def _no_footprints(crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"footprint_id": pd.Series([], dtype=object), "user": pd.Series([], dtype=object)},
        geometry=gpd.GeoSeries([], crs=crs),
    )


def _meets(bounds: np.ndarray, bbox) -> np.ndarray:
    x0, y0, x1, y1 = bbox
    return (bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1) & (bounds[:, 3] >= y0)


@dataclass
class _Reader:
    """Validation shared by the file sources: CRS, column aliases, repairs."""

    crs: Any  # analysis CRS
    source_crs: Any  # the file's CRS (given, read, or guessed once)
    aliases: Any = None

    def validate(self, frame: gpd.GeoDataFrame, rows: np.ndarray, bbox):
        from landgis.io.vector import read_footprints

        report: dict = {}
        if len(frame) == 0:
            return _no_footprints(self.crs), rows, report
        frame = frame.set_crs(self.source_crs, allow_override=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = read_footprints(frame, crs=self.crs, aliases=self.aliases)
        info = gdf.attrs.get("landgis", {})
        for key in ("repaired", "dropped_empty", "dropped_collapsed", "dropped_z"):
            if info.get(key):
                report[key] = info[key]
        report["warnings"] = [str(w.message) for w in caught]
        kept = gdf.index.to_numpy() - 1  # the reader numbers rows from 1
        rows = rows[kept]
        gdf = gdf.reset_index(drop=True)
        sel = np.flatnonzero(
            _meets(shapely.bounds(np.asarray(gdf.geometry.values, dtype=object)), bbox)
        )
        return gdf.iloc[sel].reset_index(drop=True), rows[sel], report

    def query_box(self, bbox):
        """``bbox`` (analysis CRS) as a box in the file's CRS that holds it."""
        from pyproj import CRS, Transformer

        if CRS.from_user_input(self.source_crs).equals(CRS.from_user_input(self.crs)):
            return tuple(bbox)
        t = Transformer.from_crs(self.crs, self.source_crs, always_xy=True)
        x0, y0, x1, y1 = t.transform_bounds(*bbox, densify_pts=21)
        dx, dy = (x1 - x0) * 0.01, (y1 - y0) * 0.01
        return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


class _ParquetSource(FootprintSource):
    """GeoParquet read by row group: those whose box meets the query are read and
    their rows filtered by box (from the bbox covering columns when the file has
    them, else from the decoded geometry).  Works best on files written in
    spatial order with row groups of 10k–100k rows (as ``bench/generate.py``
    writes them)."""

    def __init__(self, path, reader: _Reader | None, *, crs=None, source_crs=None, aliases=None):
        import pyarrow.parquet as pq

        self.path = str(path)
        pf = pq.ParquetFile(self.path)
        meta = pf.schema_arrow.metadata or {}
        if b"geo" not in meta:
            raise InputFileError(f"{path}: not a GeoParquet file (no 'geo' metadata).")
        self.geo = json.loads(meta[b"geo"])
        column = self.geo["columns"][self.geo["primary_column"]]
        self.covering = (column.get("covering") or {}).get("bbox")
        self.n = pf.metadata.num_rows
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
        self.offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        file_crs: str | CRS | None = None
        if "crs" not in column:
            file_crs = "OGC:CRS84"
        elif column["crs"] is not None:
            from pyproj import CRS

            file_crs = CRS.from_json_dict(column["crs"])
        self.group_bounds = self._scan(pf)
        if reader is None:
            reader = _Reader(
                crs, _source_crs(source_crs, file_crs, self.group_bounds, path), aliases
            )
        self.reader = reader
        self.crs = reader.crs
        self.bounds = _to_analysis(reader, self.group_bounds)

    def _scan(self, pf) -> np.ndarray:
        """Per row group (xmin, ymin, xmax, ymax) in the file's CRS."""
        out = np.empty((pf.metadata.num_row_groups, 4))
        for g in range(pf.metadata.num_row_groups):
            b = self._row_bounds(pf, g)
            out[g] = (
                (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()) if len(b) else np.nan
            )
        return out

    def _row_bounds(self, pf, g: int, table=None) -> np.ndarray:
        if self.covering:
            col = self.covering["xmin"][0]
            t = table if table is not None else pf.read_row_group(g, columns=[col])
            box = t.column(col).combine_chunks()
            return np.column_stack(
                [
                    box.field(k).to_numpy(zero_copy_only=False)
                    for k in ("xmin", "ymin", "xmax", "ymax")
                ]
            ).astype(float)
        name = self.geo["primary_column"]
        t = table if table is not None else pf.read_row_group(g, columns=[name])
        geoms = _decode(t, self.geo, name)
        return shapely.bounds(geoms)

    def __len__(self) -> int:
        return self.n

    def counts(self, grid):
        return None

    def read(self, bbox):
        import pyarrow.parquet as pq
        from geopandas.io.arrow import _arrow_to_geopandas

        query = self.reader.query_box(bbox)
        pf = pq.ParquetFile(self.path)
        frames, rows = [], []
        for g in np.flatnonzero(_meets(self.group_bounds, query)):
            table = pf.read_row_group(int(g))
            sel = np.flatnonzero(_meets(self._row_bounds(pf, g, table), query))
            if not len(sel):
                continue
            part = _arrow_to_geopandas(table.take(sel), self.geo)
            if self.covering:
                part = part.drop(columns=[self.covering["xmin"][0]], errors="ignore")
            frames.append(part)
            rows.append(self.offsets[g] + sel)
        if not frames:
            return _no_footprints(self.crs), np.empty(0, np.int64), {}
        frame = pd.concat(frames, ignore_index=True)
        return self.reader.validate(frame, np.concatenate(rows), bbox)


_BOX = ("xmin", "ymin", "xmax", "ymax")


def _decode(table, geo: dict, name: str) -> np.ndarray:
    column = table.column(name)
    encoding = geo["columns"][name].get("encoding", "WKB").upper()
    if encoding == "WKB":
        return shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    from geopandas.io.arrow import _arrow_to_geopandas

    return np.asarray(_arrow_to_geopandas(table.select([name]), geo).geometry.values, dtype=object)


class _OgrSource(FootprintSource):
    """Any GDAL vector source read with pyogrio's ``bbox`` (GeoPackage: its R-tree)."""

    def __init__(self, path, reader, *, layer=None, crs=None, source_crs=None, aliases=None):
        import pyogrio

        self.path, self.layer = str(path), layer
        info = pyogrio.read_info(self.path, layer=layer)
        self.n = int(info["features"])
        total = info.get("total_bounds")
        if total is None:
            total = pyogrio.read_bounds(self.path, layer=layer)[1]
            total = (total[0].min(), total[1].min(), total[2].max(), total[3].max())
        if reader is None:
            file_crs = info.get("crs")
            reader = _Reader(
                crs, _source_crs(source_crs, file_crs, np.array([total]), path), aliases
            )
        self.reader = reader
        self.crs = reader.crs
        self.bounds = _to_analysis(reader, np.array([total], dtype=float))

    def __len__(self) -> int:
        return self.n

    def read(self, bbox):
        import pyogrio

        frame = pyogrio.read_dataframe(
            self.path, layer=self.layer, bbox=self.reader.query_box(bbox), fid_as_index=True
        )
        rows = frame.index.to_numpy(dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        return self.reader.validate(frame, rows[order], bbox)


def _source_crs(given, file_crs, bounds, path):
    from landgis.crs import crs_from_coordinates, parse_crs

    if given is not None:
        return parse_crs(given, what="source_crs")
    if file_crs is not None:
        return file_crs
    ok = np.isfinite(bounds).all(axis=1)
    total = (
        bounds[ok, 0].min(),
        bounds[ok, 1].min(),
        bounds[ok, 2].max(),
        bounds[ok, 3].max(),
    )
    guess, reason = crs_from_coordinates(total)
    if guess is None:
        raise CRSError(
            f"{path}: the layer has no coordinate reference system and {reason}. Name it "
            "with source_crs= (CLI: --source-crs)."
        )
    return guess


def _to_analysis(reader: _Reader, bounds: np.ndarray) -> tuple[float, float, float, float]:
    from pyproj import CRS, Transformer

    ok = np.isfinite(bounds).all(axis=1)
    b = bounds[ok]
    if not len(b):
        return (0.0, 0.0, 0.0, 0.0)
    total = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    if CRS.from_user_input(reader.source_crs).equals(CRS.from_user_input(reader.crs)):
        x0, y0, x1, y1 = total
    else:
        t = Transformer.from_crs(reader.source_crs, reader.crs, always_xy=True)
        x0, y0, x1, y1 = t.transform_bounds(*total, densify_pts=21)
    return float(x0), float(y0), float(x1), float(y1)


def open_footprints(
    source,
    *,
    crs,
    layer: str | int | None = None,
    source_crs=None,
    aliases=None,
) -> FootprintSource:
    """Footprints to read tile by tile: a GeoParquet file (``.parquet``/``.geoparquet``),
    any file GDAL reads with a spatial index (GeoPackage …), or a GeoDataFrame
    (already validated, in ``crs``).

    Parameters
    ----------
    source
        Path or GeoDataFrame.
    crs
        The analysis CRS the footprints are returned in.
    layer, source_crs, aliases
        As in :func:`landgis.read_footprints`.
    """
    if isinstance(source, FootprintSource):
        return source
    if isinstance(source, gpd.GeoDataFrame):
        frame = source if source.crs is None or source.crs.equals(crs) else source.to_crs(crs)
        return FrameSource(frame)
    path = Path(str(source))
    if not str(source).startswith(("zip://", "/vsi")) and not path.exists():
        raise InputFileError(f"{path}: file not found (footprints).")
    if path.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
        return _ParquetSource(path, None, crs=crs, source_crs=source_crs, aliases=aliases)
    return _OgrSource(path, None, layer=layer, crs=crs, source_crs=source_crs, aliases=aliases)

