"""The rules of DOMAIN.md on one tile, as vectorized set algebra (no I/O).

:func:`apply_rules` computes what one tile owns (:mod:`landgis.engine.tiles`
plans the tiles and merges them; a single run is one tile over the whole zone).

How the rules are computed, and why it is exact and fast:

1. **Use pieces.**  Each user's footprints are clustered (STRtree self-join,
   connected components) and only touching groups are unioned.  The pieces of
   one user are pairwise disjoint, so ``U_h`` is their disjoint union and every
   area below is a plain sum over pieces.
2. **Local subtraction.**  Each piece is paired with the parcels it meets
   (STRtree).  A piece covered by one of its user's own authorized parcels is
   settled at once.  Otherwise its candidates are subtracted in vectorized
   rounds: own authorized parcels give ``X`` (excess), other holders'
   authorized parcels give ``Y = X − O`` (so encroachment is ``X − Y``), the
   remaining (leased-in) red lines give ``Z = Y − R`` (outside every red line),
   and park over-use is ``Y − Z``.  Only a piece's own candidates are ever
   involved, and every overlay is snap-rounded to ``grid_size``, which closes
   the 1e-12 m gaps where digitized neighbours meet.
3. **Parcels.**  Own use per authorized parcel and use by anyone per leased-in
   parcel are sums of pair intersections (``np.bincount``); only leased-in
   parcels used by several users need a union.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from landgis.config import Tolerances
from landgis.crs import M2_PER_MU
from landgis.engine.layers import Layers
from landgis.engine.ops import (
    EMPTY,
    expand_ranges,
    explode,
    grouped_union,
    overlay,
    parallel,
    subtract_pairs,
)
from landgis.engine.ops import threads as threads_context
from landgis.rules import park_overuse

__all__ = [
    "RAW_COLUMNS",
    "EngineResult",
    "Scope",
    "TileResult",
    "Truncated",
    "apply_rules",
    "empty_raw",
    "nearest_own_parcel",
]

Progress = Callable[[str], None]

#: A leased-in parcel is *allocated* when authorized parcels cover this share of it.
ALLOCATED_SHARE = 0.01

#: Red lines that overlap by less than this many grid cells in depth
#: (0.1 mm at the default grid) only meet: that is digitizing noise.
NOISE_WIDTH_GRIDS = 100

#: Columns of the raw findings frame the engine returns.
RAW_COLUMNS = [
    "category",
    "holder",
    "parcel_id",
    "other_holder",
    "other_parcel_id",
    "area_m2",
    "use_ratio",
    "registered_area_mu",
    "piece",
]


@dataclass
class EngineResult:
    """What the engine computes before filtering and presentation.

    Attributes
    ----------
    raw
        One row per finding candidate (spatial categories: one per connected
        piece), all of them, before ``min_area``; columns :data:`RAW_COLUMNS`
        plus ``geometry`` (a GeoDataFrame in the analysis CRS).
    holders
        Per holder: ``used_m2, own_m2, encroachment_m2, outside_redline_m2,
        overuse_requisitioned_m2, overuse_leased_m2, unleased_use_m2,
        park_overuse_m2`` (the last is the sum of the three before it).
    parcels
        Per parcel: ``parcel_id, tenure, holder, area_m2, used_m2, use_ratio``
        (own use for authorized parcels, use by anyone for leased-in ones).
    """

    raw: gpd.GeoDataFrame
    holders: pd.DataFrame
    parcels: pd.DataFrame


@dataclass
class TileResult:
    """What :func:`apply_rules` reports for one tile: the raw findings, the use
    pieces and the parcels it owns (:mod:`landgis.engine.tiles` merges them into
    an :class:`EngineResult`).

    Attributes
    ----------
    raw
        As :attr:`EngineResult.raw`, for what the tile owns.
    pieces
        Per owned use piece: ``piece``, ``footprint`` (row of its first footprint
        in the tile's input), ``holder``, ``used_m2``, ``excess_m2``.
    parcels
        As :attr:`EngineResult.parcels`, for the owned parcels.
    """

    raw: gpd.GeoDataFrame
    pieces: pd.DataFrame
    parcels: pd.DataFrame


@dataclass
class Scope:
    """What one tile owns and what it loaded (:mod:`landgis.engine.tiles`).

    Attributes
    ----------
    owns
        Called with an ``(n, 2)`` array of points; true where the partition owns
        the point.  A use piece is reported by the partition owning the first
        vertex of its first footprint (lowest input row), a point that only
        depends on the piece itself.
    region
        ``(xmin, ymin, xmax, ymax)``: the footprints given are all those whose
        bounding box meets this box.  A piece the partition needs (it owns it,
        or it meets a reported parcel) must lie strictly inside it, else
        :class:`Truncated` is raised: it may go on beyond what was loaded.
    parcels
        Boolean per parcel row: the parcels reported (parcel table, idle,
        leased-in and mismatch findings, the overlap conflicts they lead).
    """

    owns: Callable[[np.ndarray], np.ndarray]
    region: tuple[float, float, float, float]
    parcels: np.ndarray


class Truncated(Exception):
    """A needed use piece reaches the edge of the loaded region; ``bounds`` (n × 4) say where."""

    def __init__(self, bounds: np.ndarray):
        super().__init__(f"{len(bounds)} use piece(s) reach the edge of the loaded region")
        self.bounds = bounds


def apply_rules(
    parcels: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    planning: gpd.GeoDataFrame | None,
    *,
    scope: Scope,
    tolerances: Tolerances,
    threads: int | None = None,
    progress: Progress | None = None,
) -> TileResult:
    """Apply the rules to one tile (:mod:`landgis.engine.tiles` plans them; a single
    run is one tile over the whole zone).

    Parameters
    ----------
    parcels, footprints, planning
        The tile's frames (validated, in the analysis CRS, in input order).
    scope
        What the tile owns and what it loaded (:class:`Scope`).
    tolerances
        Grid, idle ratio, planning share, area-mismatch tolerances.
    threads
        Threads for the geometry work (``None``: every core).  The results are
        the same whatever the number.
    progress
        Called with the name of each stage as it starts.

    Raises
    ------
    Truncated
        A piece the tile needs reaches the edge of what it loaded.
    """
    grid_size = tolerances.grid_size
    with threads_context(threads):
        say = progress or (lambda stage: None)
        lay = Layers.from_frames(parcels, footprints, grid_size=grid_size)
        parea = shapely.area(lay.pgeom)
        ptree = shapely.STRtree(lay.pgeom)

        say("dissolving footprints per user")
        only = np.asarray(scope.parcels, dtype=bool)
        label, piece_first = _use_groups(lay.fgeom, lay.fuser)
        keep, owned = _in_scope(scope, lay, label, piece_first, ptree, only)
        pieces = _use_pieces(lay.fgeom, label, keep)  # only the pieces the tile needs
        piece_first, owned = piece_first[keep], owned[keep]
        piece_user = lay.fuser[piece_first]
        # Pairs in (piece, parcel) order, not the tree's: each piece meets its
        # candidates in the same order whatever else the tree holds, so a
        # partition of the zone computes exactly what the whole zone does.
        k, p = ptree.query(pieces, predicate="intersects")
        order = np.lexsort((p, k))
        k, p = k[order], p[order]

        say("overlaying use on red lines")
        use = _split_use(pieces, piece_user, k, p, lay, grid_size)

        say("classifying excess pieces")
        raw_use = _excess_findings(use, piece_user, k, p, lay, grid_size)
        raw_use = raw_use.loc[owned[raw_use["piece"].to_numpy(dtype=np.intp)]]
        raw_use = raw_use.reset_index(drop=True)
        piece_table = pd.DataFrame(
            {
                "piece": np.flatnonzero(owned),
                "footprint": piece_first[owned],
                "holder": lay.names[piece_user[owned]],
                "used_m2": use.used[owned],
                "excess_m2": shapely.area(use.excess[owned]),
            }
        )

        say("measuring parcel use")
        own_used = np.bincount(
            p[use.own_pair], weights=use.own_area[use.own_pair], minlength=len(lay.pgeom)
        )
        any_used = _use_by_anyone(pieces, piece_user, k, p, lay, grid_size, only=only)
        used = np.where(lay.pauth, own_used, any_used)
        ratio = np.divide(used, parea, out=np.zeros_like(parea), where=parea > 0)
        parcel_table = pd.DataFrame(
            {
                "parcel_id": lay.pid,
                "tenure": lay.ptenure,
                "holder": lay.names[lay.pholder],
                "area_m2": parea,
                "used_m2": used,
                "use_ratio": ratio,
            }
        )
        parcel_table = parcel_table.loc[only].reset_index(drop=True)

        say("red lines: overlaps, idle and leased-in land")
        overlaps = _red_line_overlaps(lay, ptree, grid_size, only=only)
        raw_idle = _idle_findings(
            pieces, k, p, use, lay, parea, used, ratio, tolerances.idle_ratio, grid_size, only=only
        )
        raw_leased_in = _leased_in_findings(
            lay,
            parea,
            used,
            ratio,
            overlaps,
            planning,
            idle_ratio=tolerances.idle_ratio,
            planning_share=tolerances.planning_share,
            grid_size=grid_size,
            only=only,
        )
        raw_conflicts = _overlap_findings(lay, overlaps, only=only)
        raw_mismatch = _mismatch_findings(
            parcels, lay, parea, tolerances.mismatch_relative, tolerances.mismatch_mu, only=only
        )

        frames = [
            f for f in (raw_use, raw_idle, raw_leased_in, raw_conflicts, raw_mismatch) if len(f)
        ]
        raw = (
            gpd.GeoDataFrame(
                pd.concat(frames, ignore_index=True), geometry="geometry", crs=parcels.crs
            )
            if frames
            else empty_raw(parcels.crs)
        )
        return TileResult(raw=raw, pieces=piece_table, parcels=parcel_table)


def _in_scope(scope: Scope, lay: Layers, label, first, ptree, only):
    """Use pieces (footprint groups) a tile needs (``keep``) and those it reports
    (``owned``): a piece is needed when the tile owns it or it meets a parcel the
    tile reports.

    Raises :class:`Truncated` when a needed piece is not strictly inside the
    loaded region: a footprint beyond it might touch the piece.
    """
    vertex = shapely.get_point(shapely.get_exterior_ring(_first_polygon(lay.fgeom[first])), 0)
    owned = np.asarray(scope.owns(shapely.get_coordinates(vertex)), dtype=bool)
    keep = owned.copy()
    if not keep.all():  # a piece meets a parcel when one of its footprints does
        fi, pj = ptree.query(lay.fgeom, predicate="intersects")
        keep[label[fi[only[pj]]]] = True
    bounds = _group_bounds(shapely.bounds(lay.fgeom), label, len(first))
    x0, y0, x1, y1 = scope.region
    inside = (bounds[:, 0] > x0) & (bounds[:, 1] > y0) & (bounds[:, 2] < x1) & (bounds[:, 3] < y1)
    if (keep & ~inside).any():
        raise Truncated(bounds[keep & ~inside])
    return keep, owned


def _first_polygon(geoms: np.ndarray) -> np.ndarray:
    """The geometries themselves where polygons, the first part of multi-polygons."""
    multi = shapely.get_type_id(geoms) == 6
    if not multi.any():
        return geoms
    out = geoms.copy()
    out[multi] = shapely.get_geometry(geoms[multi], 0)
    return out


# ------------------------------------------------------------------ use pieces


def _use_groups(fgeom: np.ndarray, fuser: np.ndarray):
    """Each user's footprints that touch, as groups: the label of each footprint's
    group (groups numbered by their lowest footprint) and that lowest footprint."""
    n = len(fgeom)
    i, j = shapely.STRtree(fgeom).query(fgeom)  # boxes first: cheap
    same = (i < j) & (fuser[i] == fuser[j])
    i, j = i[same], j[same]
    meet = shapely.intersects(fgeom[i], fgeom[j])
    graph = coo_matrix((np.ones(meet.sum(), dtype=np.int8), (i[meet], j[meet])), shape=(n, n))
    n_groups, label = connected_components(graph, directed=False)
    first = np.zeros(n_groups, dtype=np.intp)
    first[label[::-1]] = np.arange(n)[::-1]  # lowest footprint index of each group
    return label, first


def _use_pieces(fgeom: np.ndarray, label: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The use pieces of the groups kept: each group's footprints unioned."""
    mine = keep[label]
    # One user's footprints are only ever subtracted from, never from each
    # other: GEOS' floating overlay (with its own robust fallbacks) suffices and
    # is three times faster than snap-rounding here.
    _, pieces = grouped_union(fgeom[mine], label[mine], grid_size=None)
    return pieces


def _group_bounds(bounds: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """The bounding box of each of ``n`` groups (every label 0 … n−1 present)."""
    if not n:
        return np.zeros((0, 4))
    order = np.argsort(label, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(label[order])) + 1]
    b = bounds[order]
    return np.column_stack(
        [np.minimum.reduceat(b[:, c], starts) for c in (0, 1)]
        + [np.maximum.reduceat(b[:, c], starts) for c in (2, 3)]
    )


@dataclass
class _Use:
    """Per piece: its excess split; per (piece, parcel) pair: the pair's class."""

    used: np.ndarray
    excess: np.ndarray  # X = piece − own authorized land
    not_other: np.ndarray  # Y = X − other holders' authorized land
    outside: np.ndarray  # Z = Y − every other red line
    own_pair: np.ndarray
    other_pair: np.ndarray
    park_pair: np.ndarray
    own_area: np.ndarray  # area(piece ∩ parcel) on own pairs
    snap: np.ndarray  # per piece: meets several red lines, so snap-round its overlays


def _split_use(pieces, piece_user, k, p, lay: Layers, grid_size: float) -> _Use:
    own_pair = lay.pauth[p] & (lay.pholder[p] == piece_user[k])
    other_pair = lay.pauth[p] & ~own_pair
    park_pair = ~lay.pauth[p]
    n_own = np.bincount(k[own_pair], minlength=len(pieces))
    # Where a piece meets one red line, a floating-point overlay is exact;
    # where it meets several, their shared edges need snap-rounding.
    snap = np.bincount(k, minlength=len(pieces)) > 1

    # Most buildings lie inside one of their own parcels: settle those first.
    shapely.prepare(lay.pgeom[p[own_pair]])
    covered_pair = np.zeros(len(k), dtype=bool)
    covered_pair[own_pair] = shapely.covers(lay.pgeom[p[own_pair]], pieces[k[own_pair]])
    covered = np.zeros(len(pieces), dtype=bool)
    covered[k[covered_pair]] = True

    open_pair = ~covered[k]
    excess = pieces.copy()
    excess[covered] = EMPTY
    excess = subtract_pairs(
        excess,
        k[open_pair & own_pair],
        lay.pgeom[p[open_pair & own_pair]],
        grid_size=grid_size,
        snap=snap,
    )
    not_other = subtract_pairs(
        excess,
        k[open_pair & other_pair],
        lay.pgeom[p[open_pair & other_pair]],
        grid_size=grid_size,
        snap=snap,
    )
    outside = subtract_pairs(
        not_other,
        k[open_pair & park_pair],
        lay.pgeom[p[open_pair & park_pair]],
        grid_size=grid_size,
        snap=snap,
    )

    # Own use per (piece, own parcel): the whole piece where covered; what the
    # subtraction removed where the piece has one own parcel; an intersection
    # only where several own parcels share a piece (a pair's area needs no
    # snap-rounding: that matters for unions and differences, not for areas).
    used = shapely.area(pieces)
    own_area = np.zeros(len(k))
    own_area[covered_pair] = used[k[covered_pair]]
    single = own_pair & ~covered[k] & (n_own[k] == 1)
    own_area[single] = used[k[single]] - shapely.area(excess[k[single]])
    several = own_pair & ~covered_pair & ~single
    own_area[several] = shapely.area(
        parallel(shapely.intersection, lay.pgeom[p[several]], pieces[k[several]])
    )
    return _Use(
        used=used,
        excess=excess,
        not_other=not_other,
        outside=outside,
        own_pair=own_pair,
        other_pair=other_pair,
        park_pair=park_pair,
        own_area=own_area,
        snap=snap,
    )


def _difference_where(a, b, where, snap, grid_size: float):
    """``a − b`` where ``where`` holds (b ⊆ a there), empty elsewhere.

    Where ``b`` kept all of ``a``'s area the difference is empty: skip it.
    """
    out = np.full(len(a), EMPTY, dtype=object)
    where = where & (shapely.area(a) > shapely.area(b))
    out[where] = overlay(
        shapely.difference, a[where], b[where], grid_size=grid_size, snap=snap[where]
    )
    return out


def _excess_findings(use: _Use, piece_user, k, p, lay: Layers, grid_size: float):
    """Explode the excess of every piece into findings; sum it per holder."""
    n = len(use.used)
    has_other = np.zeros(n, dtype=bool)
    has_other[k[use.other_pair]] = True
    has_park = np.zeros(n, dtype=bool)
    has_park[k[use.park_pair]] = True
    encroached = _difference_where(use.excess, use.not_other, has_other, use.snap, grid_size)
    park = _difference_where(use.not_other, use.outside, has_park, use.snap, grid_size)

    frames = []
    enc_parts, enc_src = explode(encroached)
    if len(enc_parts):
        frames.append(
            _on_parcels("encroachment", enc_parts, enc_src, k, p, use.other_pair, lay, grid_size)
        )
    out_parts, out_src = explode(use.outside)
    if len(out_parts):
        frames.append(
            pd.DataFrame(
                {
                    "category": "outside_redline",
                    "piece": out_src,
                    "geometry": out_parts,
                    "other_parcel_id": "",
                    "other_holder": "",
                }
            )
        )
    park_parts, park_src = explode(park)
    if len(park_parts):
        frames.append(
            _on_parcels("park", park_parts, park_src, k, p, use.park_pair, lay, grid_size)
        )
    raw = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {"category": [], "piece": [], "geometry": [], "other_parcel_id": [], "other_holder": []}
        )
    )
    raw["holder"] = lay.names[piece_user[raw["piece"].to_numpy(dtype=np.intp)]]
    raw["area_m2"] = shapely.area(raw["geometry"].to_numpy(dtype=object))

    # The holder's nearest own authorized parcel: classifies park over-use and
    # tells enforcement which grant the excess belongs to.
    nearest = nearest_own_parcel(
        raw["geometry"].to_numpy(dtype=object),
        piece_user[raw["piece"].to_numpy(dtype=np.intp)],
        lay,
        grid_size,
    )
    raw["parcel_id"] = np.where(nearest >= 0, lay.pid[np.maximum(nearest, 0)], "")
    is_park = (raw["category"] == "park").to_numpy()
    tenure = np.where(nearest >= 0, lay.ptenure[np.maximum(nearest, 0)], "")
    raw.loc[is_park, "category"] = park_overuse(tenure[is_park])
    return raw


