"""Partitioned audits through the command line: same findings, tile progress, usage errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

import landgis
from landgis.cli import main

SAMPLE = [
    str(landgis.get_path("parcels")),
    str(landgis.get_path("footprints")),
    "--planning",
    str(landgis.get_path("planning")),
    "--admin",
    str(landgis.get_path("admin")),
]


def test_tiles_and_streaming_give_the_same_csv(tmp_path):
    runner = CliRunner()
    whole = runner.invoke(main, ["audit", *SAMPLE, "-o", str(tmp_path / "whole"), "-q"])
    assert whole.exit_code == 0, whole.output
    args = ["--tile-size", "150", "--halo", "10", "--memory-budget", "0.5"]
    tiled = runner.invoke(main, ["audit", *SAMPLE, *args, "-o", str(tmp_path / "tiled")])
    assert tiled.exit_code == 0, tiled.output
    assert (tmp_path / "tiled" / "findings.csv").read_bytes() == (
        tmp_path / "whole" / "findings.csv"
    ).read_bytes()
    assert "14 findings" in tiled.output
    trail = json.loads((tmp_path / "tiled" / "summary.json").read_text(encoding="utf-8"))
    assert trail["partitions"]["tiles"] > 4 and trail["inputs"]["footprints"]["streamed"]


def test_scheduler_needs_the_dask_engine(tmp_path):
    result = CliRunner().invoke(
        main, ["audit", *SAMPLE, "--scheduler", "tcp://127.0.0.1:1", "-o", str(tmp_path), "-q"]
    )
    assert result.exit_code == 2
    assert "--engine dask" in result.output
