"""Synthetic industrial parks for tests and benchmarks.

:func:`make_park` builds a park of red lines (parcels), surveyed actual use
(footprints) and planning zones in CGCS2000 / 3-degree Gauss-Krüger zone 40
(EPSG:4528). :func:`iter_park_tiles` builds the same park tile by tile so that
very large parks can be streamed to disk.

The cadastre is made the way real cadastres come out of a land office: street
blocks separated by roads are cut recursively with half-planes at random
angles, in floating point, each half independently of its neighbour. A
second-level cut puts a vertex on the edge shared with the neighbour; that
vertex is the rounded intersection point, so it lies a few nanometres off the
neighbour's edge, and the neighbour does not have it. Shared edges therefore
do not match exactly (T-junctions with float noise), and naive set algebra
such as ``footprints.difference(union_all(parcels))`` leaves zero-width
slivers. With the zone prefix on the easting (x ≈ 4.05e7 m) one unit in the
last place of a coordinate is 7.45e-9 m, so the noise is of that order.

The park contains every situation the audit rules distinguish: parcels with
holes (ponds) and in two parts, adjacent parcels of the same and of different
holders, red-line conflicts (authorized parcels of different holders that
overlap), sub-leases (authorized parcels on leased-in land), land inside
blocks that belongs to no parcel, footprints inside their user's land or
across the seam of two adjacent parcels of the same holder (wholly on the
holder's land, but over the float noise), spilling into a neighbour's land,
into leased-in land, into roads or across them, footprints wholly outside
every red line, users without any authorized parcel (use before lease), idle
parcels, footprints of one user that overlap or touch, and footprints of
different users that overlap.

On such data plain floating-point overlays are fragile: with GEOS 3.14,
``difference(footprint, union_all(parcels))`` leaves slivers of about 1e-8 m²
for footprints that lie wholly inside the red lines, ``union_all`` of a whole
park sometimes falls back to snapping (and then has no slivers at all), and
about one footprint in 2000 comes out wholly "outside" of a near-degenerate
union. Overlays with ``grid_size`` (snap rounding) or in coordinates shifted
to a local origin do not show these failures.

Everything is drawn from :class:`numpy.random.Generator` seeded with
``(seed, tile_index)``, so a park is reproducible for a given seed and tile
size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "DEFAULT_CRS",
    "DEFAULT_ORIGIN",
    "TENURES",
    "TENURE_MIX",
    "densify",
    "iter_park_tiles",
    "make_park",
    "sampled_circle",
    "skew_ownership",
]

#: Tenure codes, in the order of :data:`TENURE_MIX`.
TENURES: tuple[str, ...] = (
    "requisitioned",
    "proxy_requisitioned",
    "leased_out",
    "leased_in",
)
#: Target share of each tenure among all parcel rows.
TENURE_MIX: tuple[float, ...] = (0.35, 0.10, 0.30, 0.25)
#: CGCS2000 / 3-degree Gauss-Krüger zone 40 (easting with the zone prefix).
DEFAULT_CRS = "EPSG:4528"
#: Lower-left corner of the park (easting, northing) in metres.
DEFAULT_ORIGIN = (40_480_000.0, 3_590_000.0)

_AUTHORIZED = np.array([True, True, True, False])
_LEASED_IN = 3
_M2_TO_MU = 15.0 / 10_000.0

# Street blocks: a jittered grid of cells, each inset by half a road width.
_CELL = (360.0, 300.0)  # cell pitch (x, y) in metres
_CELL_JITTER = 0.12  # node jitter as a fraction of the pitch
_ROAD_HALF_WIDTH = (6.0, 15.0)  # roads are 12-30 m wide
_PIECES_PER_BLOCK = 10.0
_VILLAGE_BLOCKS = 3  # a village is 3 x 3 blocks
_STREET_VILLAGES = 3  # a street office is 3 x 3 villages

# Shares of the parcel rows and of the base pieces.
_VOID_SHARE = 0.03  # pieces of blocks that belong to no parcel
_SUBLEASE_SHARE = 0.05  # authorized rows on top of leased-in parcels
_SUBLEASE_TENURE = {2: 0.85, 1: 0.15}  # leased_out, proxy_requisitioned
_DUPLICATE_SHARE = 0.005  # authorized rows duplicating part of another holder's
_GROWN_SHARE = 0.005  # authorized parcels grown into their neighbours
_POND_SHARE = 0.02  # parcels with a hole
_MULTIPART_SHARE = 0.015  # parcels split in two by a lane or canal
_MISMATCH_SHARE = 0.08  # registered area off by several per cent
_IDLE_SHARE = 0.10  # authorized parcels with (almost) no use
_UBL_PARCEL_SHARE = 0.35  # leased-in parcels (not sub-leased) used before lease

# Shares of the footprints (the rest lie inside their user's own parcels).
_FP_SHARES = {
    "spill": 0.09,  # across the host parcel's edge (neighbour, park land, road)
    "companion": 0.06,  # same user, inside / touching / overlapping another
    "other_user": 0.01,  # different user overlapping another footprint
    "void": 0.02,  # inside land of no parcel (wholly outside red lines)
    "kiosk": 0.005,  # small structures in a road (wholly outside red lines)
    "cross_road": 0.005,  # across a road, into the next block
    "straddle": 0.02,  # across the line between two parcels of the same holder
}
_HOLDINGS = np.array([1, 2, 3, 4, 5, 0])  # 0: "many" (6-30 parcels)
_HOLDINGS_P = np.array([0.38, 0.24, 0.15, 0.10, 0.07, 0.06])


@dataclass
class _Counters:
    """Running id counters, so ids are unique across tiles."""

    parcel: int = 0
    footprint: int = 0
    enterprise: int = 1
    village: int = 1
    street: int = 1
    zone: int = 0
    widths: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def make_park(
    n_footprints: int,
    *,
    seed: int = 0,
    crs: str = DEFAULT_CRS,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    parcels_per_footprint: float = 25 / 60,
    tile_footprints: int = 50_000,
    violations: float = 1.0,
    ownership: str = "spread",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Generate a synthetic park: red lines, actual use and planning zones.

    Parameters
    ----------
    n_footprints : int
        Exact number of footprints (surveyed use polygons), at least 1.
    seed : int, default 0
        Random seed; the same seed (and `tile_footprints`) gives identical
        frames.
    crs : str, default "EPSG:4528"
        CRS written on the frames. Coordinates are metres from `origin`.
    origin : tuple of float, default (40_480_000.0, 3_590_000.0)
        Lower-left corner (easting, northing) of the park.
    parcels_per_footprint : float, default 25/60
        Parcel rows per footprint (approximate).
    tile_footprints : int, default 50_000
        Footprints per tile; see :func:`iter_park_tiles`.
    violations : float, default 1.0
        Scales the share of footprints that break a rule (spilling over the
        red line, outside every red line, use before lease …).  At 1 about 40 %
        of the use pieces lie beyond their user's own parcels (a park dense
        with violations); at 0.1 most footprints lie inside their own parcel
        (the common real case).
    ownership : {"spread", "skewed"}, default "spread"
        ``"spread"``: enterprises hold one to a few dozen parcels, villages a
        few dozen leased-in parcels.  ``"skewed"``: :func:`skew_ownership` —
        a few holders with thousands of parcels, many with hundreds, the long
        tail with one to three.

    Returns
    -------
    parcels : geopandas.GeoDataFrame
        Columns ``parcel_id``, ``tenure``, ``holder``, ``street``, ``village``,
        ``registered_area_mu`` and ``geometry`` (Polygon or MultiPolygon).
    footprints : geopandas.GeoDataFrame
        Columns ``footprint_id``, ``user`` and ``geometry`` (Polygon).
    planning : geopandas.GeoDataFrame
        Columns ``zone`` and ``geometry``: a few large polygons covering about
        30 % of the park.

    See Also
    --------
    iter_park_tiles : the same park, one tile at a time.

    Examples
    --------
    >>> parcels, footprints, planning = make_park(2_000, seed=1)
    >>> len(footprints)
    2000
    """
    tiles = list(
        iter_park_tiles(
            n_footprints,
            tile_footprints=tile_footprints,
            seed=seed,
            crs=crs,
            origin=origin,
            parcels_per_footprint=parcels_per_footprint,
            violations=violations,
            ownership=ownership,
        )
    )
    if len(tiles) == 1:
        return tiles[0]
    return tuple(  # type: ignore[return-value]
        gpd.GeoDataFrame(
            pd.concat([t[i] for t in tiles], ignore_index=True),
            geometry="geometry",
            crs=crs,
        )
        for i in range(3)
    )


