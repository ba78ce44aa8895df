"""Partitioned audits: tiles with a halo, run locally out of core or on Dask.

A province (millions of footprints) is more than one process should hold. The
zone is cut into square tiles; each tile is audited as its own partition by
:func:`landgis.engine.core.run` with a :class:`~landgis.engine.core.Scope`, and
the partitions' results are merged into exactly what one run over the whole
zone gives — the same ``finding_id``\\s, areas, holder and parcel tables.

How a partition stays exact
---------------------------
* **Ownership.** A use piece (one user's touching footprints) is reported by the
  tile owning the first vertex of its first footprint (lowest input row): a
  point on the piece that depends on nothing else.  A parcel (its own-use and
  leased-in figures, idle, leased-in and mismatch findings, the overlap
  conflicts it leads) by the tile owning its bounding-box centre.  Every piece
  and parcel is owned by exactly one tile.
* **Loaded region.**  A partition loads every footprint whose bounding box
  meets its *region*: the tile grown by the halo and by the boxes of the
  parcels it owns; and every parcel whose box meets the region.  A piece it
  needs (owns, or meeting a parcel it owns) must lie strictly inside the
  region — otherwise a footprint beyond it might touch it and the piece might
  go on.  Such a partition is not computed: it is run again with its region
  grown over those pieces (:class:`~landgis.engine.core.Truncated`), as often
  as needed.  Never silently wrong.
* **Nearest own parcel.**  Excess is classified by the holder's nearest own
  authorized parcel, which may lie anywhere.  A part whose nearest loaded own
  parcel is nearer than the part's distance to the region's edge is settled in
  the partition (no unloaded parcel can be as near); the others, and parts
  whose holder has no loaded own parcel, are settled after the merge against
  all parcels (the same function the engine uses).
* **Same arithmetic.**  Footprints and parcels keep their input order in
  every partition, pieces meet their candidate parcels in (piece, parcel)
  order, and planning zones are unioned once for all: each piece and parcel
  goes through the same GEOS operations on the same inputs as in one run.
* **Names.**  A party spelled several ways is shown as first spelled (red lines
  before the survey, then input order) over the whole zone, fixed after the
  merge.  Street, village, routing and ids come from
  :func:`landgis.findings.build_findings` on the merged result, as always.

What must fit in memory
-----------------------
The parcels (red lines) and planning zones are held whole by the process that
drives the audit (about 1.5 KB per parcel: a million parcels ≈ 1.5 GB), and so
are the merged findings.  Footprints are read tile by tile from GeoParquet
(row groups whose box meets the region; bbox covering columns are used when
present) or from any GDAL source with a spatial index (GeoPackage: pyogrio
``bbox``), so only a tile and its halo of them is in memory at a time.

Engines
-------
``engine="local"`` runs the partitions one after the other in this process
(each with ``threads`` threads for the geometry work); ``engine="dask"`` runs
them as tasks on a ``distributed`` cluster (a ``Client``, a scheduler address,
or a ``LocalCluster`` started for the run), each worker reading its footprints
itself, so the files must be reachable from the workers.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.engine.core import (
    RAW_COLUMNS,
    EngineResult,
    Scope,
    Truncated,
    _empty_raw,
    _Layers,
    _nearest_own_parcel,
    match_key,
    run,
)
from landgis.errors import ConfigError, CRSError, InputFileError
from landgis.rules import EXCESS_PARTS, PARK_OVERUSE, park_overuse

__all__ = [
    "FootprintSource",
    "Grid",
    "PartitionDone",
    "RichProgress",
    "TqdmProgress",
    "open_footprints",
    "plan_grid",
    "run_partitioned",
]

#: Categories whose findings are excess parts of use pieces.
USE_CATEGORIES = EXCESS_PARTS
_PARK = PARK_OVERUSE
_HOLDER_COLUMNS = [
    "used_m2",
    "own_m2",
    "encroachment_m2",
    "outside_redline_m2",
    "overuse_requisitioned_m2",
    "overuse_leased_m2",
    "unleased_use_m2",
    "park_overuse_m2",
]

#: Working memory of one partition per footprint it loads (pieces, pairs,
#: overlays, findings), bytes.
BYTES_PER_FOOTPRINT = 8_000
#: Memory per parcel held by the driving process (frame, geometry, index), bytes.
BYTES_PER_PARCEL = 2_000
#: Memory of the merged results per footprint of the zone, bytes.
BYTES_PER_RESULT = 600
#: Footprints per tile without a memory budget.
DEFAULT_TILE_FOOTPRINTS = 100_000

Stage = Callable[[str], None]


# ---------------------------------------------------------------------- grid


@dataclass(frozen=True)
class Grid:
    """Square tiles of ``size`` metres from ``(x0, y0)``; tile ``(i, j)`` owns the
    points with ``floor((x - x0) / size) == i`` and ``floor((y - y0) / size) == j``."""

    x0: float
    y0: float
    size: float

    def tile_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return (
            np.floor((xy[:, 0] - self.x0) / self.size).astype(np.int64),
            np.floor((xy[:, 1] - self.y0) / self.size).astype(np.int64),
        )

    def box(self, i: int, j: int) -> tuple[float, float, float, float]:
        return (
            self.x0 + i * self.size,
            self.y0 + j * self.size,
            self.x0 + (i + 1) * self.size,
            self.y0 + (j + 1) * self.size,
        )


@dataclass(frozen=True)
class _Owner:
    """``Scope.owns`` of tile ``(i, j)`` (a class, so it pickles to Dask workers)."""

    grid: Grid
    i: int
    j: int

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        ti, tj = self.grid.tile_of(xy)
        return (ti == self.i) & (tj == self.j)


def plan_grid(
    bounds,
    n_footprints: int,
    *,
    tile_size: float | None = None,
    tile_footprints: int | None = None,
) -> Grid:
    """A tile grid over ``bounds`` with ``tile_size`` metres, or sized so an average
    tile holds ``tile_footprints`` footprints (default :data:`DEFAULT_TILE_FOOTPRINTS`)."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if tile_size is None:
        area = max((x1 - x0) * (y1 - y0), 1.0)
        per_tile = tile_footprints or DEFAULT_TILE_FOOTPRINTS
        tile_size = math.sqrt(area * per_tile / max(n_footprints, 1))
        tile_size = max(tile_size, 100.0)
    if not tile_size > 0:
        raise ConfigError(f"tile_size must be positive, got {tile_size}")
    return Grid(math.floor(x0), math.floor(y0), float(tile_size))


