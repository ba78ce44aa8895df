"""Tiles: the engine's unit of work, and how their results become one.

The rules of :mod:`landgis.engine.core` are applied to one *tile* at a time: the
use pieces and parcels it owns, with the footprints and parcels around it
loaded.  A single run (:func:`run`) is a plan of one tile covering the zone; a
partitioned run (:func:`landgis.scale.run_partitioned`) a plan of square tiles
with a halo.  Both compute every tile with :func:`compute` and join the tiles
with :func:`merge` — one holder table, one nearest-own-parcel, one naming of
parties, whatever the plan.

How a tile stays exact
----------------------
* **Ownership.** A use piece (one user's touching footprints) is reported by the
  tile owning the first vertex of its first footprint (lowest input row): a
  point on the piece that depends on nothing else.  A parcel (its own-use and
  leased-in figures, idle, leased-in and mismatch findings, the overlap
  conflicts it leads) by the tile owning its bounding-box centre.  Every piece
  and parcel is owned by exactly one tile.
* **Loaded region.**  A tile loads every footprint whose bounding box meets its
  *region*: the tile grown by the halo and by the boxes of the parcels it owns;
  and every parcel whose box meets the region.  A piece it needs (owns, or
  meeting a parcel it owns) must lie strictly inside the region — otherwise a
  footprint beyond it might touch it and the piece might go on.  Such a tile is
  not computed: :func:`compute` returns a retry and the plan grows the region
  over those pieces (:meth:`Plan.grow`), as often as needed.  Never silently wrong.
* **Nearest own parcel.**  Excess is classified by the holder's nearest own
  authorized parcel, which may lie anywhere.  A part whose nearest loaded own
  parcel is nearer than the part's distance to the region's edge is settled in
  the tile (no unloaded parcel can be as near); the others, and parts whose
  holder has no loaded own parcel, are settled by :func:`merge` against all
  parcels (the same function the tiles use).
* **Same arithmetic.**  Footprints and parcels keep their input order in every
  tile, pieces meet their candidate parcels in (piece, parcel) order, and
  planning zones are unioned once for all: each piece and parcel goes through
  the same GEOS operations on the same inputs whatever the plan.
* **Names.**  A party spelled several ways is shown as first spelled (red lines
  before the survey, then input order) over the whole zone, fixed by the merge.

Reading the tiles' footprints and running tiles on Dask is not the engine's
business: :mod:`landgis.scale` does it with the sources of :mod:`landgis.io.stream`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import Tolerances
from landgis.engine.core import (
    RAW_COLUMNS,
    EngineResult,
    Scope,
    Truncated,
    apply_rules,
    empty_raw,
    nearest_own_parcel,
)
from landgis.engine.layers import Layers
from landgis.engine.ops import abandonable
from landgis.errors import ConfigError
from landgis.rules import EXCESS_PARTS, PARK_OVERUSE, park_overuse
from landgis.schema import match_key

__all__ = [
    "DEFAULT_TILE_FOOTPRINTS",
    "Grid",
    "Plan",
    "compute",
    "make_plan",
    "merge",
    "plan_grid",
    "run",
]

_HOLDER_COLUMNS = ["used_m2", "own_m2", *(f"{c}_m2" for c in EXCESS_PARTS), "park_overuse_m2"]

#: Working memory of one tile per footprint it loads (pieces, pairs,
#: overlays, findings), bytes.
BYTES_PER_FOOTPRINT = 8_000
#: Memory per parcel held by the driving process (frame, geometry, index), bytes.
BYTES_PER_PARCEL = 2_000
#: Memory of the merged results per footprint of the zone, bytes.
BYTES_PER_RESULT = 600
#: Footprints per tile without a memory budget.
DEFAULT_TILE_FOOTPRINTS = 100_000

Stage = Callable[[str], None]


def run(
    parcels: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    planning: gpd.GeoDataFrame | None = None,
    *,
    tolerances: Tolerances | None = None,
    threads: int | None = None,
    progress: Stage | None = None,
) -> EngineResult:
    """Apply the rules to validated layers that share one metric CRS: one tile,
    the whole zone.

    Parameters
    ----------
    parcels, footprints, planning
        Frames as returned by :func:`landgis.read_parcels` etc., already in
        the analysis CRS.
    tolerances
        Grid, idle ratio, planning share, area-mismatch tolerances
        (:class:`landgis.config.Tolerances`; its defaults when ``None``).
    threads
        Threads for the geometry work (``None``: every core).  The results are
        the same whatever the number.
    progress
        Called with the name of each stage as it starts.

    Returns
    -------
    EngineResult

    Notes
    -----
    Called on the main thread, the work runs on a worker thread
    (:func:`~landgis.engine.ops.abandonable`): Ctrl-C or SIGTERM raise
    ``KeyboardInterrupt`` (or what their handler raises) at once, even while
    GEOS is in a long call.
    """
    footprints = footprints.reset_index(drop=True)
    bounds = footprints.total_bounds if len(footprints) else None
    plan = make_plan(
        parcels,
        planning,
        footprint_bounds=bounds,
        n_footprints=len(footprints),
        whole=True,
        tolerances=tolerances,
        threads=threads,
    )
    task = plan.task(plan.tiles[0])
    task.footprints = (footprints, np.arange(len(footprints)), {})
    part = abandonable(compute, task, progress)
    if isinstance(part, _Retry):  # pragma: no cover - the whole zone's region is unbounded
        raise RuntimeError("a piece reached the edge of the whole zone")
    return merge(plan, [part])[0]


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



@dataclass(frozen=True)
class _Everything:
    """``Scope.owns`` of the one tile of a whole-zone plan."""

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        return np.ones(len(np.asarray(xy).reshape(-1, 2)), dtype=bool)


# --------------------------------------------------------------------- tasks


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
    tolerances: Tolerances
    threads: int | None = None
    owner: Any = None  # Scope.owns; default: the points of the tile
    complete: bool = False  # every parcel and footprint loaded (a whole-zone plan)
    source: Any = None  # a FootprintSource the executor reads (landgis.io.stream)
    footprints: tuple | None = None  # (frame, rows, report) once read
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


def compute(task: _Task, progress: Stage | None = None) -> _Part | _Retry:
    """One tile: the rules on what it owns (its footprints read into
    ``task.footprints`` beforehand), the parts whose nearest own parcel may lie
    beyond its region flagged for the merge; a :class:`_Retry` when a piece it
    needs reaches the edge of what it loaded."""
    started = time.perf_counter()
    if task.footprints is None:
        raise ValueError("compute() needs the tile's footprints read (task.footprints)")
    fp, rows, report = task.footprints
    if len(fp) == 0 and not task.report.any():
        return _Part(
            task.tile,
            empty_raw(task.parcels.crs),
            _empty_pieces(),
            _empty_parcels(),
            0,
            task.retries,
            time.perf_counter() - started,
            report,
        )
    owns = task.owner if task.owner is not None else _Owner(task.grid, *task.tile)
    scope = Scope(owns=owns, region=task.region, parcels=task.report)
    try:
        result = apply_rules(
            task.parcels,
            fp,
            task.planning,
            tolerances=task.tolerances,
            threads=task.threads,
            progress=progress,
            scope=scope,
        )
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
    use = raw["category"].isin(EXCESS_PARTS).to_numpy()
    raw["first_row"] = -1
    if use.any():
        raw.loc[use, "first_row"] = piece_rows[raw.loc[use, "piece"].to_numpy(dtype=np.intp)]
    raw["resolve"] = False
    if not task.complete:
        raw.loc[use, "resolve"] = _beyond_reach(
            raw.loc[use], task.parcels, task.region, task.tolerances.grid_size
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


def make_plan(
    parcels: gpd.GeoDataFrame,
    planning: gpd.GeoDataFrame | None,
    *,
    footprint_bounds,
    n_footprints: int,
    footprint_tiles: Callable[[Grid], set | None] | None = None,
    tile_size: float | None = None,
    halo: float | None = None,
    tile_footprints: int | None = None,
    whole: bool = False,
    tolerances: Tolerances | None = None,
    threads: int | None = None,
) -> Plan:
    """The tiles of an audit: parties named once for the zone, planning zones
    unioned once, the grid and the halo.

    Parameters
    ----------
    parcels, planning
        Validated frames in the analysis CRS (held whole).
    footprint_bounds, n_footprints, footprint_tiles
        The extent and number of the footprints, and (if the source knows)
        the tiles of a grid that hold any.
    tile_size, halo, tile_footprints
        Tile side and margin in metres, or the footprints a tile should hold
        (see :func:`plan_grid`).  Default halo: the largest parcel extent plus 10 %.
    whole
        One tile over the whole zone (a single run), whatever the sizes.
    """
    tolerances = tolerances or Tolerances()
    crs = parcels.crs
    parcels = parcels.reset_index(drop=True)
    # Parties as first spelled over the whole zone: red lines first.
    keys = parcels["holder"].map(match_key)
    display = pd.Series(parcels["holder"].to_numpy(dtype=object), index=keys.to_numpy())
    display = display[~display.index.duplicated()]
    named = parcels.copy()
    named["holder"] = display.reindex(keys.to_numpy()).to_numpy()

    zones = None
    if planning is not None and len(planning):
        union = shapely.union_all(
            np.asarray(planning.geometry.values, dtype=object), grid_size=tolerances.grid_size
        )
        zone_parts = shapely.get_parts(union)
        zones = gpd.GeoDataFrame(
            {"zone": np.full(len(zone_parts), "", dtype=object)}, geometry=zone_parts, crs=crs
        )

    pb = shapely.bounds(np.asarray(parcels.geometry.values, dtype=object))
    extent = float(np.max(np.maximum(pb[:, 2] - pb[:, 0], pb[:, 3] - pb[:, 1]))) if len(pb) else 0
    halo = 1.1 * extent + 10.0 if halo is None else float(halo)
    boxes = [pb] if footprint_bounds is None else [pb, np.asarray([footprint_bounds], float)]
    stacked = np.vstack(boxes) if len(np.vstack(boxes)) else np.zeros((1, 4))
    lo, hi = stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)
    if whole:
        grid = Grid(math.floor(lo[0]), math.floor(lo[1]), math.inf)
    else:
        grid = plan_grid(
            (*lo, *hi), n_footprints, tile_size=tile_size, tile_footprints=tile_footprints
        )
    return Plan(
        named,
        zones,
        display=display,
        grid=grid,
        halo=halo,
        tolerances=tolerances,
        threads=threads,
        footprint_bounds=footprint_bounds,
        footprint_tiles=footprint_tiles,
        whole=whole,
    )


class Plan:
    """Tiles, their regions and what each is given."""

    def __init__(
        self,
        parcels,
        planning,
        *,
        display: pd.Series,
        grid: Grid,
        halo: float,
        tolerances: Tolerances,
        threads: int | None,
        footprint_bounds,
        footprint_tiles=None,
        whole: bool = False,
    ):
        self.parcels = parcels
        self.whole = whole
        self.display = display
        self.grid = grid
        self.halo = float(halo)
        self.tolerances = tolerances
        self.threads = threads
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
        if footprint_bounds is not None:
            maybe = footprint_tiles(grid) if footprint_tiles is not None else None
            if maybe is None:
                i0, j0 = grid.tile_of(np.array(footprint_bounds[:2]))
                i1, j1 = grid.tile_of(np.array(footprint_bounds[2:]))
                maybe = {
                    (i, j)
                    for i in range(int(i0[0]), int(i1[0]) + 1)
                    for j in range(int(j0[0]), int(j1[0]) + 1)
                }
            tiles |= maybe
        self.tiles = sorted(tiles) if not whole else [(0, 0)]
        boxes = [self.pbounds]
        if footprint_bounds is not None:
            boxes.append(np.asarray([footprint_bounds], dtype=float))
        stacked = np.vstack(boxes) if len(np.vstack(boxes)) else np.zeros((1, 4))
        self.extent = (*stacked[:, :2].min(axis=0), *stacked[:, 2:].max(axis=0))

    def task(self, tile, region=None, retries=0) -> _Task:
        i, j = tile
        owned = np.flatnonzero((self.pi == i) & (self.pj == j))
        if self.whole:  # everything loaded: nothing can reach an edge or lie beyond
            x0, y0, x1, y1 = self.extent
            region = (x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0)
        elif region is None:
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
            region=(float(region[0]), float(region[1]), float(region[2]), float(region[3])),
            halo=self.halo,
            parcels=self.parcels.iloc[rows].reset_index(drop=True),
            parcel_rows=rows,
            report=report,
            planning=planning,
            tolerances=self.tolerances,
            threads=self.threads,
            owner=_Everything() if self.whole else None,
            complete=self.whole,
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



# --------------------------------------------------------------------- merge


def merge(plan: Plan, parts: list[_Part]) -> tuple[EngineResult, int]:
    """One :class:`EngineResult` from the tiles', and how many parts were settled
    after the merge (their nearest own parcel might have lain beyond their tile)."""
    parcels, display, crs = plan.parcels, plan.display, plan.parcels.crs
    grid_size = plan.tolerances.grid_size
    raws = [p.raw for p in parts if len(p.raw)]
    raw = (
        gpd.GeoDataFrame(pd.concat(raws, ignore_index=True), geometry="geometry", crs=crs)
        if raws
        else empty_raw(crs).assign(first_row=np.empty(0, np.int64), resolve=False)
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
    lay = Layers.from_frames(
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
        best = nearest_own_parcel(parts_geom, codes[rows], lay, grid_size)
        found = best >= 0
        pid = np.where(found, lay.pid[np.maximum(best, 0)], "")
        tenure = np.where(found, lay.ptenure[np.maximum(best, 0)], "")
        cat = raw["category"].to_numpy(dtype=object)[rows]
        park = np.isin(cat, PARK_OVERUSE)
        cat[park] = park_overuse(tenure[park])
        raw.loc[rows, "parcel_id"] = pid
        raw.loc[rows, "category"] = cat

    # Pieces numbered as one run numbers them: by their first footprint.
    is_use = raw["category"].isin(EXCESS_PARTS).to_numpy()
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


def _holders(pieces: pd.DataFrame, raw: pd.DataFrame, lay: Layers, names: pd.Series):
    """The holder table of one run: every footprint user and authorized holder, in key order."""
    auth = lay.names[np.unique(lay.pholder[lay.pauth])]
    everyone = pd.Index(pd.unique(np.r_[pieces["holder"].to_numpy(dtype=object), auth]))
    keys = everyone.map(match_key)
    everyone = everyone[np.argsort(np.asarray(keys, dtype=object).astype(str), kind="stable")]
    table = pd.DataFrame(index=pd.Index(everyone, name="holder"))
    by = pieces.groupby("holder")
    table["used_m2"] = by["used_m2"].sum().reindex(everyone, fill_value=0.0)
    table["own_m2"] = table["used_m2"] - by["excess_m2"].sum().reindex(everyone, fill_value=0.0)
    for cat in EXCESS_PARTS:
        sel = raw["category"] == cat
        table[f"{cat}_m2"] = (
            raw.loc[sel].groupby("holder")["area_m2"].sum().reindex(everyone, fill_value=0.0)
        )
    table["park_overuse_m2"] = table[[f"{c}_m2" for c in PARK_OVERUSE]].sum(axis=1)
    return table[_HOLDER_COLUMNS].astype(float)