def _on_parcels(category, parts, part_piece, k, p, pair_mask, lay: Layers, grid_size):
    """Parts of one category, naming the parcels (and holders) each lies on.

    Only the piece's own candidate parcels of this class are looked at; a part
    whose piece has one such candidate lies on it, otherwise overlaps decide.
    Names are joined with ``"; "``, largest overlap first.
    """
    sel = np.flatnonzero(pair_mask)
    order = np.argsort(k[sel], kind="stable")
    pair_piece, pair_parcel = k[sel][order], p[sel][order]
    lo = np.searchsorted(pair_piece, part_piece, side="left")
    hi = np.searchsorted(pair_piece, part_piece, side="right")
    part_idx, pos = expand_ranges(lo, hi)
    cand = pair_parcel[pos]
    overlap = np.ones(len(cand))
    several = (hi - lo)[part_idx] > 1
    overlap[several] = shapely.area(
        parallel(shapely.intersection, parts[part_idx[several]], lay.pgeom[cand[several]])
    )
    df = pd.DataFrame(
        {
            "part": part_idx,
            "parcel": lay.pid[cand],
            "holder": lay.names[lay.pholder[cand]],
            "overlap": overlap,
        }
    )
    # A part that only meets a parcel along its edge overlaps it by rounding
    # noise (~1e-7 m²): not land on that parcel.
    noise = grid_size * shapely.length(parts)[df["part"].to_numpy()]
    df = df[df["overlap"].to_numpy() > noise].sort_values(
        ["part", "overlap", "parcel"], ascending=[True, False, True]
    )
    parcel_ids = np.full(len(parts), "", dtype=object)
    holders = np.full(len(parts), "", dtype=object)
    for column, out in (("parcel", parcel_ids), ("holder", holders)):
        names = df.drop_duplicates(["part", column])
        part = names["part"].to_numpy()
        alone = np.bincount(part, minlength=len(parts))[part] == 1
        out[part[alone]] = names[column].to_numpy()[alone]  # the usual case: one name
        joined = names.loc[~alone].groupby("part")[column].agg("; ".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return pd.DataFrame(
        {
            "category": category,
            "piece": part_piece,
            "geometry": parts,
            "other_parcel_id": parcel_ids,
            "other_holder": holders,
        }
    )


#: Holders with more authorized parcels than this find a part's nearest own parcel
#: through a spatial index of their parcels; smaller holdings are measured whole.
NEAREST_BY_INDEX = 16


def nearest_own_parcel(parts, part_user, lay: Layers, grid_size: float) -> np.ndarray:
    """Index of each part's nearest authorized parcel of its own user (−1: none).

    Ties (a part touching two own parcels) go to the longer shared boundary,
    then to the smaller ``parcel_id``.  The cost grows with the parcels near a
    part, not with its holder's parcel count: a holder of many parcels
    (:data:`NEAREST_BY_INDEX`) offers only its parcels within the grid of the
    part, or else its nearest ones (an R-tree of its parcels), as candidates.
    """
    part_idx, cand = _own_candidates(parts, part_user, lay, grid_size)
    return _closest(parts, part_idx, cand, lay, grid_size)


def _own_candidates(parts, part_user, lay: Layers, grid_size: float):
    """(part, parcel) pairs among which each part's nearest own parcel lies."""
    auth = np.flatnonzero(lay.pauth)
    auth = auth[np.argsort(lay.pholder[auth], kind="stable")]
    auth_holder = lay.pholder[auth]
    lo = np.searchsorted(auth_holder, part_user, side="left")
    hi = np.searchsorted(auth_holder, part_user, side="right")
    many = (hi - lo) > NEAREST_BY_INDEX
    part_idx, pos = expand_ranges(lo, np.where(many, lo, hi))  # small holdings: all of them
    pairs = [(part_idx, auth[pos])]
    for user in np.unique(part_user[many]):
        mine = np.flatnonzero(many & (part_user == user))
        own = auth[lo[mine[0]] : hi[mine[0]]]
        tree = shapely.STRtree(lay.pgeom[own])
        # Every own parcel within the grid of the part (all tie at distance 0) …
        i, j = tree.query(parts[mine], predicate="dwithin", distance=grid_size)
        pairs.append((mine[i], own[j]))
        # … or else the nearest ones (all of them, when equally near).
        rest = np.setdiff1d(np.arange(len(mine)), i)
        if len(rest):
            i, j = tree.query_nearest(parts[mine[rest]], all_matches=True)
            pairs.append((mine[rest[i]], own[j]))
    part_idx = np.concatenate([p[0] for p in pairs]).astype(np.intp)
    cand = np.concatenate([p[1] for p in pairs]).astype(np.intp)
    return part_idx, cand


def _closest(parts, part_idx, cand, lay: Layers, grid_size: float) -> np.ndarray:
    """For each part, the candidate parcel nearest to it (ties: longer shared
    boundary, then smaller ``parcel_id``); −1 where a part has no candidate."""
    # Most parts touch their own parcel: a prepared test settles those at zero.
    shapely.prepare(lay.pgeom[cand])
    dist = np.zeros(len(cand))
    apart = ~shapely.intersects(lay.pgeom[cand], parts[part_idx])
    dist[apart] = parallel(shapely.distance, parts[part_idx[apart]], lay.pgeom[cand[apart]])
    # Shared boundary decides only between several parcels at (snap-rounded) distance zero.
    touching = dist <= grid_size
    touching &= np.bincount(part_idx[touching], minlength=len(parts))[part_idx] > 1
    shared = np.zeros(len(cand))
    # The part was snap-rounded, the parcel not: measure the part's boundary
    # within a hair of the parcel, or a truly shared edge measures nothing.
    near = shapely.buffer(lay.pgeom[cand[touching]], 10 * grid_size)
    shared[touching] = shapely.length(
        shapely.intersection(shapely.boundary(parts[part_idx[touching]]), near)
    )
    dist = np.where(dist <= grid_size, 0.0, dist)
    order = np.lexsort((lay.pid_rank[cand], -shared, dist, part_idx))
    best = np.full(len(parts), -1, dtype=np.intp)
    first = order[np.r_[True, np.diff(part_idx[order]) != 0]] if len(order) else order
    best[part_idx[first]] = cand[first]
    return best


# --------------------------------------------------------------------- parcels


def _use_by_anyone(
    pieces, piece_user, k, p, lay: Layers, grid_size: float, only=None
) -> np.ndarray:
    """area(L ∩ ∪ all footprints) for every leased-in parcel L (0 elsewhere;
    with ``only``, for those parcels alone)."""
    used = np.zeros(len(lay.pgeom))
    sel = ~lay.pauth[p] if only is None else ~lay.pauth[p] & only[p]
    if not sel.any():
        return used
    lp, lk = p[sel], k[sel]
    inter = pieces[lk].copy()  # where the lease covers the piece
    shapely.prepare(lay.pgeom[lp])
    partial = ~shapely.covers(lay.pgeom[lp], pieces[lk])
    # Pair areas need no snap-rounding (it matters for unions, not for areas).
    inter[partial] = parallel(shapely.intersection, lay.pgeom[lp[partial]], pieces[lk[partial]])
    # One user's pieces are disjoint: sum them.  Several users may overlap: union.
    pairs = pd.DataFrame({"parcel": lp, "user": piece_user[lk]})
    n_users = pairs.drop_duplicates().groupby("parcel")["user"].size()
    shared = np.isin(lp, n_users.index[n_users > 1].to_numpy())
    single = ~shared
    used += np.bincount(lp[single], weights=shapely.area(inter[single]), minlength=len(used))
    if shared.any():
        keys, unions = grouped_union(inter[shared], lp[shared], grid_size=grid_size)
        used[keys] += shapely.area(unions)
    return used


def _idle_findings(
    pieces, k, p, use: _Use, lay, parea, used, ratio, idle_ratio, grid_size, only=None
):
    idle = lay.pauth & (ratio < idle_ratio)
    idle = np.flatnonzero(idle if only is None else idle & only)
    if len(idle) == 0:
        return pd.DataFrame()
    position = np.full(len(lay.pgeom), -1)
    position[idle] = np.arange(len(idle))
    sel = use.own_pair & (position[p] >= 0)
    unused = subtract_pairs(
        lay.pgeom[idle].copy(), position[p[sel]], pieces[k[sel]], grid_size=grid_size
    )
    tenure = lay.ptenure[idle]
    return pd.DataFrame(
        {
            "category": np.where(tenure == "leased_out", "idle_leased", "idle_requisitioned"),
            "holder": lay.names[lay.pholder[idle]],
            "parcel_id": lay.pid[idle],
            "area_m2": parea[idle] - used[idle],
            "use_ratio": ratio[idle],
            "geometry": unused,
        }
    )


def _leased_in_findings(
    lay,
    parea,
    used,
    ratio,
    overlaps,
    planning,
    *,
    idle_ratio,
    planning_share,
    grid_size,
    only=None,
):
    leased = np.flatnonzero(~lay.pauth if only is None else ~lay.pauth & only)
    if len(leased) == 0:
        return pd.DataFrame()
    # Allocated: an authorized parcel (a sub-lease or grant) lies on it.
    position = np.full(len(lay.pgeom), -1)
    position[leased] = np.arange(len(leased))
    onto = ~lay.pauth[overlaps.j] & (position[overlaps.j] >= 0)
    overlap = np.bincount(
        position[overlaps.j[onto]], weights=overlaps.area[onto], minlength=len(leased)
    )
    allocated = overlap >= ALLOCATED_SHARE * parea[leased]
    planned = np.zeros(len(leased), dtype=bool)
    if planning is not None and len(planning):
        zones = shapely.union_all(
            np.asarray(planning.geometry.values, dtype=object), grid_size=grid_size
        )
        zone_parts = shapely.get_parts(zones)
        zi, zj = shapely.STRtree(zone_parts).query(lay.pgeom[leased], predicate="intersects")
        inside = np.bincount(
            zi,
            weights=shapely.area(shapely.intersection(lay.pgeom[leased[zi]], zone_parts[zj])),
            minlength=len(leased),
        )
        planned = inside >= planning_share * parea[leased]
    r = ratio[leased]
    category = np.where(
        r >= idle_ratio,
        "leased_in_used",
        np.where(allocated | planned, "leased_in_idle", "leased_in_unused"),
    )
    return pd.DataFrame(
        {
            "category": category,
            "holder": lay.names[lay.pholder[leased]],
            "parcel_id": lay.pid[leased],
            "area_m2": parea[leased],
            "use_ratio": r,
            "geometry": lay.pgeom[leased],
        }
    )


@dataclass
class _Overlaps:
    """Where an authorized parcel ``i`` overlaps another red line ``j`` (i ≠ j)."""

    i: np.ndarray
    j: np.ndarray
    geometry: np.ndarray
    area: np.ndarray


def _red_line_overlaps(lay: Layers, ptree, grid_size: float, only=None) -> _Overlaps:
    """Overlaps of authorized parcels with any other parcel, snap-rounded.

    Neighbours that meet along a shared boundary overlap, in floating point, by
    slivers a millionth of a millimetre wide; a real overlap reaches deeper.
    So a pair counts only where one parcel meets the other shrunk by
    :data:`NOISE_WIDTH_GRIDS` grid cells (a prepared test), and only those pairs are intersected.
    With ``only``, just the pairs involving those parcels.
    """
    auth = np.flatnonzero(lay.pauth)
    i, j = ptree.query(lay.pgeom[auth], predicate="intersects")
    i = auth[i]
    keep = (i != j) & ~(lay.pauth[j] & (j < i))  # each pair of authorized parcels once
    if only is not None:
        keep &= only[i] | only[j]
    i, j = i[keep], j[keep]
    width = NOISE_WIDTH_GRIDS * grid_size
    shrunk, at = np.unique(j, return_inverse=True)  # only parcels that are a pair's j
    cores = parallel(shapely.buffer, lay.pgeom[shrunk], -width, quad_segs=1, join_style="mitre")
    shapely.prepare(cores)
    deep = shapely.intersects(cores[at], lay.pgeom[i])
    i, j = i[deep], j[deep]
    geometry = overlay(shapely.intersection, lay.pgeom[i], lay.pgeom[j], grid_size=grid_size)
    area = shapely.area(geometry)
    real = area > 0
    return _Overlaps(i=i[real], j=j[real], geometry=geometry[real], area=area[real])


def _overlap_findings(lay: Layers, overlaps: _Overlaps, only=None):
    keep = lay.pauth[overlaps.j] & (lay.pholder[overlaps.i] != lay.pholder[overlaps.j])
    first = lay.pid[overlaps.i] < lay.pid[overlaps.j]  # the smaller parcel_id leads the finding
    if only is not None:
        keep &= only[np.where(first, overlaps.i, overlaps.j)]
    if not keep.any():
        return pd.DataFrame()
    i, j, first = overlaps.i[keep], overlaps.j[keep], first[keep]
    i, j = np.where(first, i, j), np.where(first, j, i)
    parts, src = explode(overlaps.geometry[keep])
    a, b = i[src], j[src]
    return pd.DataFrame(
        {
            "category": "overlap_conflict",
            "holder": lay.names[lay.pholder[a]],
            "parcel_id": lay.pid[a],
            "other_holder": lay.names[lay.pholder[b]],
            "other_parcel_id": lay.pid[b],
            "area_m2": shapely.area(parts),
            "geometry": parts,
        }
    )


def _mismatch_findings(parcels, lay: Layers, parea, relative: float, mu_tol: float, only=None):
    if "registered_area_mu" in parcels:
        registered = parcels["registered_area_mu"].to_numpy(dtype=float)
    elif "registered_area_m2" in parcels:
        registered = parcels["registered_area_m2"].to_numpy(dtype=float) / M2_PER_MU
    else:
        return pd.DataFrame()
    measured = parea / M2_PER_MU
    diff = np.abs(registered - measured)
    bad = np.isfinite(registered) & (diff > relative * measured) & (diff > mu_tol)
    bad = np.flatnonzero(bad if only is None else bad & only)
    if len(bad) == 0:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "category": "area_mismatch",
            "holder": lay.names[lay.pholder[bad]],
            "parcel_id": lay.pid[bad],
            "area_m2": parea[bad],
            "registered_area_mu": registered[bad],
            "geometry": lay.pgeom[bad],
        }
    )


def empty_raw(crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in RAW_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs))