# ------------------------------------------------------------------- sources


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

    def counts(self, grid: Grid) -> set[tuple[int, int]] | None:
        """Tiles that may hold footprints (``None``: unknown, every tile of the bounds)."""
        return None


class _FrameSource(FootprintSource):
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

    def counts(self, grid: Grid):
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
        file_crs = None
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

    def counts(self, grid: Grid):
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
        return tuple(float(v) for v in total)
    t = Transformer.from_crs(reader.source_crs, reader.crs, always_xy=True)
    return tuple(float(v) for v in t.transform_bounds(*total, densify_pts=21))


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
        return _FrameSource(frame)
    path = Path(str(source))
    if not str(source).startswith(("zip://", "/vsi")) and not path.exists():
        raise InputFileError(f"{path}: file not found (footprints).")
    if path.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
        return _ParquetSource(path, None, crs=crs, source_crs=source_crs, aliases=aliases)
    return _OgrSource(path, None, layer=layer, crs=crs, source_crs=source_crs, aliases=aliases)


# --------------------------------------------------------------------- tasks


@dataclass
class PartitionDone:
    """What a progress callback hears after each partition.

    Attributes
    ----------
    done, total
        Partitions finished so far, and in all.
    tile
        ``(i, j)`` of the tile.
    footprints
        Footprints loaded (tile and halo).
    pieces, parcels
        Use pieces and parcels the partition reported.
    retries
        Times the partition was run again with a larger region.
    seconds
        Wall time of its last run.
    worker
        Where it ran (``"local"`` or the Dask worker's address).
    """

    done: int
    total: int
    tile: tuple[int, int]
    footprints: int
    pieces: int
    parcels: int
    retries: int
    seconds: float
    worker: str = "local"