def skew_ownership(
    parcels: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    planning: gpd.GeoDataFrame,
    *,
    seed: int = 0,
    big: int = 4,
    middle: int = 60,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The same park with ownership as skewed as a real zone's.

    The enterprises' authorized parcels are regrouped: ``big`` holders (city
    investment companies, 城投) take 40 % of them (thousands each on a large
    park), ``middle`` holders 45 % (hundreds each), and the rest stay with their
    long tail of small holders (one to three parcels).  The leased-in parcels
    go to ``big`` village collectives.  A footprint's user is renamed with its
    holder, so use that was on its user's own land still is (and some
    encroachment between two merged holders becomes own use).
    """
    rng = np.random.default_rng((int(seed), 9_999))
    parcels, footprints = parcels.copy(), footprints.copy()
    auth = parcels["tenure"].isin(TENURES[:3]).to_numpy()
    counts = parcels.loc[auth, "holder"].value_counts()
    holders = counts.index.to_numpy()[rng.permutation(len(counts))]
    share = np.cumsum(counts.reindex(holders).to_numpy()) / max(counts.sum(), 1)
    rename = {}
    for name, s in zip(holders, share, strict=True):
        if s <= 0.40:
            rename[name] = f"城投{int(rng.integers(big)) + 1}号发展有限公司"
        elif s <= 0.85:
            rename[name] = f"骨干企业{int(rng.integers(middle)) + 1:02d}有限公司"
    villages = parcels.loc[~auth, "holder"].unique()
    for name in villages:
        rename[name] = f"集体经济合作社{int(rng.integers(big)) + 1}"
    parcels["holder"] = parcels["holder"].map(lambda h: rename.get(h, h))
    footprints["user"] = footprints["user"].map(lambda u: rename.get(u, u))
    return parcels, footprints, planning


def iter_park_tiles(
    n_footprints: int,
    *,
    tile_footprints: int = 50_000,
    seed: int = 0,
    crs: str = DEFAULT_CRS,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    parcels_per_footprint: float = 25 / 60,
    violations: float = 1.0,
    ownership: str = "spread",
) -> Iterator[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """Generate a synthetic park tile by tile.

    The park is laid out as a grid of square-ish tiles of equal size; tiles
    touch along straight roads, so no parcel crosses a tile border (but some
    footprints do). Ids (``parcel_id``, ``footprint_id``, enterprise, village
    and street names) are unique across all tiles. Concatenating the tiles
    gives exactly what :func:`make_park` returns.

    Parameters
    ----------
    n_footprints : int
        Exact total number of footprints, at least 1.
    tile_footprints : int, default 50_000
        Maximum footprints per tile; the total is split evenly over
        ``ceil(n_footprints / tile_footprints)`` tiles.
    seed : int, default 0
        Random seed; tile ``i`` draws from ``numpy.random.default_rng((seed,
        i))``.
    crs : str, default "EPSG:4528"
        CRS written on the frames.
    origin : tuple of float, default (40_480_000.0, 3_590_000.0)
        Lower-left corner (easting, northing) of the park.
    parcels_per_footprint : float, default 25/60
        Parcel rows per footprint (approximate).
    violations, ownership
        As in :func:`make_park`.  Skewed ownership regroups each tile's holders
        into the same few big and middle holders, so they span the whole park.

    Yields
    ------
    parcels, footprints, planning : geopandas.GeoDataFrame
        The frames of one tile, with the columns described in
        :func:`make_park`.
    """
    if ownership not in ("spread", "skewed"):
        raise ValueError(f"ownership={ownership!r}; use 'spread' or 'skewed'")
    n_footprints = int(n_footprints)
    tile_footprints = int(tile_footprints)
    if n_footprints < 1:
        raise ValueError(f"n_footprints must be at least 1, got {n_footprints}")
    if tile_footprints < 1:
        raise ValueError(f"tile_footprints must be at least 1, got {tile_footprints}")
    if not parcels_per_footprint > 0:
        raise ValueError(f"parcels_per_footprint must be positive, got {parcels_per_footprint}")
    n_tiles = -(-n_footprints // tile_footprints)
    sizes = np.full(n_tiles, n_footprints // n_tiles)
    sizes[: n_footprints % n_tiles] += 1

    # One block grid for all tiles, sized for the largest tile.
    base_share = 1.0 - _SUBLEASE_SHARE - _DUPLICATE_SHARE
    pieces_max = _pieces_for(int(sizes[0]), parcels_per_footprint, base_share)
    n_blocks = max(1, round(pieces_max / _PIECES_PER_BLOCK))
    nbx = max(1, round(math.sqrt(n_blocks * _CELL[1] / _CELL[0])))
    nby = max(1, -(-n_blocks // nbx))
    ntx = math.ceil(math.sqrt(n_tiles))

    est_parcels = n_footprints * parcels_per_footprint
    counters = _Counters(
        widths={
            "parcel": max(6, len(str(round(est_parcels * 1.2) + 10))),
            "footprint": max(6, len(str(n_footprints))),
            "enterprise": max(5, len(str(round(n_footprints * 0.5) + 10))),
            "village": max(4, len(str(round(est_parcels / 80) + 10))),
            "street": max(2, len(str(round(est_parcels / 700) + 10))),
            "zone": 2,
        }
    )
    for i in range(n_tiles):
        tx, ty = i % ntx, i // ntx
        x0 = origin[0] + tx * nbx * _CELL[0]
        y0 = origin[1] + ty * nby * _CELL[1]
        rng = np.random.default_rng((int(seed), i))
        tile = _make_tile(
            rng,
            n_fp=int(sizes[i]),
            n_pieces=_pieces_for(int(sizes[i]), parcels_per_footprint, base_share),
            nbx=nbx,
            nby=nby,
            x0=x0,
            y0=y0,
            crs=crs,
            counters=counters,
            violations=violations,
        )
        yield skew_ownership(*tile, seed=int(seed) * 1_000 + i) if ownership == "skewed" else tile


# ---------------------------------------------------------------------------
# tile
# ---------------------------------------------------------------------------


def _pieces_for(n_fp: int, ppf: float, base_share: float) -> int:
    return max(1, round(n_fp * ppf * base_share / (1.0 - _VOID_SHARE)))


def _make_tile(
    rng: np.random.Generator,
    *,
    n_fp: int,
    n_pieces: int,
    nbx: int,
    nby: int,
    x0: float,
    y0: float,
    crs: str,
    counters: _Counters,
    violations: float = 1.0,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    blocks = _make_blocks(rng, nbx, nby, x0, y0)
    if n_pieces < len(blocks["geom"]):
        keep = np.sort(rng.choice(len(blocks["geom"]), n_pieces, replace=False))
        blocks = {k: v[keep] for k, v in blocks.items()}
    nb = len(blocks["geom"])
    weight = rng.gamma(1.5, size=nb) * shapely.area(blocks["geom"])
    k = 1 + rng.multinomial(n_pieces - nb, weight / weight.sum())
    pieces, piece_block = _cut_recursively(rng, blocks["geom"], k)

    # villages and streets by block position
    vx, vy = blocks["ix"] // _VILLAGE_BLOCKS, blocks["iy"] // _VILLAGE_BLOCKS
    nvx = -(-nbx // _VILLAGE_BLOCKS)
    nvy = -(-nby // _VILLAGE_BLOCKS)
    village_local = vy * nvx + vx
    sx, sy = vx // _STREET_VILLAGES, vy // _STREET_VILLAGES
    street_local = sy * -(-nvx // _STREET_VILLAGES) + sx
    block_village = _names("村", counters.village + village_local, counters.widths["village"])
    block_street = _names("街道", counters.street + street_local, counters.widths["street"])
    counters.village += nvx * nvy
    counters.street += -(-nvx // _STREET_VILLAGES) * -(-nvy // _STREET_VILLAGES)

    parcels, voids = _make_parcels(
        rng, pieces, piece_block, blocks, block_village, block_street, counters
    )
    footprints = _make_footprints(rng, n_fp, parcels, voids, blocks, counters, violations)
    planning = _make_planning(rng, nbx, nby, x0, y0, counters)

    pf = gpd.GeoDataFrame(
        {
            "parcel_id": parcels["parcel_id"],
            "tenure": parcels["tenure"],
            "holder": parcels["holder"],
            "street": parcels["street"],
            "village": parcels["village"],
            "registered_area_mu": parcels["registered_area_mu"],
        },
        geometry=gpd.GeoSeries(parcels["geom"], crs=crs),
        crs=crs,
    )
    ff = gpd.GeoDataFrame(
        {"footprint_id": footprints["footprint_id"], "user": footprints["user"]},
        geometry=gpd.GeoSeries(footprints["geom"], crs=crs),
        crs=crs,
    )
    zf = gpd.GeoDataFrame(
        {"zone": planning["zone"]},
        geometry=gpd.GeoSeries(planning["geom"], crs=crs),
        crs=crs,
    )
    return pf, ff, zf


# ---------------------------------------------------------------------------
# blocks and cuts
# ---------------------------------------------------------------------------


def _make_blocks(
    rng: np.random.Generator, nbx: int, nby: int, x0: float, y0: float
) -> dict[str, np.ndarray]:
    """Convex quadrilateral blocks of a jittered grid, inset by half a road."""
    cw, ch = _CELL
    gx, gy = np.meshgrid(np.arange(nbx + 1), np.arange(nby + 1), indexing="ij")
    jx = rng.uniform(-_CELL_JITTER, _CELL_JITTER, gx.shape) * cw
    jy = rng.uniform(-_CELL_JITTER, _CELL_JITTER, gy.shape) * ch
    # straight tile borders, so neighbouring tiles never overlap
    jx[[0, -1], :] = 0.0
    jy[:, [0, -1]] = 0.0
    nx = gx * cw + jx
    ny = gy * ch + jy
    gix, giy = np.meshgrid(np.arange(nbx), np.arange(nby), indexing="ij")
    ix, iy = gix.T.ravel(), giy.T.ravel()  # row-major: neighbours stay close
    corners = [(ix, iy), (ix + 1, iy), (ix + 1, iy + 1), (ix, iy + 1)]
    quad = np.stack([np.stack([nx[a, b], ny[a, b]], -1) for a, b in corners], 1)
    hw = rng.uniform(*_ROAD_HALF_WIDTH, len(ix))
    inset = _inset_convex(quad, hw)
    inset += np.array([x0, y0])
    geom = shapely.polygons(np.concatenate([inset, inset[:, :1]], 1))
    return {"geom": geom, "xy": inset, "hw": hw, "ix": ix, "iy": iy}


def _inset_convex(quad: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Offset the edges of counter-clockwise convex polygons inwards by `d`."""
    edge = np.roll(quad, -1, axis=1) - quad
    normal = np.stack([-edge[..., 1], edge[..., 0]], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    rhs = np.einsum("nkj,nkj->nk", normal, quad) + d[:, None]
    prev_n, prev_r = np.roll(normal, 1, axis=1), np.roll(rhs, 1, axis=1)
    mat = np.stack([prev_n, normal], -2)  # (n, k, 2, 2)
    vec = np.stack([prev_r, rhs], -1)[..., None]
    return np.linalg.solve(mat, vec)[..., 0]


def _axes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corner, long edge and short edge of the minimum rotated rectangles."""
    env = shapely.oriented_envelope(geoms)
    xy = shapely.get_coordinates(env).reshape(-1, 5, 2)
    e0 = xy[:, 1] - xy[:, 0]
    e1 = xy[:, 3] - xy[:, 0]
    first = (np.hypot(*e0.T) >= np.hypot(*e1.T))[:, None]
    return xy[:, 0], np.where(first, e0, e1), np.where(first, e1, e0)


def _halfplanes(
    point: np.ndarray, direction: np.ndarray, reach: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The two half-planes (as big rectangles) left and right of a line.

    Both rectangles share the same two points on the line, so a first cut
    gives identical vertices on both sides.
    """
    d = direction / np.hypot(*direction.T)[:, None] * reach[:, None]
    n = np.stack([-d[:, 1], d[:, 0]], -1)
    a, b = point - d, point + d
    left = np.stack([a, b, b + n, a + n, a], 1)
    right = np.stack([a, a - n, b - n, b, a], 1)
    return shapely.polygons(left), shapely.polygons(right)


def _strip(point: np.ndarray, direction: np.ndarray, reach: np.ndarray, width):
    d = direction / np.hypot(*direction.T)[:, None]
    n = np.stack([-d[:, 1], d[:, 0]], -1) * (np.asarray(width)[:, None] / 2)
    d = d * reach[:, None]
    a, b = point - d, point + d
    return shapely.polygons(np.stack([a - n, b - n, b + n, a + n, a - n], 1))


def _rotate(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]], -1)


