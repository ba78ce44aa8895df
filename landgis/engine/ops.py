"""Vectorized set algebra over arrays of shapely geometries.

Everything here works on whole arrays at once: grouped unions, subtraction of
candidate lists in rounds, pair intersections.  All overlays take a
``grid_size`` so that GEOS snap-rounds them: where digitized neighbours meet,
vertices lie about 1e-12 m off each other's edges, and floating-point overlays
leave zero-width gaps there; snap-rounding nodes those edges together.

GEOS releases the GIL, so :func:`parallel` splits the heavy element-wise calls
over threads (:func:`threads` sets how many); results do not depend on it.

Python runs signal handlers only on the main thread, between bytecodes: a long
GEOS call there holds off Ctrl-C and SIGTERM until it returns.
:func:`abandonable` runs the work on a worker thread the main thread merely
waits for, so an interrupt is raised at once; the abandoned work stops at its
next :func:`checkpoint` (every vectorized call here) or ends with the process.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import shapely

__all__ = [
    "Cancelled",
    "abandonable",
    "available_cores",
    "by_cells",
    "checkpoint",
    "expand_ranges",
    "explode",
    "group_ranks",
    "grouped_union",
    "overlay",
    "parallel",
    "polygonal",
    "subtract_pairs",
    "thin",
    "threads",
]

EMPTY = shapely.from_wkt("POLYGON EMPTY")

_WORKERS: contextvars.ContextVar[int] = contextvars.ContextVar("landgis_workers", default=1)
_MIN_CHUNK = 500  # below this many elements a thread costs more than it saves

#: Geometries with more vertices than this are thinned before overlays (:func:`thin`).
DENSE_VERTICES = 1000

#: :func:`thin` drops vertices lying within this share of the grid of their simplified ring.
THIN_GRIDS = 0.1

#: Snap-rounded overlays of more vertices than this go cell by cell (:func:`by_cells`).
CELL_VERTICES = 1000


T = TypeVar("T")

_abandon = threading.local()  # .event: set when the caller stopped waiting for this thread


class Cancelled(Exception):
    """Raised inside work whose caller was interrupted (see :func:`abandonable`)."""


def checkpoint() -> None:
    """Stop here (raise :class:`Cancelled`) if the caller has abandoned this work."""
    event = getattr(_abandon, "event", None)
    if event is not None and event.is_set():
        raise Cancelled


def abandonable(func: Callable[..., T], /, *args, **kwargs) -> T:
    """``func(*args, **kwargs)``, stoppable by Ctrl-C or SIGTERM within moments.

    On the main thread the call runs on a daemon worker thread while the main
    thread waits, so the signal handler runs (and raises) at once even while
    GEOS is busy for minutes; the worker stops at its next :func:`checkpoint`,
    or dies with the process.  The worker's result or exception is the
    caller's.  Off the main thread no signal arrives: ``func`` just runs.

    Examples
    --------
    >>> abandonable(sum, [1, 2, 3])
    6
    """
    if threading.current_thread() is not threading.main_thread():
        return func(*args, **kwargs)
    event = threading.Event()
    outcome: dict[str, object] = {}

    def work() -> None:
        _abandon.event = event
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"landgis-{func.__name__}", daemon=True)
    worker.start()
    try:
        worker.join()  # a signal interrupts the wait (POSIX) and its handler raises here
    except BaseException:
        event.set()
        raise
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[int]:
    """Run :func:`parallel` calls inside the block on ``n`` threads (``None``: all cores)."""
    n = available_cores() if n is None else max(1, int(n))
    token = _WORKERS.set(n)
    try:
        yield n
    finally:
        _WORKERS.reset(token)


def parallel(func, *arrays, **kwargs):
    """``func(*arrays, **kwargs)`` for an element-wise shapely function, on threads.

    The arrays are cut into one contiguous chunk per thread; each element's
    result is exactly what one call would give.  Not for prepared predicates:
    GEOS builds their indexes lazily and not thread-safely.
    """
    checkpoint()
    n = len(arrays[0])
    workers = min(_WORKERS.get(), n // _MIN_CHUNK)
    if workers <= 1:
        return func(*arrays, **kwargs)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    chunks = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    parts: list = [None] * workers
    errors: list[BaseException] = []

    def chunk(k: int) -> None:
        try:
            s = chunks[k]
            parts[k] = func(*(a[s] if isinstance(a, np.ndarray) else a for a in arrays), **kwargs)
        except BaseException as exc:
            errors.append(exc)

    # Daemon threads, not a ThreadPoolExecutor: the interpreter waits for an
    # executor's threads at exit, so an interrupted run would not end.
    helpers = [threading.Thread(target=chunk, args=(k,), daemon=True) for k in range(1, workers)]
    for helper in helpers:
        helper.start()
    chunk(0)
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]
    return np.concatenate(parts)


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop the lines and points that snap-rounding can leave in an overlay result.

    A snap-rounded overlay of polygons may collapse a thin part into a line and
    return a GeometryCollection; GEOS then refuses it as overlay input
    ("mixed-dimension").  Such results become (Multi)Polygons of their
    polygons; everything else is returned as is.
    """
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if len(mixed) == 0:
        return geoms
    out = geoms.copy()
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)  # MultiPolygons inside
    index = index[sub]
    keep = shapely.get_type_id(parts) == 3
    rebuilt = np.full(len(mixed), EMPTY, dtype=object)
    if keep.any():
        owners = np.unique(index[keep])
        rebuilt[owners] = shapely.multipolygons(
            parts[keep], indices=np.searchsorted(owners, index[keep])
        )
    out[mixed] = rebuilt
    return out


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten the index ranges ``lo[i]:hi[i]``: ``(owner, index)`` for every element."""
    counts = hi - lo
    owner = np.repeat(np.arange(len(lo)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(lo, counts) + offsets


def group_ranks(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort order of ``groups`` and each element's rank inside its group.

    Returns ``(order, rank)`` where ``groups[order]`` is sorted (stable) and
    ``rank[i]`` is the position of ``groups[order][i]`` within its group.
    """
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return order, np.arange(len(groups)) - first