@dataclass
class _Task:
    tile: tuple[int, int]
    grid: Grid
    region: tuple[float, float, float, float]
    halo: float
    parcels: gpd.GeoDataFrame  # every parcel whose box meets the region, in input order
    parcel_rows: np.ndarray  # their rows in the whole parcels frame
    report: np.ndarray  # bool: the parcels this tile owns
    planning: gpd.GeoDataFrame | None
    options: dict
    source: FootprintSource | None = None  # read by the worker
    footprints: tuple | None = None  # or read beforehand: (frame, rows, report)
    retries: int = 0


@dataclass
class _Retry:
    task: _Task
    bounds: np.ndarray


@dataclass
class _Part:
    tile: tuple[int, int]
    raw: gpd.GeoDataFrame
    pieces: pd.DataFrame
    parcels: pd.DataFrame
    footprints: int
    retries: int
    seconds: float
    report: dict = field(default_factory=dict)
    survey_date: Any = None
    worker: str = "local"


def _run_task(task: _Task) -> _Part | _Retry:
    """One partition: read its footprints, run the engine in scope, flag the parts
    whose nearest own parcel may lie beyond the region."""
    started = time.perf_counter()
    if task.footprints is not None:
        fp, rows, report = task.footprints
    else:
        fp, rows, report = task.source.read(task.region)
    if len(fp) == 0 and not task.report.any():
        return _Part(
            task.tile,
            _empty_raw(task.parcels.crs),
            _empty_pieces(),
            _empty_parcels(),
            0,
            task.retries,
            time.perf_counter() - started,
            report,
        )
    scope = Scope(owns=_Owner(task.grid, *task.tile), region=task.region, parcels=task.report)
    try:
        result = run(task.parcels, fp, task.planning, scope=scope, **task.options)
    except Truncated as cut:
        return _Retry(task, cut.bounds)
    raw = result.raw
    pieces = result.pieces
    users = fp["user"].to_numpy(dtype=object)
    first_row = rows[pieces["footprint"].to_numpy(dtype=np.intp)]
    piece_rows = np.full(int(pieces["piece"].max()) + 1 if len(pieces) else 0, -1, dtype=np.int64)
    piece_rows[pieces["piece"].to_numpy(dtype=np.intp)] = first_row
    pieces = pd.DataFrame(
        {
            "first_row": first_row,
            "spelling": users[pieces["footprint"].to_numpy(dtype=np.intp)],
            "holder": pieces["holder"].to_numpy(dtype=object),
            "used_m2": pieces["used_m2"].to_numpy(),
            "excess_m2": pieces["excess_m2"].to_numpy(),
        }
    )
    use = raw["category"].isin(USE_CATEGORIES).to_numpy()
    raw["first_row"] = -1
    if use.any():
        raw.loc[use, "first_row"] = piece_rows[raw.loc[use, "piece"].to_numpy(dtype=np.intp)]
    raw["resolve"] = False
    raw.loc[use, "resolve"] = _beyond_reach(
        raw.loc[use], task.parcels, task.region, task.options.get("grid_size", 1e-6)
    )
    parcels = result.parcels.copy()
    parcels.insert(0, "row", task.parcel_rows[task.report])
    survey = None
    if "survey_date" in fp and len(fp):
        dates = pd.to_datetime(fp["survey_date"], errors="coerce").dropna()
        survey = dates.max() if len(dates) else None
    return _Part(
        tile=task.tile,
        raw=raw,
        pieces=pieces,
        parcels=parcels,
        footprints=len(fp),
        retries=task.retries,
        seconds=time.perf_counter() - started,
        report=report,
        survey_date=survey,
        worker=_worker_name(),
    )


