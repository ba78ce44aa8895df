"""GIS formats and the field kit through the command line and the Audit object."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

import landgis
from landgis.cli import main
from landgis.errors import InputFileError


@pytest.fixture(scope="module")
def sample_audit():
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        admin=landgis.get_path("admin"),
    )


def test_audit_writes_gdb_and_shapefiles_on_request(tmp_path):
    out = tmp_path / "out"
    args = [landgis.get_path("parcels"), landgis.get_path("footprints")]
    args += ["--admin", landgis.get_path("admin"), "-o", str(out), "-q"]
    args += ["--format", "gdb", "--format", "shp"]
    result = CliRunner().invoke(main, ["audit", *map(str, args)])
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    gdb = gpd.read_file(out / "findings.gdb", layer="findings")
    assert sorted(gdb["finding_id"]) == sorted(csv["编号"])
    assert {name for name, _ in pyogrio.list_layers(out / "findings.gdb")} >= {
        "findings",
        "parcels",
        "footprints",
        "admin",
    }
    shp = gpd.read_file(out / "shp" / "findings.shp")
    assert sorted(shp["FINDING_ID"]) == sorted(csv["编号"])
    assert abs(shp.area.sum() - csv["面积（平方米）"].sum()) < 0.1
    assert (out / "shp" / "findings.cpg").read_text().strip() == "UTF-8"
    assert (out / "shp" / "fields.csv").is_file()


def test_without_format_only_the_geopackage(tmp_path, sample_audit):
    written = sample_audit.write(tmp_path)
    assert "findings.gpkg" in written
    assert not (tmp_path / "findings.gdb").exists() and not (tmp_path / "shp").exists()
    with pytest.raises(ValueError, match="choose from"):
        sample_audit.write(tmp_path, formats=["kml"])


def test_fieldkit_command_per_street(tmp_path, sample_audit):
    sample_audit.write(tmp_path)
    result = CliRunner().invoke(main, ["fieldkit", str(tmp_path)])
    assert result.exit_code == 0, result.output
    kit = tmp_path / "fieldkit"
    streets = sorted(set(sample_audit.findings["street"]) - {""})
    assert streets, "the sample park's findings have streets"
    for street in streets:
        assert (kit / f"{street}.kmz").is_file(), street
        assert (kit / f"{street}.html").is_file(), street
    # One placemark per finding across the streets' KMZ files (GDAL's KML reader).
    total = 0
    for kmz in kit.glob("*.kmz"):
        for layer, _ in pyogrio.list_layers(f"/vsizip/{kmz}"):
            total += len(pyogrio.read_dataframe(f"/vsizip/{kmz}", layer=layer))
    assert total == len(sample_audit.findings)


def test_fieldkit_options(tmp_path, sample_audit):
    sample_audit.write(tmp_path)
    kit = tmp_path / "kit"
    result = CliRunner().invoke(
        main, ["fieldkit", str(tmp_path), "-o", str(kit), "--gcj02", "--no-print", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert list(kit.glob("*.kmz")) and not list(kit.glob("*.html"))


def test_fieldkit_of_a_folder_without_audit_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["fieldkit", str(tmp_path)])
    assert result.exit_code == 2
    assert "landgis audit" in result.output and "Traceback" not in result.output


def test_a_gdb_input_is_never_replaced_by_the_output(tmp_path, sample_audit):
    data = tmp_path / "data"
    data.mkdir()
    sample_audit.parcels.to_file(data / "findings.gdb", layer="parcels", driver="OpenFileGDB")
    again = landgis.audit(data / "findings.gdb", landgis.get_path("footprints"))
    with pytest.raises(InputFileError, match="one of the inputs"):
        again.write(data, formats=["gdb"])
    assert {name for name, _ in pyogrio.list_layers(data / "findings.gdb")} == {"parcels"}
    shutil.rmtree(data)