def grouped_union(
    geoms: np.ndarray, groups: np.ndarray, *, grid_size: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Union the geometries of each group.

    Parameters
    ----------
    geoms
        Geometries.
    groups
        Integer group of each geometry.
    grid_size
        Snap-rounding grid of the unions.

    Returns
    -------
    (keys, unions)
        The distinct groups, sorted, and the union of each.  Singleton groups
        keep their geometry untouched (no rounding, no cost).
    """
    if len(geoms) == 0:
        return np.empty(0, dtype=groups.dtype), np.empty(0, dtype=object)
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    sorted_geoms = geoms[order]
    keys, starts, counts = np.unique(sorted_groups, return_index=True, return_counts=True)
    unions = sorted_geoms[starts].copy()
    multi = np.flatnonzero(counts > 1)
    if len(multi) == 0:
        return keys, unions
    # Bucket groups by size (powers of two) so the padded 2-D arrays stay small,
    # then let GEOS union each row in C.
    width = 2 ** np.ceil(np.log2(counts[multi])).astype(int)
    for w in np.unique(width):
        rows = multi[width == w]
        block = np.full((len(rows), w), None, dtype=object)
        member = np.repeat(np.arange(len(rows)), counts[rows])
        pos = np.arange(counts[rows].sum()) - np.repeat(
            np.cumsum(counts[rows]) - counts[rows], counts[rows]
        )
        src = np.repeat(starts[rows], counts[rows]) + pos
        block[member, pos] = sorted_geoms[src]
        unions[rows] = parallel(shapely.union_all, block, axis=1, grid_size=grid_size)
    return keys, polygonal(unions)


def overlay(op, a: np.ndarray, b: np.ndarray, *, grid_size: float, snap=None) -> np.ndarray:
    """``op(a, b)`` element-wise (``shapely.difference`` or ``shapely.intersection``),
    snap-rounded where ``snap`` is true (default: everywhere).

    Snap-rounding costs three to four times a floating-point overlay and only
    matters where several red lines meet inside ``a``; callers pass ``snap``
    to spend it there alone.  Snap-rounded pairs of more than
    :data:`CELL_VERTICES` vertices are computed cell by cell (:func:`by_cells`).
    """
    snap = np.ones(len(a), dtype=bool) if snap is None else np.asarray(snap, dtype=bool)
    dense = snap & (shapely.get_num_coordinates(a) + shapely.get_num_coordinates(b) > CELL_VERTICES)
    if snap.all() and not dense.any():
        return polygonal(parallel(op, a, b, grid_size=grid_size))
    out = np.empty(len(a), dtype=object)
    plain = snap & ~dense
    out[plain] = polygonal(parallel(op, a[plain], b[plain], grid_size=grid_size))
    out[~snap] = polygonal(parallel(op, a[~snap], b[~snap]))
    if dense.any():
        out[dense] = by_cells(op, a[dense], b[dense], grid_size=grid_size)
    return out


def by_cells(op, a: np.ndarray, b: np.ndarray, *, grid_size: float) -> np.ndarray:
    """``op(a, b, grid_size=grid_size)`` for dense pairs, in time about linear in their vertices.

    GEOS' snap-rounding noder slows down quadratically with the crossings of
    the two boundaries: two samplings of one arc cross at almost every vertex
    (two 20,000-vertex circles: 1.4 s; 75,000 and 100,000: minutes).  Here the
    bounding box of each ``a[i]`` is halved, across its longer side on a grid
    line, until a cell holds at most :data:`CELL_VERTICES` vertices of both
    geometries; ``a`` and ``b`` are clipped to the cells (floating point: a
    clip adds no crossing), ``op`` is snap-rounded in each cell, and the cells'
    results are unioned on the same grid.  Their shared edges lie on the cut
    lines, so that union has few crossings.  In exact arithmetic the result is
    ``op(a, b)``; with rounding it differs from one snap-rounded call by
    sub-grid moves near the cut lines.  Only ``shapely.difference`` and
    ``shapely.intersection``.
    """
    n = len(a)
    root = shapely.bounds(a)
    cell = root.copy()
    owner = np.arange(n)
    part_a, part_b = a, b
    leaves, leaf_owner, leaf_cell = [], [], []
    min_width = 1000 * grid_size  # below this a cut could not fall on the grid inside the cell
    while len(owner):
        checkpoint()
        if op is shapely.intersection:
            live = ~shapely.is_empty(part_a) & ~shapely.is_empty(part_b)
        else:
            live = ~shapely.is_empty(part_a)
        owner, cell, part_a, part_b = owner[live], cell[live], part_a[live], part_b[live]
        count = shapely.get_num_coordinates(part_a) + shapely.get_num_coordinates(part_b)
        width = np.maximum(cell[:, 2] - cell[:, 0], cell[:, 3] - cell[:, 1])
        done = (count <= CELL_VERTICES) | (width <= min_width)
        if done.any():
            leaves.append(polygonal(parallel(op, part_a[done], part_b[done], grid_size=grid_size)))
            leaf_owner.append(owner[done])
            leaf_cell.append(cell[done])
        split = ~done
        owner, cell, part_a, part_b = owner[split], cell[split], part_a[split], part_b[split]
        if not len(owner):
            break
        x0, y0, x1, y1 = cell.T
        across_x = (x1 - x0) >= (y1 - y0)
        cut = np.round(np.where(across_x, (x0 + x1) / 2, (y0 + y1) / 2) / grid_size) * grid_size
        low = np.column_stack([x0, y0, np.where(across_x, cut, x1), np.where(across_x, y1, cut)])
        high = np.column_stack([np.where(across_x, cut, x0), np.where(across_x, y0, cut), x1, y1])
        cell = np.concatenate([low, high])
        boxes = shapely.box(cell[:, 0], cell[:, 1], cell[:, 2], cell[:, 3])
        owner = np.concatenate([owner, owner])
        part_a = polygonal(parallel(shapely.intersection, np.concatenate([part_a, part_a]), boxes))
        part_b = polygonal(parallel(shapely.intersection, np.concatenate([part_b, part_b]), boxes))
    out = np.full(n, EMPTY, dtype=object)
    if leaves:
        leaf = np.concatenate(leaves)
        owner, cell = np.concatenate(leaf_owner), np.concatenate(leaf_cell)
        parts, src = explode(leaf)
        out_owner, out_parts = _join_cells(parts, owner[src], cell[src], root, grid_size)
        keys, first, counts = np.unique(out_owner, return_index=True, return_counts=True)
        out[keys] = out_parts[first]  # a single part stays a Polygon
        several = counts > 1
        if several.any():
            member = np.isin(out_owner, keys[several])
            out[keys[several]] = shapely.multipolygons(
                out_parts[member],
                indices=np.searchsorted(keys[several], out_owner[member]),
            )
    return out


def _join_cells(parts, owner, cell, root, grid_size):
    """Rejoin the parts that cells cut apart: ``(owner, part)``, sorted by owner.

    A part clear of its cell's cut edges (by more than a grid cell) is final;
    the others are unioned per owner on the grid.  Their cut edges lie on the
    same lines from both sides, so that union has few crossings, and the many
    small parts a cell may hold (slivers between two samplings of one arc)
    stay out of it.
    """
    box = shapely.bounds(parts)
    reach = 2 * grid_size
    inner = cell[:, :2] > root[owner, :2] + reach, cell[:, 2:] < root[owner, 2:] - reach
    at_cut = (
        ((box[:, :2] <= cell[:, :2] + reach) & inner[0])
        | ((box[:, 2:] >= cell[:, 2:] - reach) & inner[1])
    ).any(axis=1)
    keys, unions = grouped_union(parts[at_cut], owner[at_cut], grid_size=grid_size)
    joined, joined_src = explode(unions)
    all_owner = np.concatenate([owner[~at_cut], keys[joined_src]])
    all_parts = np.concatenate([parts[~at_cut], joined])
    order = np.argsort(all_owner, kind="stable")
    return all_owner[order], all_parts[order]


def subtract_pairs(
    targets: np.ndarray,
    target_idx: np.ndarray,
    cutters: np.ndarray,
    *,
    grid_size: float,
    snap: np.ndarray | None = None,
) -> np.ndarray:
    """``targets[i]`` minus every ``cutters[k]`` paired with it (``target_idx[k] == i``).

    Cutters are subtracted one per round, all targets of a round at once, so a
    target with *n* cutters takes *n* vectorized rounds and no union of the
    cutters is ever built.  Targets that become empty drop out early.
    ``snap`` (per target) says where to snap-round; see :func:`overlay`.

    Returns
    -------
    numpy.ndarray
        A new array; targets without cutters are returned unchanged.
    """
    out = targets.copy()
    if len(target_idx) == 0:
        return out
    order, rank = group_ranks(target_idx)
    idx = target_idx[order]
    cut = cutters[order]
    by_round = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_round], np.arange(rank.max() + 2))
    for r in range(rank.max() + 1):
        checkpoint()
        sel = by_round[bounds[r] : bounds[r + 1]]
        i = idx[sel]
        live = ~shapely.is_empty(out[i])
        if not live.any():
            continue
        i = i[live]
        out[i] = overlay(
            shapely.difference,
            out[i],
            cut[sel][live],
            grid_size=grid_size,
            snap=None if snap is None else snap[i],
        )
    return out


def thin(geoms: np.ndarray, *, grid_size: float | None) -> np.ndarray:
    """Dense geometries without the vertices that an overlay on ``grid_size`` cannot see.

    GEOS' snap-rounding noder slows down quadratically where an edge of one
    geometry runs along many vertices of another: a red line densified with
    collinear vertices took 1.7 s against one footprint at 20,000 vertices and
    20 s at 100,000.  Geometries with more than :data:`DENSE_VERTICES` vertices
    are simplified (Douglas-Peucker) within :data:`THIN_GRIDS` of the grid:
    every vertex dropped lies that close to the simplified ring, far inside
    what snap-rounding moves anyway, so collinear and nearly collinear vertices
    go and every corner stays.  A result that is not valid is simplified again
    preserving topology.  Smaller geometries, and every geometry when
    ``grid_size`` is ``None``, are returned untouched (the same objects).

    Examples
    --------
    >>> import shapely
    >>> edge = [(x / 1000, 0.0) for x in range(100_000)]
    >>> dense = shapely.Polygon(edge + [(100, 0), (100, 100), (0, 100)])
    >>> lean = thin(np.array([dense]), grid_size=1e-6)[0]
    >>> int(shapely.get_num_coordinates(lean)), lean.area == dense.area
    (5, True)
    """
    dense = np.flatnonzero(shapely.get_num_coordinates(geoms) > DENSE_VERTICES)
    if grid_size is None or len(dense) == 0:
        return geoms
    out = geoms.copy()
    tolerance = THIN_GRIDS * grid_size
    lean = shapely.simplify(geoms[dense], tolerance, preserve_topology=False)
    broken = ~shapely.is_valid(lean) | (shapely.is_empty(lean) & ~shapely.is_empty(geoms[dense]))
    if broken.any():
        lean[broken] = shapely.simplify(geoms[dense[broken]], tolerance, preserve_topology=True)
    out[dense] = lean
    return out


def explode(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygon parts of each geometry: ``(parts, index_of_source)``; empties vanish."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (3,)) & ~shapely.is_empty(parts)
    return parts[keep], index[keep]