def _beyond_reach(raw, parcels, region, grid_size) -> np.ndarray:
    """Parts whose nearest loaded own parcel might not be their nearest own parcel:
    none loaded, or at least as far as the edge of the loaded region."""
    parts = np.asarray(raw.geometry.values, dtype=object)
    pid = raw["parcel_id"].to_numpy(dtype=object)
    out = pid == ""
    at = pd.Index(parcels["parcel_id"]).get_indexer(pid[~out])
    b = shapely.bounds(parts[~out])
    x0, y0, x1, y1 = region
    margin = np.minimum.reduce([b[:, 0] - x0, b[:, 1] - y0, x1 - b[:, 2], y1 - b[:, 3]])
    near = shapely.dwithin(
        parts[~out],
        np.asarray(parcels.geometry.values, dtype=object)[at],
        margin - 3 * grid_size,
    )
    out[~out] = ~(near & (margin > 3 * grid_size))
    return out


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:
        return "local"


def _empty_pieces() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "first_row": np.empty(0, np.int64),
            "spelling": [],
            "holder": [],
            "used_m2": [],
            "excess_m2": [],
        }
    )


def _empty_parcels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.empty(0, np.int64),
            "parcel_id": [],
            "tenure": [],
            "holder": [],
            "area_m2": [],
            "used_m2": [],
            "use_ratio": [],
        }
    )


# ---------------------------------------------------------------------- plan


class _Plan:
    """Tiles, their regions and what each is given."""

    def __init__(self, parcels, source: FootprintSource, planning, *, grid, halo, options):
        self.parcels = parcels
        self.source = source
        self.grid = grid
        self.halo = float(halo)
        self.options = options
        self.pgeom = np.asarray(parcels.geometry.values, dtype=object)
        self.pbounds = shapely.bounds(self.pgeom)
        self.ptree = shapely.STRtree(self.pgeom)
        centre = (self.pbounds[:, :2] + self.pbounds[:, 2:]) / 2
        self.pi, self.pj = grid.tile_of(centre)
        self.planning = planning
        self.zgeom = (
            None if planning is None else np.asarray(planning.geometry.values, dtype=object)
        )
        tiles = set(zip(self.pi.tolist(), self.pj.tolist(), strict=True))
        if len(source):
            maybe = source.counts(grid)
            if maybe is None:
                i0, j0 = grid.tile_of(np.array(source.bounds[:2]))
                i1, j1 = grid.tile_of(np.array(source.bounds[2:]))
                maybe = {
                    (i, j)
                    for i in range(int(i0[0]), int(i1[0]) + 1)
                    for j in range(int(j0[0]), int(j1[0]) + 1)
                }
            tiles |= maybe
        self.tiles = sorted(tiles)

    def task(self, tile, region=None, retries=0) -> _Task:
        i, j = tile
        owned = np.flatnonzero((self.pi == i) & (self.pj == j))
        if region is None:
            x0, y0, x1, y1 = self.grid.box(i, j)
            h = self.halo
            region = (x0 - h, y0 - h, x1 + h, y1 + h)
            if len(owned):
                b = self.pbounds[owned]
                region = (
                    min(region[0], b[:, 0].min() - h / 10),
                    min(region[1], b[:, 1].min() - h / 10),
                    max(region[2], b[:, 2].max() + h / 10),
                    max(region[3], b[:, 3].max() + h / 10),
                )
        rows = np.sort(self.ptree.query(shapely.box(*region)))
        report = np.isin(rows, owned)
        planning = None
        if self.planning is not None:
            z = shapely.STRtree(self.zgeom).query(shapely.box(*region))
            planning = self.planning.iloc[np.sort(z)].reset_index(drop=True)
        return _Task(
            tile=tile,
            grid=self.grid,
            region=tuple(float(v) for v in region),
            halo=self.halo,
            parcels=self.parcels.iloc[rows].reset_index(drop=True),
            parcel_rows=rows,
            report=report,
            planning=planning,
            options=self.options,
            source=self.source,
            retries=retries,
        )

    def grow(self, retry: _Retry) -> _Task:
        """The same tile with its region grown over the pieces that reached its edge."""
        b, h = retry.bounds, self.halo
        r = retry.task.region
        region = (
            min(r[0], b[:, 0].min() - h),
            min(r[1], b[:, 1].min() - h),
            max(r[2], b[:, 2].max() + h),
            max(r[3], b[:, 3].max() + h),
        )
        return self.task(retry.task.tile, region, retry.task.retries + 1)


