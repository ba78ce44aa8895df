"""Running the tiles of a partitioned audit: in this process, or as Dask tasks.

:mod:`landgis.engine.tiles` plans the tiles of a zone and merges their results;
this module reads each tile's footprints from its source
(:mod:`landgis.io.stream`), computes the tile, runs it again larger where it
must (:meth:`~landgis.engine.tiles.Plan.grow`), and tells a callback after each
tile (:class:`PartitionDone`).  ``engine="local"`` runs the tiles one after the
other (each with ``threads`` threads for the geometry work); ``engine="dask"``
runs them as tasks on a ``distributed`` cluster (a ``Client``, a scheduler
address, or a ``LocalCluster`` started for the run), each worker reading its
footprints itself, so the files must be reachable from the workers.

How the tiles stay exact, and what must fit in memory: ``docs/scale.md`` and
:mod:`landgis.engine.tiles`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from landgis.config import Tolerances
from landgis.engine.core import EngineResult
from landgis.engine.tiles import (
    BYTES_PER_FOOTPRINT,
    BYTES_PER_PARCEL,
    BYTES_PER_RESULT,
    DEFAULT_TILE_FOOTPRINTS,
    _Part,
    _Retry,
    _Task,
    compute,
    make_plan,
    merge,
)
from landgis.errors import ConfigError
from landgis.io.stream import FootprintSource, FrameSource, open_footprints

__all__ = ["PartitionDone", "RichProgress", "TqdmProgress", "run_partitioned", "run_task"]

Stage = Callable[[str], None]


@dataclass
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



def run_task(task: _Task) -> _Part | _Retry:
    """One tile where it runs (this process or a Dask worker): read its footprints
    from its source unless they travel with it, then compute it."""
    if task.footprints is None:
        task.footprints = task.source.read(task.region)
        task.source = None
    part = compute(task)
    if isinstance(part, _Part):
        part.worker = _worker_name()
    return part


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
    tolerances: Tolerances | None = None,
    threads: int | None = None,
    progress: Stage | None = None,
    on_partition: Callable[[PartitionDone], None] | None = None,
    stats: dict | None = None,
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
        :data:`~landgis.engine.tiles.BYTES_PER_PARCEL`,
        :data:`~landgis.engine.tiles.BYTES_PER_FOOTPRINT`).
    tolerances
        As for :func:`~landgis.engine.run`.
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

    Returns
    -------
    EngineResult
        Equal to ``run(parcels, footprints, planning, ...)``: the same raw
        findings (row order aside), holder and parcel tables.
    """
    say = progress or (lambda stage: None)
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine={engine!r}; use 'local' or 'dask'.")
    source = (
        footprints
        if isinstance(footprints, FootprintSource)
        else open_footprints(footprints, crs=parcels.crs)
    )
    n_fp = len(source)
    tile_footprints = None
    if memory_budget is not None:
        spare = (
            memory_budget * 1e9 - 500e6 - BYTES_PER_PARCEL * len(parcels) - BYTES_PER_RESULT * n_fp
        )
        tile_footprints = int(np.clip(spare / BYTES_PER_FOOTPRINT, 10_000, 200_000))
    elif engine == "dask" and tile_size is None:  # several tasks per worker
        tile_footprints = int(np.clip(n_fp / 8, 5_000, DEFAULT_TILE_FOOTPRINTS))
    plan = make_plan(
        parcels,
        planning,
        footprint_bounds=source.bounds if n_fp else None,
        n_footprints=n_fp,
        footprint_tiles=source.counts,
        tile_size=tile_size,
        halo=halo,
        tile_footprints=tile_footprints,
        tolerances=tolerances,
        threads=1 if engine == "dask" else threads,  # Dask: the workers give the parallelism
    )
    say(
        f"partitioning: {len(plan.tiles)} tiles of {plan.grid.size:,.0f} m, halo "
        f"{plan.halo:,.0f} m, {n_fp:,} footprints, {len(parcels):,} parcels ({engine})"
    )
    in_memory = isinstance(source, FrameSource)

    def ready(task: _Task) -> _Task:
        if in_memory:  # ship the slice, not the whole frame
            task.footprints = source.read(task.region)
        else:
            task.source = source
        return task

    def tasks() -> Iterator[_Task]:
        for tile in plan.tiles:
            yield ready(plan.task(tile))

    def regrow(retry: _Retry) -> _Task:
        return ready(plan.grow(retry))

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
            result = run_task(task)
            while isinstance(result, _Retry):
                result = run_task(regrow(result))
            collect(result)
    else:
        _run_dask(tasks(), regrow, collect, client=client, say=say)

    say("merging partitions")
    merged, resolved = merge(plan, parts)
    if stats is not None:
        stats.update(
            tiles=len(plan.tiles),
            tile_size=plan.grid.size,
            halo=plan.halo,
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
    return merged


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
            window.add(client.submit(run_task, data, pure=False))

        task: _Task | None  # each pending task, then next(pending, None) below
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



def _worker_name() -> str:
    """The Dask worker's address, or ``"local"`` (Dask is not even imported locally)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return "local"
    try:
        return distributed.get_worker().address
    except Exception:
        return "local"



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