def _cut_recursively(
    rng: np.random.Generator, blocks: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cut each block into ``k`` pieces by recursive half-plane cuts.

    All pieces that still need cutting are cut at once, level by level. A
    piece meant to become ``k`` parcels is cut across its long axis into two
    pieces meant for ``k1`` and ``k - k1``; each half is cut independently
    later. Pieces stay in depth-first order, so neighbours stay close in the
    output.
    """
    geoms = blocks.copy()
    k = k.astype(np.int64).copy()
    block = np.arange(len(blocks))
    for _ in range(64):
        todo = np.flatnonzero(k > 1)
        if todo.size == 0:
            break
        g, kk = geoms[todo], k[todo]
        corner, long, short = _axes(g)
        k1 = np.clip(np.rint(kk * rng.uniform(0.3, 0.7, todo.size)), 1, kk - 1)
        t = np.clip(k1 / kk + rng.uniform(-0.04, 0.04, todo.size), 0.08, 0.92)
        point = corner + t[:, None] * long + rng.uniform(0.35, 0.65, todo.size)[:, None] * short
        square = rng.random(todo.size) < 0.3
        angle = np.where(square, 0.0, np.clip(rng.normal(0, 0.3, todo.size), -0.6, 0.6))
        direction = _rotate(short, angle)
        reach = 2.0 * (np.hypot(*long.T) + np.hypot(*short.T)) + 50.0
        left, right = _halfplanes(point, direction, reach)
        a = shapely.intersection(g, left)
        b = shapely.intersection(g, right)
        # the half containing `corner` gets k1
        n = np.stack([-direction[:, 1], direction[:, 0]], -1)
        corner_left = np.einsum("ij,ij->i", corner - point, n) > 0
        first = np.where(corner_left, a, b)
        second = np.where(corner_left, b, a)
        k_first = k1.astype(np.int64)
        k_second = kk - k_first
        area = shapely.area(g)
        ok = (
            (shapely.get_type_id(first) == 3)
            & (shapely.get_type_id(second) == 3)
            & (shapely.area(first) > 0.4 * area * k_first / kk)
            & (shapely.area(second) > 0.4 * area * k_second / kk)
        )
        split = todo[ok]
        counts = np.ones(len(geoms), dtype=np.int64)
        counts[split] = 2
        start = np.cumsum(counts) - counts
        new_geoms = np.empty(counts.sum(), dtype=object)
        new_k = np.empty(counts.sum(), dtype=np.int64)
        new_geoms[start] = geoms
        new_k[start] = k
        new_geoms[start[split]] = first[ok]
        new_geoms[start[split] + 1] = second[ok]
        new_k[start[split]] = k_first[ok]
        new_k[start[split] + 1] = k_second[ok]
        block = np.repeat(block, counts)
        geoms, k = new_geoms, new_k
    return geoms, block


# ---------------------------------------------------------------------------
# parcels
# ---------------------------------------------------------------------------


def _names(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    numbers = np.asarray(numbers, dtype=np.int64)
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (drop lines/points of degenerate overlays)."""
    geoms = np.asarray(geoms, dtype=object)
    bad = ~np.isin(shapely.get_type_id(geoms), [3, 6])
    if bad.any():
        idx = np.flatnonzero(bad)
        parts, pi = shapely.get_parts(geoms[idx], return_index=True)
        poly = shapely.get_type_id(parts) == 3
        out = shapely.multipolygons(parts[poly], indices=pi[poly])
        fixed = np.full(idx.size, None, dtype=object)
        fixed[np.unique(pi[poly])] = out
        one = shapely.get_num_geometries(fixed) == 1
        fixed[one] = shapely.get_geometry(fixed[one], 0)
        geoms = geoms.copy()
        geoms[idx] = fixed
    return geoms


def _largest_part(geoms: np.ndarray) -> np.ndarray:
    """The largest polygon of each geometry (the geometry if a Polygon)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    multi = shapely.get_type_id(geoms) != 3
    if multi.any():
        idx = np.flatnonzero(multi)
        parts, pi = shapely.get_parts(geoms[idx], return_index=True)
        poly = shapely.get_type_id(parts) == 3
        parts, pi = parts[poly], pi[poly]
        order = np.lexsort((-shapely.area(parts), pi))
        first = np.unique(pi[order], return_index=True)
        res = np.full(idx.size, None, dtype=object)
        res[first[0]] = parts[order][first[1]]
        out[idx] = res
    return out


def _make_parcels(
    rng: np.random.Generator,
    pieces: np.ndarray,
    piece_block: np.ndarray,
    blocks: dict[str, np.ndarray],
    block_village: np.ndarray,
    block_street: np.ndarray,
    counters: _Counters,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n_pieces = len(pieces)
    void = rng.random(n_pieces) < _VOID_SHARE
    if void.all():
        void[:] = False
    voids = {"geom": pieces[void], "block": piece_block[void]}
    geom = pieces[~void].copy()
    block = piece_block[~void]
    nb = len(geom)

    # base tenure, so that the final mix (with the extra rows) hits TENURE_MIX
    base = 1.0 - _SUBLEASE_SHARE - _DUPLICATE_SHARE
    auth_mix = np.array(TENURE_MIX[:3]) / sum(TENURE_MIX[:3])
    p = np.array(TENURE_MIX, dtype=float)
    p[:3] -= _DUPLICATE_SHARE * auth_mix
    for t, share in _SUBLEASE_TENURE.items():
        p[t] -= _SUBLEASE_SHARE * share
    p = np.clip(p, 0, None)
    tenure = rng.choice(4, size=nb, p=p / p.sum())
    auth = _AUTHORIZED[tenure]
    area = shapely.area(geom)

    # ponds (holes that are no parcel) and parcels in two parts
    free = np.ones(nb, dtype=bool)
    pond = _pick(rng, free & (area > np.median(area)), _POND_SHARE * nb)
    free[pond] = False
    if pond.size:
        g = geom[pond]
        ctr = shapely.centroid(g)
        xy, gi = shapely.get_coordinates(g, return_index=True)
        c = shapely.get_coordinates(ctr)[gi]
        shrunk = shapely.polygons(shapely.linearrings(c + 0.6 * (xy - c), indices=gi))
        r = np.sqrt(area[pond]) * rng.uniform(0.12, 0.22, pond.size)
        water = shapely.intersection(shapely.buffer(ctr, r, quad_segs=4), shrunk)
        holed = shapely.difference(g, water)
        good = (shapely.get_type_id(holed) == 3) & (shapely.get_num_interior_rings(holed) == 1)
        geom[pond[good]] = holed[good]
    multi = _pick(rng, free, _MULTIPART_SHARE * nb)
    free[multi] = False
    if multi.size:
        g = geom[multi]
        corner, long, short = _axes(g)
        point = corner + rng.uniform(0.35, 0.65, multi.size)[:, None] * long + 0.5 * short
        angle = rng.uniform(-0.3, 0.3, multi.size)
        reach = 2.0 * (np.hypot(*long.T) + np.hypot(*short.T)) + 50.0
        lane = _strip(point, _rotate(short, angle), reach, rng.uniform(4.0, 10.0, multi.size))
        split = shapely.difference(g, lane)
        good = (shapely.get_type_id(split) == 6) & (shapely.get_num_geometries(split) == 2)
        if good.any():
            parts, pi = shapely.get_parts(split[good], return_index=True)
            smallest = np.full(good.sum(), np.inf)
            np.minimum.at(smallest, pi, shapely.area(parts))
            good[np.flatnonzero(good)] = smallest > 0.15 * area[multi[good]]
        geom[multi[good]] = split[good]
    # red-line conflicts: authorized parcels grown into their neighbours
    grown = _pick(rng, free & auth, _GROWN_SHARE * nb)
    if grown.size:
        g = shapely.buffer(geom[grown], rng.uniform(3.0, 15.0, grown.size), join_style="mitre")
        g = _polygonal(shapely.intersection(g, blocks["geom"][block[grown]]))
        geom[grown] = g

    # extra rows: sub-leases on leased-in parcels, duplicate grants
    n_total = nb / base
    sub = np.sort(_pick(rng, tenure == _LEASED_IN, _SUBLEASE_SHARE * n_total))
    dup = np.sort(_pick(rng, auth, _DUPLICATE_SHARE * n_total))
    sub_geom = geom[sub].copy()
    part = rng.random(sub.size) < 0.4
    if part.any():
        sub_geom[part] = _part_of(rng, geom[sub[part]], (0.4, 0.8))
    sub_tenure = rng.choice(
        list(_SUBLEASE_TENURE), size=sub.size, p=list(_SUBLEASE_TENURE.values())
    )
    dup_geom = _part_of(rng, geom[dup], (0.3, 0.7)) if dup.size else geom[dup]

    # final row order: each extra row right after its parent
    parent = np.concatenate([np.arange(nb), sub, dup])
    kind = np.concatenate([np.zeros(nb, int), np.ones(sub.size, int), np.full(dup.size, 2)])
    order = np.lexsort((kind, parent))
    geom = np.concatenate([geom, sub_geom, dup_geom])[order]
    tenure = np.concatenate([tenure, sub_tenure, tenure[dup]])[order]
    parent, kind = parent[order], kind[order]
    block = block[parent]
    n = len(geom)
    auth = _AUTHORIZED[tenure]

    # holders: runs of consecutive authorized rows share an enterprise
    holder = np.empty(n, dtype=object)
    village = block_village[block]
    holder[~auth] = village[~auth]
    a_idx = np.flatnonzero(auth)
    holder_num = _runs(rng, a_idx.size) + counters.enterprise
    # a duplicate grant goes to another enterprise than its parent's
    is_dup = kind[a_idx] == 2
    if is_dup.any() and a_idx.size > 1:
        pos = np.flatnonzero(is_dup)
        shift = rng.integers(
            a_idx.size // 3, max(a_idx.size // 3 + 1, 2 * a_idx.size // 3), pos.size
        )
        other = holder_num[(pos + shift) % a_idx.size]
        same = other == holder_num[pos - 1]
        n_new = int(holder_num.max()) + 1
        other[same] = np.arange(n_new, n_new + same.sum())
        holder_num[pos] = other
    counters.enterprise = int(holder_num.max()) + 1 if holder_num.size else counters.enterprise
    holder[a_idx] = _names("E", holder_num, counters.widths["enterprise"])

    area = shapely.area(geom)
    mu = area * _M2_TO_MU
    off = rng.random(n) < _MISMATCH_SHARE
    mu[off] *= 1.0 + rng.choice([-1.0, 1.0], off.sum()) * rng.uniform(0.03, 0.15, off.sum())
    ids = _names("P", counters.parcel + 1 + np.arange(n), counters.widths["parcel"])
    counters.parcel += n
    return (
        {
            "parcel_id": ids,
            "tenure": np.array(TENURES, dtype=object)[tenure],
            "tenure_code": tenure,
            "holder": holder,
            "holder_num": _holder_numbers(holder_num, a_idx, n),
            "street": block_street[block],
            "village": village,
            "registered_area_mu": np.round(mu, 4),
            "geom": geom,
            "block": block,
            "area": area,
            "kind": kind,
        },
        voids,
    )


def _holder_numbers(holder_num: np.ndarray, a_idx: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    out[a_idx] = holder_num
    return out


def _pick(rng: np.random.Generator, mask: np.ndarray, count: float) -> np.ndarray:
    """Choose about `count` indices where `mask` holds (stochastic rounding)."""
    idx = np.flatnonzero(mask)
    c = int(count) + int(rng.random() < count - int(count))
    c = min(c, idx.size)
    return np.sort(rng.choice(idx, c, replace=False)) if c else idx[:0]


def _part_of(rng: np.random.Generator, geoms: np.ndarray, frac: tuple[float, float]):
    """A part of each geometry cut off by a half-plane across its long axis."""
    corner, long, short = _axes(geoms)
    t = rng.uniform(*frac, len(geoms))
    point = corner + t[:, None] * long + 0.5 * short
    reach = 2.0 * (np.hypot(*long.T) + np.hypot(*short.T)) + 50.0
    direction = _rotate(short, rng.uniform(-0.4, 0.4, len(geoms)))
    left, right = _halfplanes(point, direction, reach)
    a = _polygonal(shapely.intersection(geoms, left))
    b = _polygonal(shapely.intersection(geoms, right))
    ok_a = ~shapely.is_empty(a) & (shapely.area(a) > 0)
    ok_b = ~shapely.is_empty(b) & (shapely.area(b) > 0)
    use_a = ok_a & ((rng.random(len(geoms)) < 0.5) | ~ok_b)
    out = np.where(use_a, a, b)
    bad = ~(use_a | ok_b)
    out[bad] = geoms[bad]
    return out


def _runs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Holder numbers 0, 0, 1, 2, 2, 2, ... in runs of 1-5 (some many)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    size = rng.choice(_HOLDINGS, size=n, p=_HOLDINGS_P)
    many = size == 0
    size[many] = rng.integers(6, 31, many.sum())
    size = size[: np.searchsorted(np.cumsum(size), n) + 1]
    return np.repeat(np.arange(size.size), size)[:n]


# ---------------------------------------------------------------------------
# footprints
# ---------------------------------------------------------------------------


def _make_footprints(
    rng: np.random.Generator,
    n: int,
    parcels: dict[str, np.ndarray],
    voids: dict[str, np.ndarray],
    blocks: dict[str, np.ndarray],
    counters: _Counters,
    violations: float = 1.0,
) -> dict[str, np.ndarray]:
    geom = parcels["geom"]
    tenure = parcels["tenure_code"]
    holder = parcels["holder"]
    area = parcels["area"]
    auth = _AUTHORIZED[tenure]
    n_parcels = len(geom)
    shapely.prepare(geom)

    a_idx = np.flatnonzero(auth)
    idle = np.zeros(n_parcels, dtype=bool)
    idle[_pick(rng, auth, _IDLE_SHARE * a_idx.size)] = True
    tiny_idle = idle & (rng.random(n_parcels) < 0.5)
    active = np.flatnonzero(auth & ~idle)
    if active.size == 0:
        active = a_idx if a_idx.size else np.arange(n_parcels)

    # leased-in parcels not sub-leased, some used before any lease
    subleased = np.zeros(n_parcels, dtype=bool)
    subleased[:-1] = parcels["kind"][1:] == 1
    ubl = _pick(
        rng, (tenure == _LEASED_IN) & ~subleased, _UBL_PARCEL_SHARE * (tenure == _LEASED_IN).sum()
    )
    ubl_user_num = _runs_short(rng, ubl.size) + counters.enterprise
    if ubl.size:
        counters.enterprise = int(ubl_user_num.max()) + 1
    user_of = holder.copy()
    if ubl.size:
        user_of[ubl] = _names("E", ubl_user_num, counters.widths["enterprise"])

    # counts per category
    # "companion" and "straddle" footprints lie on the user's own land: not violations.
    shares = {k: v * (1.0 if k in ("companion", "straddle") else violations)
              for k, v in _FP_SHARES.items()}  # fmt: skip
    if len(voids["geom"]) == 0:
        shares["void"] = 0.0
    shares["ubl"] = min(0.12, 2.0 * ubl.size / n) * violations
    shares["tiny"] = min(0.05, tiny_idle.sum() / n)
    shares["inside"] = max(0.0, 1.0 - sum(shares.values()))
    names = list(shares)
    p = np.array([shares[k] for k in names])
    counts = dict(zip(names, rng.multinomial(n, p / p.sum()), strict=True))

    out_geom: list[np.ndarray] = []
    out_user: list[np.ndarray] = []
    out_block: list[np.ndarray] = []
    rects: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (geom, user, block)

    def emit(g, user, blk, kind=None):
        out_geom.append(g)
        out_user.append(np.asarray(user, dtype=object))
        out_block.append(np.asarray(blk))
        if kind is not None:  # plain rectangles can take companions
            r = (kind == 0) & (shapely.get_num_coordinates(g) == 5)
            rects.append((g[r], np.asarray(user, dtype=object)[r], np.asarray(blk)[r]))

    # across the seam of two adjacent parcels of the same holder: wholly on
    # the holder's land, over the float noise where the two red lines meet
    c = counts["straddle"]
    if c:
        g, host = _place_straddle(rng, geom, parcels["holder_num"], c)
        if host.size:
            emit(g, holder[host], parcels["block"][host], np.zeros(host.size, int))
        counts["inside"] += c - host.size
    # inside the user's own parcels (every active parcel gets one first)
    c = counts["inside"]
    if c:
        first = active[:c] if c <= active.size else active
        rest = c - first.size
        w = area[active] ** 0.8 * rng.gamma(2.0, size=active.size)
        more = rng.choice(active, rest, p=w / w.sum()) if rest else active[:0]
        # the first footprint of a parcel is its main yard, the others smaller
        for host, scale in ((first, (0.4, 0.85)), (more, (0.15, 0.45))):
            if host.size:
                kind = rng.choice(3, host.size, p=[0.65, 0.25, 0.10])
                g = _place_inside(rng, geom[host], kind, scale=scale)
                emit(g, holder[host], parcels["block"][host], kind)
    # use before lease
    c = counts["ubl"]
    if c and ubl.size:
        host = rng.choice(ubl, c)
        kind = rng.choice(3, c, p=[0.7, 0.25, 0.05])
        g = _place_inside(rng, geom[host], kind, scale=(0.2, 0.6))
        emit(g, user_of[host], parcels["block"][host], kind)
    # almost no use on idle parcels
    c = counts["tiny"]
    tiny_hosts = np.flatnonzero(tiny_idle)
    if c and tiny_hosts.size:
        host = rng.choice(tiny_hosts, c, replace=c > tiny_hosts.size)
        kind = np.zeros(c, dtype=int)
        g = _place_inside(rng, geom[host], kind, scale=(0.08, 0.15))
        emit(g, holder[host], parcels["block"][host], kind)
    # Footprints so far lie inside their host; the ones below reach beyond it
    # and give way to other users' footprints there (in a survey the land a
    # building takes from the neighbour is not in the neighbour's polygon).
    placed = np.concatenate(out_geom) if out_geom else np.empty(0, dtype=object)
    placed_user = np.concatenate(out_user) if out_user else np.empty(0, dtype=object)
    placed_tree = shapely.STRtree(placed)

    def give_way(g, user):
        return _give_way(g, np.asarray(user, dtype=object), placed, placed_user, placed_tree)

    # spilling over the host's edge
    c = counts["spill"]
    if c:
        pool = np.concatenate([active, ubl]) if ubl.size else active
        host = rng.choice(pool, c)
        kind = rng.choice(2, c, p=[0.75, 0.25])
        g = give_way(_place_across(rng, geom[host], kind), user_of[host])
        emit(g, user_of[host], parcels["block"][host], kind)
    # wholly outside the red lines: land of no parcel inside blocks
    c = counts["void"]
    if c:
        host = rng.integers(0, len(voids["geom"]), c)
        vg = voids["geom"][host]
        kind = rng.choice(2, c, p=[0.8, 0.2])
        g = _place_inside(rng, vg, kind, scale=(0.2, 0.6))
        user = _neighbour_user(rng, vg, geom, holder, auth, counters, new_share=0.5)
        g = give_way(g, user)
        emit(g, user, voids["block"][host], kind)
    # in roads and across roads
    for cat in ("kiosk", "cross_road"):
        c = counts[cat]
        if not c:
            continue
        b = rng.integers(0, len(blocks["geom"]), c)
        xy = blocks["xy"][b]
        e = rng.integers(0, xy.shape[1], c)
        p0 = xy[np.arange(c), e]
        p1 = xy[np.arange(c), (e + 1) % xy.shape[1]]
        along = p1 - p0
        pt = p0 + rng.uniform(0.15, 0.85, c)[:, None] * along
        out_n = np.stack([along[:, 1], -along[:, 0]], -1) / np.hypot(*along.T)[:, None]
        hw = blocks["hw"][b]
        if cat == "kiosk":
            w = rng.uniform(2.0, 5.0, c)
            h = rng.uniform(2.0, 5.0, c)
            centre = pt + out_n * rng.uniform(4.0, hw + 2.0)[:, None]
        else:
            w = hw + 15.0 + 2.0 * rng.uniform(5.0, 20.0, c)
            h = rng.uniform(6.0, 15.0, c)
            centre = pt + out_n * ((hw + 15.0) / 2.0)[:, None]
        angle = np.arctan2(out_n[:, 1], out_n[:, 0])
        g = _shapes(rng, centre, w, h, angle, np.zeros(c, dtype=int))
        inner = shapely.points(pt - out_n * 1.0)
        user = _neighbour_user(rng, inner, geom, holder, auth, counters, new_share=0.0)
        g = give_way(g, user)
        emit(g, user, b, np.zeros(c, dtype=int))

    # same user: inside a yard, touching, overlapping; other users overlapping
    if rects:
        rg = np.concatenate([r[0] for r in rects])
        ru = np.concatenate([r[1] for r in rects])
        rb = np.concatenate([r[2] for r in rects])
    else:
        rg = np.empty(0, dtype=object)
    for cat in ("companion", "other_user"):
        c = counts[cat]
        if not c:
            continue
        if rg.size == 0:  # tiny parks: put them inside parcels instead
            host = rng.choice(active, c)
            g = _place_inside(rng, geom[host], np.zeros(c, int), scale=(0.1, 0.3))
            emit(g, holder[host], parcels["block"][host])
            continue
        base = rng.integers(0, rg.size, c)
        xy = shapely.get_coordinates(rg[base]).reshape(-1, 5, 2)
        g = _companions(rng, xy, other=cat == "other_user")
        user = ru[base]
        if cat == "other_user":
            user = _other_holder(rng, user, holder[a_idx])
        else:  # annexes and extensions may reach into a neighbour's yard
            placed = np.concatenate(out_geom)
            g = _give_way(g, user, placed, np.concatenate(out_user), shapely.STRtree(placed))
        emit(g, user, rb[base])

    g = np.concatenate(out_geom)
    user = np.concatenate(out_user)
    blk = np.concatenate(out_block)
    order = np.argsort(blk, kind="stable")  # surveyed block by block
    ids = _names("F", counters.footprint + 1 + np.arange(g.size), counters.widths["footprint"])
    counters.footprint += g.size
    return {"footprint_id": ids, "user": user[order], "geom": g[order]}


def _place_straddle(
    rng: np.random.Generator, parcels: np.ndarray, holder_num: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `n` rectangles across the seam of same-holder neighbours.

    Returns the shapes and the index of one of the two parcels each covers.
    Each shape lies in the union of its two parcels (up to the float noise).
    """
    none = (np.empty(0, dtype=object), np.empty(0, dtype=np.int64))
    a = np.flatnonzero(holder_num >= 0)
    i, j = shapely.STRtree(parcels[a]).query(parcels[a], predicate="dwithin", distance=1e-6)
    keep = (i < j) & (holder_num[a[i]] == holder_num[a[j]])
    i, j = a[i[keep]], a[j[keep]]
    if i.size == 0:
        return none
    pick = rng.permutation(i.size)[: 3 * n]
    i, j = i[pick], j[pick]
    seam = shapely.intersection(shapely.boundary(parcels[i]), shapely.buffer(parcels[j], 1e-4))
    length = shapely.length(seam)
    ok = length > 12.0
    i, j, seam, length = i[ok], j[ok], seam[ok], length[ok]
    if i.size == 0:
        return none
    m = i.size
    centre = shapely.get_coordinates(
        shapely.line_interpolate_point(seam, rng.uniform(0.3, 0.7, m), normalized=True)
    )
    along = shapely.get_coordinates(
        shapely.line_interpolate_point(seam, 1.0, normalized=True)
    ) - shapely.get_coordinates(shapely.line_interpolate_point(seam, 0.0, normalized=True))
    angle = np.arctan2(along[:, 1], along[:, 0])
    w = np.minimum(length * rng.uniform(0.2, 0.5, m), rng.uniform(15.0, 60.0, m))
    h = rng.uniform(10.0, 40.0, m)
    pair = shapely.buffer(shapely.union(parcels[i], parcels[j]), 1e-6)
    shapely.prepare(pair)
    out = np.empty(m, dtype=object)
    todo = np.arange(m)
    for _ in range(4):
        cand = _shapes(rng, centre[todo], w[todo], h[todo], angle[todo], np.zeros(todo.size, int))
        good = shapely.covers(pair[todo], cand)
        out[todo[good]] = cand[good]
        todo = todo[~good]
        w[todo] *= 0.7
        h[todo] *= 0.7
    done = np.flatnonzero(out != None)[:n]  # noqa: E711
    return out[done], i[done]


def _give_way(
    g: np.ndarray,
    user: np.ndarray,
    placed: np.ndarray,
    placed_user: np.ndarray,
    tree: shapely.STRtree,
) -> np.ndarray:
    """Cut from each shape the placed footprints of other users it overlaps.

    Keeps the largest remaining polygon; a shape that would almost vanish is
    kept whole (an occasional overlap of different users).
    """
    if placed.size == 0 or g.size == 0:
        return g
    gi, pi = tree.query(g, predicate="intersects")
    keep = placed_user[pi] != user[gi]
    gi, pi = gi[keep], pi[keep]
    if gi.size == 0:
        return g
    order = np.lexsort((pi, gi))
    gi, pi = gi[order], pi[order]
    rank = np.arange(gi.size) - np.searchsorted(gi, gi)
    out = g.copy()
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        out[gi[sel]] = shapely.difference(out[gi[sel]], placed[pi[sel]])
    out = _largest_part(_polygonal(out))
    gone = (out == None) | shapely.is_empty(out)  # noqa: E711
    gone[~gone] = shapely.area(out[~gone]) < 0.25 * shapely.area(g[~gone])
    out[gone] = g[gone]
    return out


def _runs_short(rng: np.random.Generator, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    size = rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1])
    return np.repeat(np.arange(n), size)[:n]