# ------------------------------------------------------------------ engines


def run_partitioned(
    parcels: gpd.GeoDataFrame,
    footprints,
    planning: gpd.GeoDataFrame | None = None,
    *,
    engine: str = "local",
    client=None,
    tile_size: float | None = None,
    halo: float | None = None,
    memory_budget: float | None = None,
    threads: int | None = None,
    progress: Stage | None = None,
    on_partition: Callable[[PartitionDone], None] | None = None,
    stats: dict | None = None,
    **options,
) -> EngineResult:
    """:func:`landgis.engine.run`, one tile at a time; the same result.

    Parameters
    ----------
    parcels, planning
        Validated frames in the analysis CRS, as for :func:`~landgis.engine.run`
        (held in memory).
    footprints
        A validated GeoDataFrame in the analysis CRS, or a
        :class:`FootprintSource` (:func:`open_footprints`), or a path
        (GeoParquet, GeoPackage …) read tile by tile.
    engine
        ``"local"`` (partitions one after the other in this process) or
        ``"dask"`` (tasks on a ``distributed`` cluster).
    client
        For ``engine="dask"``: a ``distributed.Client``, a scheduler address
        (``"tcp://host:8786"``), or ``None`` to start a ``LocalCluster`` of 2
        workers for the run.
    tile_size
        Tile side in metres.  Default: tiles of about
        :data:`DEFAULT_TILE_FOOTPRINTS` footprints, or what ``memory_budget``
        allows.
    halo
        Margin loaded around each tile, metres.  Default: the largest parcel
        extent plus 10 %.  Results never depend on it: a partition whose pieces
        reach the edge is run again with a larger region, and parts whose
        nearest own parcel may lie beyond it are settled after the merge.
    memory_budget
        GB the local engine may use: sizes the tiles (the parcels are held whole;
        :data:`BYTES_PER_PARCEL`, :data:`BYTES_PER_FOOTPRINT`).
    threads
        Threads of the geometry work within a partition (local engine; Dask
        tasks use one each, the workers give the parallelism).
    progress
        Called with stage names (and the Dask dashboard link).
    on_partition
        Called with a :class:`PartitionDone` after each partition.
    stats
        A dict filled with figures of the run (tiles, retries, parts settled
        after the merge, tile size, halo).
    **options
        ``idle_ratio``, ``grid_size``, ``planning_share``,
        ``mismatch_relative``, ``mismatch_mu`` as for :func:`~landgis.engine.run`.

    Returns
    -------
    EngineResult
        Equal to ``run(parcels, footprints, planning, ...)``: the same raw
        findings (row order aside), holder and parcel tables.
    """
    say = progress or (lambda stage: None)
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine={engine!r}; use 'local' or 'dask'.")
    grid_size = options.get("grid_size", 1e-6)
    crs = parcels.crs
    parcels = parcels.reset_index(drop=True)
    source = (
        footprints
        if isinstance(footprints, FootprintSource)
        else open_footprints(footprints, crs=crs)
    )
    # Parties as first spelled over the whole zone: red lines first.
    keys = parcels["holder"].map(match_key)
    display = pd.Series(parcels["holder"].to_numpy(dtype=object), index=keys.to_numpy())
    display = display[~display.index.duplicated()]
    engine_parcels = parcels.copy()
    engine_parcels["holder"] = display.reindex(keys.to_numpy()).to_numpy()

    zones = None
    if planning is not None and len(planning):
        union = shapely.union_all(
            np.asarray(planning.geometry.values, dtype=object), grid_size=grid_size
        )
        zone_parts = shapely.get_parts(union)
        zones = gpd.GeoDataFrame(
            {"zone": np.full(len(zone_parts), "", dtype=object)}, geometry=zone_parts, crs=crs
        )

    pb = shapely.bounds(np.asarray(parcels.geometry.values, dtype=object))
    extent = float(np.max(np.maximum(pb[:, 2] - pb[:, 0], pb[:, 3] - pb[:, 1]))) if len(pb) else 0
    halo = 1.1 * extent + 10.0 if halo is None else float(halo)
    n_fp = len(source)
    tile_footprints = None
    if memory_budget is not None:
        spare = (
            memory_budget * 1e9 - 500e6 - BYTES_PER_PARCEL * len(parcels) - BYTES_PER_RESULT * n_fp
        )
        tile_footprints = int(np.clip(spare / BYTES_PER_FOOTPRINT, 10_000, 200_000))
    elif engine == "dask" and tile_size is None:  # several tasks per worker
        tile_footprints = int(np.clip(n_fp / 8, 5_000, DEFAULT_TILE_FOOTPRINTS))
    lo = np.minimum(pb[:, :2].min(axis=0), source.bounds[:2]) if len(pb) else source.bounds[:2]
    hi = np.maximum(pb[:, 2:].max(axis=0), source.bounds[2:]) if len(pb) else source.bounds[2:]
    grid = plan_grid((*lo, *hi), n_fp, tile_size=tile_size, tile_footprints=tile_footprints)
    task_options = dict(options)
    task_options["threads"] = 1 if engine == "dask" else threads
    plan = _Plan(engine_parcels, source, zones, grid=grid, halo=halo, options=task_options)
    say(
        f"partitioning: {len(plan.tiles)} tiles of {grid.size:,.0f} m, halo {halo:,.0f} m, "
        f"{n_fp:,} footprints, {len(parcels):,} parcels ({engine})"
    )
    in_memory = isinstance(source, _FrameSource)

    def tasks() -> Iterator[_Task]:
        for tile in plan.tiles:
            task = plan.task(tile)
            if in_memory:  # ship the slice, not the whole frame
                task.footprints = source.read(task.region)
                task.source = None
            yield task

    def regrow(retry: _Retry) -> _Task:
        task = plan.grow(retry)
        if in_memory:
            task.footprints = source.read(task.region)
            task.source = None
        return task

    parts: list[_Part] = []
    counter = {"retries": 0}

    def collect(part: _Part) -> None:
        parts.append(part)
        counter["retries"] += part.retries
        if on_partition is not None:
            on_partition(
                PartitionDone(
                    done=len(parts),
                    total=len(plan.tiles),
                    tile=part.tile,
                    footprints=part.footprints,
                    pieces=len(part.pieces),
                    parcels=len(part.parcels),
                    retries=part.retries,
                    seconds=part.seconds,
                    worker=part.worker,
                )
            )

    if engine == "local":
        for task in tasks():
            result = _run_task(task)
            while isinstance(result, _Retry):
                result = _run_task(regrow(result))
            collect(result)
    else:
        _run_dask(tasks(), regrow, collect, client=client, say=say)

    say("merging partitions")
    result, resolved = _merge(parts, engine_parcels, display, crs=crs, grid_size=grid_size)
    if stats is not None:
        stats.update(
            tiles=len(plan.tiles),
            tile_size=grid.size,
            halo=halo,
            retries=counter["retries"],
            resolved_after_merge=resolved,
            footprints_loaded=sum(p.footprints for p in parts),
            footprints=n_fp,
            repairs=_sum_reports(parts),
            warnings=sorted({w for p in parts for w in p.report.get("warnings", [])}),
            survey_date=max(
                (p.survey_date for p in parts if p.survey_date is not None), default=None
            ),
        )
    return result


