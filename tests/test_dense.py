"""Dense red lines (issue 19, item 11): the same findings, drawn with many more vertices.

Timings are in ``bench/bench_dense.py``; these tests check the figures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import landgis
from landgis.engine import ops
from landgis.engine.ops import (
    DENSE_VERTICES,
    THIN_GRIDS,
    Cancelled,
    abandonable,
    by_cells,
    checkpoint,
    thin,
)
from landgis.testing.synthetic import densify, sampled_circle
from tests.conftest import CRS, X0, Y0

KEY = ["category", "holder", "parcel_id", "other_holder", "other_parcel_id"]


@pytest.fixture(scope="module")
def sample():
    return (
        landgis.read_parcels(landgis.get_path("parcels")),
        landgis.read_footprints(landgis.get_path("footprints")),
        landgis.read_planning(landgis.get_path("planning")),
    )


def with_geometry(frame: gpd.GeoDataFrame, rows, make) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    for i in rows:
        geoms[i] = make(geoms[i])
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def findings(parcels, footprints, planning) -> pd.DataFrame:
    result = landgis.audit(parcels, footprints, planning=planning, min_area=0)
    table = result.findings[[*KEY, "area_m2"]].fillna("")
    return table.sort_values([*KEY, "area_m2"]).reset_index(drop=True), result


def assert_same(dense, plain, rtol=1e-6):
    (a, audit_a), (b, audit_b) = dense, plain
    pd.testing.assert_frame_equal(a[KEY], b[KEY])
    np.testing.assert_allclose(a["area_m2"], b["area_m2"], rtol=rtol)
    holders_a, holders_b = audit_a.holders.sort_index(), audit_b.holders.sort_index()
    assert list(holders_a.index) == list(holders_b.index)
    np.testing.assert_allclose(holders_a, holders_b, rtol=rtol, atol=rtol * 10_000)
    use_a, use_b = audit_a.parcel_use, audit_b.parcel_use
    np.testing.assert_allclose(use_a["used_m2"], use_b["used_m2"], rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("vertices", [20_000, 200_000])
def test_densified_red_line_same_findings(sample, vertices):
    """华达's red line, its footprint lying along three of its edges, at 20k and 200k vertices."""
    parcels, footprints, planning = sample
    dense = with_geometry(parcels, [0], lambda g: densify(g, vertices))
    assert shapely.get_num_coordinates(dense.geometry.iloc[0]) == vertices + 1
    assert_same(findings(dense, footprints, planning), findings(parcels, footprints, planning))


def test_every_red_line_and_footprint_densified(sample):
    """Dense against dense: shared and overlapping edges drawn with different vertices."""
    parcels, footprints, planning = sample
    dense_parcels = with_geometry(parcels, range(len(parcels)), lambda g: densify(g, 3_001))
    dense_footprints = with_geometry(
        footprints, range(len(footprints)), lambda g: densify(g, 2_003)
    )
    assert_same(
        findings(dense_parcels, dense_footprints, planning),
        findings(parcels, footprints, planning),
    )


def test_finely_sampled_circle(sample):
    """A round red line at 100k and 400k vertices: the same findings (the polygons differ
    from each other by 1e-9 of their area)."""
    parcels, footprints, planning = sample
    x0, y0 = parcels.geometry.iloc[0].bounds[:2]

    def disc(vertices):
        return with_geometry(parcels, [0], lambda g: sampled_circle(x0 + 50, y0 + 50, 50, vertices))

    fine = findings(disc(400_000), footprints, planning)
    assert_same(fine, findings(disc(100_000), footprints, planning))
    table = fine[0]
    corners = table[
        (table["category"] == "outside_redline") & (table["parcel_id"] == "321202001001")
    ]
    # Four corners of 华达's footprint outside the round red line: (100² − π·50²)/4 each.
    np.testing.assert_allclose(corners["area_m2"], (100**2 - np.pi * 50**2) / 4, rtol=1e-6)