def _shapes(
    rng: np.random.Generator,
    centre: np.ndarray,
    w: np.ndarray,
    h: np.ndarray,
    angle: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Rotated rectangles (0), L-shapes (1) and courtyard rectangles (2)."""
    n = len(w)
    out = np.empty(n, dtype=object)
    c, s = np.cos(angle), np.sin(angle)

    def place(idx, lx, ly):
        x = centre[idx, :1] + c[idx, None] * lx - s[idx, None] * ly
        y = centre[idx, 1:] + s[idx, None] * lx + c[idx, None] * ly
        return np.stack([x, y], -1)

    sx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    sy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    rect = np.flatnonzero(kind != 1)
    if rect.size:
        shell = place(rect, w[rect, None] * sx, h[rect, None] * sy)
        out[rect] = shapely.polygons(shell)
    court = np.flatnonzero(kind == 2)
    if court.size:
        f = rng.uniform(0.3, 0.55, court.size)[:, None]
        shell = place(court, w[court, None] * sx, h[court, None] * sy)
        hole = place(court, f * w[court, None] * sx[::-1], f * h[court, None] * sy[::-1])
        out[court] = shapely.polygons(
            shapely.linearrings(shell), holes=shapely.linearrings(hole)[:, None]
        )
    ell = np.flatnonzero(kind == 1)
    if ell.size:
        a = rng.uniform(0.35, 0.65, ell.size)[:, None]
        b = rng.uniform(0.35, 0.65, ell.size)[:, None]
        lx = np.concatenate(
            [
                [[-0.5, 0.5, 0.5]] * np.ones((ell.size, 1)),
                -0.5 + a,
                -0.5 + a,
                [[-0.5, -0.5]] * np.ones((ell.size, 1)),
            ],
            1,
        )
        ly = np.concatenate(
            [
                [[-0.5, -0.5]] * np.ones((ell.size, 1)),
                -0.5 + b,
                -0.5 + b,
                [[0.5, 0.5, -0.5]] * np.ones((ell.size, 1)),
            ],
            1,
        )
        out[ell] = shapely.polygons(place(ell, w[ell, None] * lx, h[ell, None] * ly))
    return out


def _frame_of(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angle of the long axis, long and short side of the rotated envelopes."""
    _, long, short = _axes(geoms)
    angle = np.arctan2(long[:, 1], long[:, 0])
    return angle, np.hypot(*long.T), np.hypot(*short.T)


def _sizes(rng, long, short, n, scale):
    """Side lengths as random fractions of the host's envelope sides."""
    w = np.minimum(long * rng.uniform(*scale, n), 250.0)
    h = np.minimum(short * rng.uniform(*scale, n), 250.0)
    return np.maximum(w, 1.0), np.maximum(h, 1.0)


def _place_inside(
    rng: np.random.Generator,
    hosts: np.ndarray,
    kind: np.ndarray,
    *,
    scale: tuple[float, float],
    rounds: int = 8,
) -> np.ndarray:
    """Shapes lying in the interior of their hosts (rejection sampling).

    The sides are `scale` fractions of the host's rotated envelope; the centre
    starts near the host's centroid and wanders further out, and the shape
    shrinks, on each failed round.
    """
    n = len(hosts)
    shapely.prepare(hosts)
    angle, long, short = _frame_of(hosts)
    turned = rng.random(n) < 0.15
    angle = angle + np.where(turned, rng.uniform(-np.pi, np.pi, n), rng.normal(0, 0.02, n))
    w, h = _sizes(rng, long, short, n, scale)
    side = np.minimum(w, h)
    w[turned], h[turned] = side[turned] * 0.7, side[turned] * 0.5
    bounds = shapely.bounds(hosts)
    ctr = shapely.get_coordinates(shapely.point_on_surface(hosts))
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    for r in range(rounds):
        if todo.size == 0:
            break
        b = bounds[todo]
        m = todo.size
        anywhere = b[:, :2] + rng.random((m, 2)) * (b[:, 2:] - b[:, :2])
        spread = min(1.0, 0.3 + 0.15 * r)
        centre = ctr[todo] + spread * rng.random((m, 1)) * (anywhere - ctr[todo])
        inside = shapely.contains_xy(hosts[todo], centre[:, 0], centre[:, 1])
        cand = _shapes(rng, centre, w[todo], h[todo], angle[todo], kind[todo])
        good = inside & shapely.contains_properly(hosts[todo], cand)
        out[todo[good]] = cand[good]
        todo = todo[~good]
        w[todo] *= 0.85
        h[todo] *= 0.85
    if todo.size:  # fall back to clipping at a point surely inside
        centre = ctr[todo]
        cand = _shapes(rng, centre, w[todo], h[todo], angle[todo], np.zeros(todo.size, int))
        clipped = _largest_part(_polygonal(shapely.intersection(cand, hosts[todo])))
        empty = shapely.is_empty(clipped) | (clipped == None)  # noqa: E711
        clipped[empty] = shapely.buffer(shapely.points(centre[empty]), 0.5, quad_segs=1)
        out[todo] = clipped
    return out


def _place_across(rng: np.random.Generator, hosts: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Shapes centred near the host's boundary, partly outside it."""
    n = len(hosts)
    main = _largest_part(hosts)
    angle, long, short = _frame_of(main)
    angle = angle + rng.normal(0, 0.03, n)
    w, h = _sizes(rng, long, short, n, (0.2, 0.5))
    ring = shapely.get_exterior_ring(main)
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(ring, rng.random(n), normalized=True)
    )
    ctr = shapely.get_coordinates(shapely.centroid(main))
    to_ctr = ctr - b
    to_ctr /= np.maximum(np.hypot(*to_ctr.T), 1e-9)[:, None]
    # the part across the edge is a few metres to half the shape deep
    depth = np.minimum(rng.uniform(0.05, 0.5, n) * h, rng.uniform(1.0, 20.0, n))
    centre = b + to_ctr * (h / 2 - depth)[:, None]
    return _shapes(rng, centre, w, h, angle, kind)


def _companions(rng: np.random.Generator, xy: np.ndarray, *, other: bool) -> np.ndarray:
    """New rectangles next to base rectangles given by their corner coords."""
    n = len(xy)
    c0, c1, c2, c3 = xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3]
    ex, ey = c1 - c0, c3 - c0
    if other:  # another user's building overlapping this one
        shift = rng.uniform(0.4, 0.8, n)[:, None] * ex + rng.uniform(-0.3, 0.3, n)[:, None] * ey
        return shapely.polygons(xy + shift[:, None, :])
    how = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    out = np.empty(n, dtype=object)
    # 0: a building inside its yard
    i = np.flatnonzero(how == 0)
    if i.size:
        s = rng.uniform(0.3, 0.7, i.size)[:, None, None]
        ctr = (c0[i] + c2[i])[:, None, :] / 2
        shift = (1 - s[:, 0]) / 2 * rng.uniform(-0.9, 0.9, (i.size, 1)) * ex[i] + (
            1 - s[:, 0]
        ) / 2 * rng.uniform(-0.9, 0.9, (i.size, 1)) * ey[i]
        out[i] = shapely.polygons(ctr + (xy[i] - ctr) * s + shift[:, None, :])
    # 1: an annex touching along a whole side (shares two corners exactly)
    i = np.flatnonzero(how == 1)
    if i.size:
        f = rng.uniform(0.3, 0.8, i.size)[:, None]
        v = (c1[i] - c0[i]) * f
        ring = np.stack([c1[i], c1[i] + v, c2[i] + v, c2[i], c1[i]], 1)
        out[i] = shapely.polygons(ring)
    # 2: an overlapping extension
    i = np.flatnonzero(how == 2)
    if i.size:
        shift = rng.uniform(0.3, 0.7, i.size)[:, None] * ex[i]
        out[i] = shapely.polygons(xy[i] + shift[:, None, :])
    return out