def _sum_reports(parts) -> dict:
    out: dict = {}
    for p in parts:
        for k, v in p.report.items():
            if k != "warnings":
                out[k] = out.get(k, 0) + v
    return out


def _run_dask(tasks: Iterator[_Task], regrow, collect, *, client, say) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(
            "engine='dask' needs dask.distributed: pip install 'landgis[dask]'"
        ) from exc
    owned = []
    if client is None:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
        client = Client(cluster)
        owned = [client, cluster]
    elif isinstance(client, str):
        client = Client(client)
        owned = [client]
    try:
        say(f"Dask dashboard: {client.dashboard_link}")
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        pending = iter(tasks)
        window = as_completed()

        def submit(task: _Task) -> None:
            [data] = client.scatter([task], hash=False)
            window.add(client.submit(_run_task, data, pure=False))

        for task in pending:
            submit(task)
            if window.count() >= 2 * n_workers:
                break
        for future in window:
            result = future.result()
            future.release()
            if isinstance(result, _Retry):
                submit(regrow(result))
                continue
            collect(result)
            task = next(pending, None)
            if task is not None:
                submit(task)
    finally:
        for thing in owned:
            thing.close()


# --------------------------------------------------------------------- merge


def _merge(parts: list[_Part], parcels, display: pd.Series, *, crs, grid_size):
    """One :class:`EngineResult` from the partitions'."""
    raws = [p.raw for p in parts if len(p.raw)]
    raw = (
        gpd.GeoDataFrame(pd.concat(raws, ignore_index=True), geometry="geometry", crs=crs)
        if raws
        else _empty_raw(crs).assign(first_row=np.empty(0, np.int64), resolve=False)
    )
    pieces = pd.concat([p.pieces for p in parts] or [_empty_pieces()], ignore_index=True)

    # Names as first spelled over the whole zone: parcels' spelling, else the
    # footprint spelling of the lowest row.
    pieces = pieces.sort_values("first_row", kind="stable").reset_index(drop=True)
    spell_keys = pieces["spelling"].map(match_key).to_numpy()
    first = pd.Series(pieces["spelling"].to_numpy(dtype=object), index=spell_keys)
    first = first[~first.index.duplicated()]
    names = pd.concat([display, first[~first.index.isin(display.index)]])

    def rename(values) -> np.ndarray:
        values = pd.Series(values, dtype=object)
        uniq = pd.Series(values.unique())
        mapped = names.reindex(uniq.map(match_key).to_numpy()).to_numpy()
        lookup = dict(zip(uniq, np.where(pd.isna(mapped), uniq, mapped), strict=True))
        return values.map(lookup).to_numpy(dtype=object)

    raw["holder"] = rename(raw["holder"].to_numpy(dtype=object))
    pieces["holder"] = rename(pieces["holder"].to_numpy(dtype=object))

    # Parts whose nearest own parcel may lie beyond their partition's region.
    lay = _Layers.from_frames(
        parcels, gpd.GeoDataFrame({"user": []}, geometry=[], crs=crs), grid_size=grid_size
    )  # the parcels as thinned in the partitions' engine runs
    code_of = {match_key(n): c for c, n in enumerate(lay.names)}
    authorized = set(lay.pholder[lay.pauth].tolist())
    resolve = raw["resolve"].to_numpy(dtype=bool, copy=True) if len(raw) else np.zeros(0, bool)
    holder_code = {h: code_of.get(match_key(h), -1) for h in pd.unique(raw["holder"])}
    codes = raw["holder"].map(holder_code).to_numpy(dtype=np.intp)
    resolve &= np.isin(codes, np.fromiter(authorized, dtype=np.intp))
    rows = np.flatnonzero(resolve)
    if len(rows):
        parts_geom = np.asarray(raw.geometry.values, dtype=object)[rows]
        best = _nearest_own_parcel(parts_geom, codes[rows], lay, grid_size)
        found = best >= 0
        pid = np.where(found, lay.pid[np.maximum(best, 0)], "")
        tenure = np.where(found, lay.ptenure[np.maximum(best, 0)], "")
        cat = raw["category"].to_numpy(dtype=object)[rows]
        park = np.isin(cat, _PARK)
        cat[park] = park_overuse(tenure[park])
        raw.loc[rows, "parcel_id"] = pid
        raw.loc[rows, "category"] = cat

    # Pieces numbered as one run numbers them: by their first footprint.
    is_use = raw["category"].isin(USE_CATEGORIES).to_numpy()
    rank = pd.Series(np.arange(len(pieces)), index=pieces["first_row"].to_numpy())
    if "piece" in raw:
        raw["piece"] = np.nan
    if is_use.any():
        raw.loc[is_use, "piece"] = rank.reindex(raw.loc[is_use, "first_row"].to_numpy()).to_numpy()
    cat_rank = {c: i for i, c in enumerate(EXCESS_PARTS)}
    pid_row = pd.Series(np.arange(len(parcels)), index=parcels["parcel_id"].to_numpy())
    order_key = np.where(
        is_use,
        raw["piece"].fillna(0).to_numpy() if "piece" in raw else 0,
        len(pieces) + pid_row.reindex(raw["parcel_id"].to_numpy()).fillna(0).to_numpy(),
    )
    raw["_g"] = np.where(is_use, raw["category"].map(cat_rank).fillna(0), 9)
    raw["_k"] = order_key
    raw = raw.sort_values(["_g", "_k"], kind="stable").reset_index(drop=True)
    raw = raw[[c for c in (*RAW_COLUMNS, "geometry") if c in raw]]

    holders = _holders(pieces, raw, lay, names)
    parcel_table = pd.concat(
        [p.parcels for p in parts] or [_empty_parcels()], ignore_index=True
    ).sort_values("row", kind="stable")
    parcel_table = parcel_table.drop(columns="row").reset_index(drop=True)
    parcel_table["holder"] = rename(parcel_table["holder"].to_numpy(dtype=object))
    return EngineResult(raw=raw, holders=holders, parcels=parcel_table), len(rows)


