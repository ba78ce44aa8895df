"""Partitioned audits give exactly the single-process findings (issue 9).

The same generated park goes through one run, the local engine cut into small
tiles (many pieces cross tile edges, halos too small on purpose so partitions
are grown and parts settled after the merge), footprints streamed from
GeoParquet and GeoPackage, and Dask on a ``LocalCluster`` of two process
workers started here; findings (ids, categories, areas), holder and parcel
tables must agree.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import landgis
from landgis.config import load_campaign
from landgis.engine import run
from landgis.findings import build_findings
from landgis.io.stream import open_footprints
from landgis.scale import PartitionDone, run_partitioned
from landgis.testing.synthetic import make_park
from tests.conftest import footprints_frame, parcels_frame, rect

REL = 1e-6


@pytest.fixture(scope="module")
def park():
    parcels, footprints, planning = make_park(3000, seed=5)
    return (
        landgis.read_parcels(parcels),
        landgis.read_footprints(footprints),
        landgis.read_planning(planning),
    )


@pytest.fixture(scope="module")
def single(park):
    parcels, footprints, planning = park
    return run(parcels, footprints, planning)


def _findings(result, parcels, planning=None):
    return build_findings(
        result.raw, parcels=parcels, campaign=load_campaign(None), planning=planning
    ).set_index("finding_id")


def assert_same(expected, got, parcels, planning=None):
    """Same findings (ids, categories, holders, parcels, areas), holders and parcels tables."""
    a, b = _findings(expected, parcels, planning), _findings(got, parcels, planning)
    assert b.index.is_unique
    assert sorted(a.index) == sorted(b.index)
    b = b.loc[a.index]
    for column in ("category", "holder", "parcel_id", "other_holder", "other_parcel_id"):
        assert (a[column].to_numpy() == b[column].to_numpy()).all(), column
    np.testing.assert_allclose(b["area_m2"], a["area_m2"], rtol=REL, atol=1e-9)
    assert list(got.holders.index) == list(expected.holders.index)
    assert list(got.holders.columns) == list(expected.holders.columns)
    np.testing.assert_allclose(got.holders, expected.holders, rtol=REL, atol=1e-6)
    pd.testing.assert_frame_equal(got.parcels, expected.parcels, rtol=REL)
    # raw findings agree too, row order aside
    key = [
        c for c in ("category", "holder", "parcel_id", "other_parcel_id", "area_m2") if c in got.raw
    ]
    assert set(got.raw.columns) == set(expected.raw.columns)
    ra = expected.raw.sort_values(key).reset_index(drop=True)
    rb = got.raw.sort_values(key).reset_index(drop=True)
    assert len(ra) == len(rb)
    assert (ra["category"].to_numpy() == rb["category"].to_numpy()).all()


def test_local_partitions_match_one_run(park, single):
    parcels, footprints, planning = park
    events: list[PartitionDone] = []
    stats: dict = {}
    got = run_partitioned(
        parcels,
        footprints,
        planning,
        tile_size=250,
        halo=20,
        on_partition=events.append,
        stats=stats,
    )
    assert_same(single, got, parcels, planning)
    assert len(events) == stats["tiles"] > 50
    assert events[-1].done == events[-1].total
    assert stats["retries"] > 0  # pieces reached the small halo: tiles were grown
    assert stats["resolved_after_merge"] > 0  # nearest own parcels beyond the region
    assert stats["footprints_loaded"] > len(footprints)  # halos overlap


def test_streamed_footprints_match_one_run(park, single, tmp_path):
    """GeoParquet (with and without bbox covering) and GeoPackage, read tile by tile."""
    parcels, footprints, planning = park
    footprints.to_parquet(tmp_path / "plain.parquet", row_group_size=400)
    footprints.to_parquet(tmp_path / "bbox.parquet", row_group_size=400, write_covering_bbox=True)
    footprints.to_file(tmp_path / "f.gpkg", engine="pyogrio")
    for name in ("plain.parquet", "bbox.parquet", "f.gpkg"):
        source = open_footprints(tmp_path / name, crs=parcels.crs)
        assert len(source) == len(footprints)
        got = run_partitioned(parcels, source, planning, tile_size=600, halo=50)
        assert_same(single, got, parcels, planning)


def test_dask_local_cluster_matches_one_run(park, single, tmp_path):
    distributed = pytest.importorskip("distributed")
    parcels, footprints, planning = park
    footprints.to_parquet(tmp_path / "f.parquet", row_group_size=500)
    said: list[str] = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = set()
        got = run_partitioned(
            parcels,
            tmp_path / "f.parquet",  # each worker reads its tiles from the file
            planning,
            engine="dask",
            client=client,
            tile_size=700,
            halo=40,
            progress=said.append,
            on_partition=lambda e: workers.add(e.worker),
        )
        assert_same(single, got, parcels, planning)
        assert any(s.startswith("Dask dashboard: http") for s in said)
        assert len(workers) == 2 and "local" not in workers


def test_audit_partitioned_writes_the_same_outputs(tmp_path):
    kw = {"planning": landgis.get_path("planning"), "admin": landgis.get_path("admin")}
    one = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"), **kw)
    streamed = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        memory_budget=1,
        tile_size=60,
        halo=5,
        **kw,
    )
    pd.testing.assert_frame_equal(
        one.findings.drop(columns="geometry"), streamed.findings.drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(one.holders, streamed.holders)
    assert streamed.report["inputs"]["footprints"]["streamed"]
    assert streamed.report["inputs"]["footprints"]["rows"] == len(one.footprints)
    assert streamed.report["partitions"]["tiles"] > 1
    streamed.write(tmp_path / "out")
    assert (tmp_path / "out" / "findings.csv").read_bytes() == one.write(tmp_path / "one")[
        "findings.csv"
    ].read_bytes()


def test_pieces_and_parcels_across_partition_edges():
    """Tiles of 100 m and a 10 m halo over hand-made cases that cross them."""
    parcels = parcels_frame(
        [
            # larger than a tile: four tiles wide
            ("BIG", "requisitioned", "甲公司", rect(0, 0, 350, 90)),
            # a holder whose only parcel lies 2 km away, spelled with full-width brackets
            ("FAR", "requisitioned", "远方（泰州）公司", rect(2000, 0, 2050, 50)),
            ("L1", "leased_in", "一村", rect(0, 100, 100, 200)),
            # leased-in land across a tile edge, used by two parties that overlap
            ("L2", "leased_in", "一村", rect(100, 100, 300, 200)),
            # a red-line conflict across a tile edge
            ("C1", "requisitioned", "丙公司", rect(300, 100, 420, 200)),
            ("D1", "leased_out", "丁公司", rect(400, 100, 520, 200)),
        ]
    )
    footprints = footprints_frame(
        [
            # one piece over three tiles, 30 m of it beyond BIG outside every red line
            ("F1", "甲公司", rect(50, 20, 130, 40)),
            ("F2", "甲公司", rect(125, 20, 230, 40)),
            ("F3", "甲公司", rect(225, 20, 380, 40)),
            # the far holder, half-width brackets, on leased-in land near the origin
            ("F4", "远方(泰州)公司", rect(10, 110, 60, 160)),
            ("F5", "乙", rect(150, 120, 250, 150)),
            ("F6", "丙公司", rect(200, 130, 260, 180)),
        ]
    )
    parcels, footprints = landgis.read_parcels(parcels), landgis.read_footprints(footprints)
    expected = run(parcels, footprints)
    stats: dict = {}
    got = run_partitioned(parcels, footprints, tile_size=100, halo=10, stats=stats)
    assert_same(expected, got, parcels)
    assert stats["tiles"] >= 8 and stats["retries"] > 0 and stats["resolved_after_merge"] >= 1

    f = _findings(got, parcels)
    assert f.index.is_unique
    outside = f[f["category"] == "outside_redline"]
    # the piece spanning three tiles is reported once, by one tile
    assert len(outside[outside["holder"] == "甲公司"]) == 1
    assert outside.loc[outside["holder"] == "甲公司", "area_m2"].iloc[0] == pytest.approx(600)
    far = f[(f["holder"] == "远方（泰州）公司") & ~f["category"].str.startswith("idle")]
    assert list(far["category"]) == ["overuse_requisitioned"]
    assert list(far["parcel_id"]) == ["FAR"]
    assert far["area_m2"].iloc[0] == pytest.approx(2500)
    assert list(f.loc[f["category"] == "overlap_conflict", "parcel_id"]) == ["C1"]
    used = got.parcels.set_index("parcel_id")["used_m2"]
    assert used["L2"] == pytest.approx(100 * 30 + 60 * 50 - 50 * 20)  # union of two users
    assert used["BIG"] == pytest.approx(300 * 20)
    assert got.holders.loc["甲公司", "outside_redline_m2"] == pytest.approx(600)


def test_empty_partitions_and_parcels_without_use():
    parcels = parcels_frame(
        [
            ("A1", "requisitioned", "甲", rect(0, 0, 50, 50)),
            ("A2", "leased_out", "乙", rect(900, 900, 950, 950)),
        ]
    )
    footprints = footprints_frame([("F1", "甲", rect(10, 10, 20, 20))])
    parcels, footprints = landgis.read_parcels(parcels), landgis.read_footprints(footprints)
    expected = run(parcels, footprints)
    got = run_partitioned(parcels, footprints, tile_size=100, halo=5)
    assert_same(expected, got, parcels)
    assert set(_findings(got, parcels)["category"]) == {"idle_requisitioned", "idle_leased"}


def test_gpkg_source_reprojects_to_the_analysis_crs(park, tmp_path):
    """A layer in degrees: each tile is read, reprojected and validated as a whole read is."""
    parcels, footprints, planning = park
    footprints.to_crs(4490).to_file(tmp_path / "deg.gpkg", engine="pyogrio")
    whole = landgis.read_footprints(tmp_path / "deg.gpkg", crs=parcels.crs)
    source = open_footprints(tmp_path / "deg.gpkg", crs=parcels.crs)
    frame, rows, _ = source.read(source.bounds)
    assert len(frame) == len(footprints) and (np.diff(rows) > 0).all()
    assert frame.crs.equals(parcels.crs) and isinstance(frame, gpd.GeoDataFrame)
    got = run_partitioned(parcels, source, planning, tile_size=800, halo=60)
    assert_same(run(parcels, whole, planning), got, parcels, planning)