def _neighbour_user(
    rng: np.random.Generator,
    geoms: np.ndarray,
    parcels: np.ndarray,
    holder: np.ndarray,
    auth: np.ndarray,
    counters: _Counters,
    *,
    new_share: float,
) -> np.ndarray:
    """Holder of an authorized parcel touching each geometry, or a new user."""
    n = len(geoms)
    tree = shapely.STRtree(parcels)
    gi, pi = tree.query(geoms, predicate="dwithin", distance=1.0)
    keep = auth[pi]
    gi, pi = gi[keep], pi[keep]
    user = np.full(n, None, dtype=object)
    first = np.unique(gi, return_index=True)
    user[first[0]] = holder[pi[first[1]]]
    new = (user == None) | (rng.random(n) < new_share)  # noqa: E711
    k = int(new.sum())
    if k:
        user[new] = _names("E", counters.enterprise + np.arange(k), counters.widths["enterprise"])
        counters.enterprise += k
    return user


def _other_holder(rng: np.random.Generator, user: np.ndarray, holders: np.ndarray) -> np.ndarray:
    """A random enterprise holder different from `user` (when there is one)."""
    if holders.size == 0:
        return user
    pick = holders[rng.integers(0, holders.size, len(user))]
    same = pick == user
    for _ in range(5):
        if not same.any():
            break
        pick[same] = holders[rng.integers(0, holders.size, same.sum())]
        same = pick == user
    return pick