def _holders(pieces: pd.DataFrame, raw: pd.DataFrame, lay: _Layers, names: pd.Series):
    """The holder table of one run: every footprint user and authorized holder, in key order."""
    auth = lay.names[np.unique(lay.pholder[lay.pauth])]
    everyone = pd.Index(pd.unique(np.r_[pieces["holder"].to_numpy(dtype=object), auth]))
    keys = everyone.map(match_key)
    everyone = everyone[np.argsort(np.asarray(keys, dtype=object).astype(str), kind="stable")]
    table = pd.DataFrame(index=pd.Index(everyone, name="holder"))
    by = pieces.groupby("holder")
    table["used_m2"] = by["used_m2"].sum().reindex(everyone, fill_value=0.0)
    table["own_m2"] = table["used_m2"] - by["excess_m2"].sum().reindex(everyone, fill_value=0.0)
    for cat in USE_CATEGORIES:
        sel = raw["category"] == cat
        table[f"{cat}_m2"] = (
            raw.loc[sel].groupby("holder")["area_m2"].sum().reindex(everyone, fill_value=0.0)
        )
    table["park_overuse_m2"] = table[[f"{c}_m2" for c in PARK_OVERUSE]].sum(axis=1)
    return table[_HOLDER_COLUMNS].astype(float)