def test_footprint_drawn_along_a_round_red_line_with_other_vertices(sample, monkeypatch):
    """TB001 redrawn as 华达's round red line sampled anew: the two arcs cross at
    almost every vertex (GEOS' snap-rounding quadratic in the crossings).  Cell by
    cell, the same figures as one snap-rounded overlay per pair."""
    parcels, footprints, planning = sample
    x0, y0 = parcels.geometry.iloc[0].bounds[:2]
    disc = with_geometry(parcels, [0], lambda g: sampled_circle(x0 + 50, y0 + 50, 50, 8_000))
    traced = with_geometry(footprints, [0], lambda g: sampled_circle(x0 + 50, y0 + 50, 50, 6_001))
    cells = findings(disc, traced, planning)
    monkeypatch.setattr(ops, "CELL_VERTICES", 10**9)
    whole = findings(disc, traced, planning)
    (a, audit_a), (b, audit_b) = cells, whole
    np.testing.assert_allclose(
        audit_a.holders.sort_index(), audit_b.holders.sort_index(), rtol=1e-6, atol=1e-6
    )
    by_category = [t.groupby("category")["area_m2"].agg(["sum", "size"]) for t in (a, b)]
    np.testing.assert_allclose(by_category[0]["sum"], by_category[1]["sum"], rtol=1e-6, atol=1e-6)
    # Slivers between the arcs (each ~1e-6 m²) are findings at min_area=0 both ways;
    # rounding near the cut lines may split or merge a few of them.
    assert np.abs(by_category[0]["size"] - by_category[1]["size"]).max() <= 0.02 * len(a)
    big = [t[t["area_m2"] > 1e-3].reset_index(drop=True) for t in (a, b)]
    pd.testing.assert_frame_equal(big[0][KEY], big[1][KEY])
    np.testing.assert_allclose(big[0]["area_m2"], big[1]["area_m2"], rtol=1e-6)


@pytest.mark.parametrize("op", [shapely.difference, shapely.intersection])
def test_by_cells_is_the_snap_rounded_overlay(op):
    def disc(vertices, r=50, cx=50, cy=50):
        return sampled_circle(X0 + cx, Y0 + cy, r, vertices)

    def box(*b):
        return shapely.box(X0 + b[0], Y0 + b[1], X0 + b[2], Y0 + b[3])

    pairs = [
        (shapely.union(disc(7_501), box(50, 0, 120, 100)), disc(10_000)),  # crossing arcs
        (box(0, 0, 120, 100), disc(20_000)),
        (disc(20_000), shapely.difference(box(-10, -10, 110, 110), disc(15_001, r=40))),
        (shapely.difference(disc(20_000), disc(9_001, r=20)), disc(12_001, r=45, cx=55)),
        (shapely.union(disc(8_000, r=20, cx=20), disc(8_000, r=20, cx=80)), disc(10_001, r=30)),
        (densify(box(0, 0, 100, 100), 8_000), box(30, -5, 60, 200)),
        (box(0, 0, 1, 1), box(5, 5, 6, 6)),  # nothing in common
    ]
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    cells = by_cells(op, a, b, grid_size=1e-6)
    whole = ops.polygonal(op(a, b, grid_size=1e-6))
    assert shapely.is_valid(cells).all()
    np.testing.assert_allclose(shapely.area(cells), shapely.area(whole), rtol=1e-9, atol=1e-6)
    assert (shapely.area(shapely.symmetric_difference(cells, whole)) < 1e-6).all()
    np.testing.assert_array_equal(
        shapely.get_num_geometries(cells), shapely.get_num_geometries(whole)
    )


def test_sample_park_cell_by_cell(sample, monkeypatch):
    """Every overlay in cells of at most 40 vertices: the sample park's findings."""
    parcels, footprints, planning = sample
    dense = with_geometry(parcels, range(len(parcels)), lambda g: densify(g, 997))
    plain = findings(parcels, footprints, planning)
    monkeypatch.setattr(ops, "CELL_VERTICES", 40)
    assert_same(findings(dense, footprints, planning), plain)
    assert_same(findings(parcels, footprints, planning), plain)


def test_thin_keeps_small_geometries_untouched():
    small = np.array(
        [shapely.box(0, 0, 1, 1), densify(shapely.box(0, 0, 9, 9), DENSE_VERTICES - 1)]
    )
    out = thin(small, grid_size=1e-6)
    assert out[0] is small[0] and out[1] is small[1]
    dense = np.array([densify(shapely.box(0, 0, 9, 9), 5 * DENSE_VERTICES)])
    assert thin(dense, grid_size=None)[0] is dense[0]


def test_thin_stays_within_a_tenth_of_the_grid():
    grid = 1e-6
    disc = sampled_circle(40_492_050.0, 3_596_050.0, 40, 100_000)
    square = densify(shapely.box(40_492_000.0, 3_596_000.0, 40_492_100.0, 3_596_100.0), 50_000)
    holed = shapely.Polygon(square.exterior, [disc.exterior.coords[::-1]])
    lean = thin(np.array([disc, square, holed]), grid_size=grid)
    assert shapely.is_valid(lean).all()
    assert shapely.get_num_coordinates(lean[1]) == 5  # collinear vertices: every one dropped
    assert shapely.get_num_coordinates(lean[0]) < 100_000 * 0.8  # arcs: some dropped
    for before, after in zip([disc, square, holed], lean, strict=True):
        # Douglas-Peucker keeps a subset of the vertices, so the boundaries are
        # that close everywhere once every vertex dropped is that close.
        rings = shapely.get_rings(after)
        segments = np.concatenate(
            [
                shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1))
                for c in map(shapely.get_coordinates, rings)
            ]
        )
        vertices = shapely.points(shapely.get_coordinates(before))
        _, distance = shapely.STRtree(segments).query_nearest(vertices, return_distance=True)
        assert distance.max() <= THIN_GRIDS * grid
        assert abs(after.area - before.area) <= THIN_GRIDS * grid * before.length