# ---------------------------------------------------------------------------
# planning zones
# ---------------------------------------------------------------------------


def _make_planning(
    rng: np.random.Generator,
    nbx: int,
    nby: int,
    x0: float,
    y0: float,
    counters: _Counters,
) -> dict[str, np.ndarray]:
    """Three rounded, wobbly zones in a 3 x 3 grid over the tile (~30 %)."""
    width, height = nbx * _CELL[0], nby * _CELL[1]
    cells = rng.choice(9, 3, replace=False)
    cx = x0 + (cells % 3 + 0.5) * width / 3
    cy = y0 + (cells // 3 + 0.5) * height / 3
    theta = np.linspace(0, 2 * np.pi, 65)[None, :]
    wobble = 1 + 0.04 * np.sin(
        rng.integers(2, 6, (3, 1)) * theta + rng.uniform(0, 2 * np.pi, (3, 1))
    )
    # superellipse |x|^4 + |y|^4 = 1, area ~0.93 of its box
    ct, st = np.cos(theta), np.sin(theta)
    ex = np.sign(ct) * np.abs(ct) ** 0.5
    ey = np.sign(st) * np.abs(st) ** 0.5
    ax = (width / 6) * 0.96 * wobble
    ay = (height / 6) * 0.96 * wobble
    xy = np.stack([cx[:, None] + ax * ex, cy[:, None] + ay * ey], -1)
    xy[:, -1] = xy[:, 0]
    geom = shapely.make_valid(shapely.polygons(xy))
    geom = _largest_part(_polygonal(geom))
    zone = np.empty(3, dtype=object)
    zone[0] = "现代农业园"
    zone[1:] = _names("规划区", counters.zone + 1 + np.arange(2), counters.widths["zone"])
    counters.zone += 2
    return {"zone": zone, "geom": geom}


def densify(polygon: shapely.Polygon, vertices: int) -> shapely.Polygon:
    """``polygon`` with its exterior resampled to ``vertices`` points on its own edges.

    Every corner stays and the new vertices are spread over the edges by
    length, as a CAD export or a survey densified at a fixed step gives them:
    the same land, drawn with ``vertices`` distinct points (``vertices + 1``
    coordinates with the closing one).  Holes are kept as they are.

    Examples
    --------
    >>> dense = densify(shapely.box(0, 0, 100, 100), 1000)
    >>> int(shapely.get_num_coordinates(dense)), round(dense.area, 9)
    (1001, 10000.0)
    """
    ring = np.asarray(polygon.exterior.coords)[:, :2]
    edges = np.diff(ring, axis=0)
    length = np.hypot(edges[:, 0], edges[:, 1])
    if vertices < len(edges):
        raise ValueError(f"{vertices} vertices cannot keep the {len(edges)} corners.")
    # One vertex per edge for its corner, the rest by length (largest remainders first).
    share = length / length.sum() * (vertices - len(edges))
    per = np.floor(share).astype(int) + 1
    per[np.argsort(share - np.floor(share))[::-1][: vertices - per.sum()]] += 1
    points = [ring[i] + edges[i] * (np.arange(per[i]) / per[i])[:, None] for i in range(len(edges))]
    shell = np.vstack([*points, ring[:1]])
    return shapely.Polygon(shell, [h.coords for h in polygon.interiors])


def sampled_circle(x: float, y: float, radius: float, vertices: int) -> shapely.Polygon:
    """A circle of ``radius`` around ``(x, y)`` sampled at ``vertices`` points.

    Examples
    --------
    >>> disc = sampled_circle(0, 0, 50, 100_000)
    >>> round(disc.area / (math.pi * 50**2), 6)
    1.0
    """
    angle = np.arange(vertices) * (2 * math.pi / vertices)
    shell = np.c_[x + radius * np.cos(angle), y + radius * np.sin(angle)]
    return shapely.Polygon(np.vstack([shell, shell[:1]]))