# ------------------------------------------------------------------ progress


class TqdmProgress:
    """A tqdm bar per partition (notebook or terminal): ``on_partition=TqdmProgress()``."""

    def __init__(self, **kwargs):
        self.kwargs = {"desc": "partitions", "unit": "tile", **kwargs}
        self.bar = None

    def __call__(self, event: PartitionDone) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event.total, **self.kwargs)
        self.bar.set_postfix(footprints=event.footprints, worker=event.worker, refresh=False)
        self.bar.update(1)
        if event.done >= event.total:
            self.bar.close()


class RichProgress:
    """A rich progress bar per partition (what the CLI shows)."""

    def __init__(self, console=None):
        self.console = console
        self.progress = None
        self.task = None

    def __call__(self, event: PartitionDone) -> None:
        if self.progress is None:
            from rich.progress import Progress

            self.progress = Progress(console=self.console, transient=False)
            self.progress.start()
            self.task = self.progress.add_task("partitions", total=event.total)
        self.progress.update(
            self.task,
            advance=1,
            description=f"tile {event.tile} · {event.footprints:,} footprints · {event.worker}",
        )
        if event.done >= event.total:
            self.progress.stop()


# ------------------------------------------------------------ streamed files

#: Footprint files the partitioned audit streams tile by tile.
STREAMED_SUFFIXES = (".parquet", ".geoparquet", ".pq", ".gpkg", ".fgb", ".sqlite")