# ------------------------------------------------------------------ interrupts


class Stop(Exception):
    pass


def test_abandonable_returns_and_raises_what_the_work_does():
    assert abandonable(divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        abandonable(divmod, 7, 0)


def test_an_interrupt_is_not_held_off_by_a_long_call():
    """A signal's handler raises at once in the waiting thread, however long the
    work's current call (here a wait in C, as a GEOS call is); work between calls
    stops at its next checkpoint."""
    stopped = threading.Event()

    def work():
        threading.Event().wait(3)  # one long call that does not look at signals
        try:
            while True:
                checkpoint()
                time.sleep(0.01)
        except Cancelled:
            stopped.set()

    def handler(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        started = time.monotonic()
        with pytest.raises(Stop):
            abandonable(work)
        assert time.monotonic() - started < 1.5
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert stopped.wait(10)  # the abandoned work ended at its first checkpoint


def slow_park(folder):
    """Two samplings of one round red line (100,000 and 75,001 vertices): their
    arcs cross each other at almost every vertex.  In one GEOS call (see
    :data:`SLOW_CLI`) its snap-rounding takes minutes over it."""
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2"],
            "tenure": ["requisitioned", "leased_in"],
            "holder": ["A", "村1"],
        },
        geometry=[
            sampled_circle(X0, Y0, 100, 100_000),
            shapely.box(X0 + 90, Y0 - 50, X0 + 200, Y0 + 50),
        ],
        crs=CRS,
    )
    footprints = gpd.GeoDataFrame(
        {"footprint_id": ["F1"], "user": ["A"]},
        geometry=[sampled_circle(X0, Y0, 100, 75_001)],
        crs=CRS,
    )
    parcels.to_file(folder / "parcels.gpkg")
    footprints.to_file(folder / "footprints.gpkg")
    return folder / "parcels.gpkg", folder / "footprints.gpkg"


#: ``landgis`` with the engine's dense-geometry handling off (no thinning, no
#: cells): the slow park's overlay is then one GEOS call of minutes, which
#: Python cannot interrupt.
SLOW_CLI = (
    "import sys; from landgis.engine import ops; "
    "ops.DENSE_VERTICES = ops.CELL_VERTICES = 10**12; "
    "from landgis.cli import main; main(sys.argv[1:], prog_name='landgis')"
)


def _as_in_a_terminal() -> None:
    """Ctrl-C's default in the child, as in a terminal: a test run started in the
    background (``cmd &`` without job control, as CI may be) ignores SIGINT, and
    Python then leaves it ignored in every child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_long_audit_stops_within_seconds(tmp_path, signum):
    """SIGTERM or Ctrl-C in the middle of a GEOS call that would take minutes:
    exit 130 within 5 s, the previous outputs byte for byte, no temporary file."""
    parcels, footprints = slow_park(tmp_path)
    out = tmp_path / "out"
    sample = [str(landgis.get_path("parcels")), str(landgis.get_path("footprints"))]
    subprocess.run(
        [sys.executable, "-m", "landgis.cli", "audit", *sample, "-o", str(out), "-q"],
        check=True,
        capture_output=True,
    )
    cli = [sys.executable, "-c", SLOW_CLI, "audit"]
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    for delay in (6, 12, 24):  # the overlay must have begun: reading takes a few seconds
        process = subprocess.Popen(
            [*cli, str(parcels), str(footprints), "-o", str(out), "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_as_in_a_terminal,
        )
        time.sleep(delay)
        assert process.poll() is None, process.communicate()[1].decode()
        sent = time.monotonic()
        process.send_signal(signum)
        try:
            _, stderr = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"still running 5 s after {signal.Signals(signum).name}")
        waited = time.monotonic() - sent
        if "while overlaying use on red lines" in stderr.decode():
            break
    message = stderr.decode()
    assert process.returncode == 130, message
    assert "while overlaying use on red lines" in message  # in the heavy part
    assert "none is half-written" in message and "Traceback" not in message
    assert waited < 5
    assert sorted(p.name for p in out.iterdir()) == sorted(previous)  # no temporary file
    for name, data in previous.items():
        assert (out / name).read_bytes() == data, name
