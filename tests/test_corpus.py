"""A corpus of bad input, run through the command a user types.

Each case is a small hand-made layer that goes wrong the way real deliveries do.
For each, the behaviour a user needs is asserted: a clear error (exit code 2,
the file, the rows or column, the fix, no traceback), a repair counted in the
report, or a warning — never a crash, a hang or a silently wrong number.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString, Point, Polygon

from landgis.cli import main
from tests.conftest import CRS, X0, Y0, footprints_frame, parcels_frame, rect


def park():
    """A valid little park: a's parcel, a leased-in parcel, a's footprint over both."""
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "a", rect(0, 0, 100, 100)),
            ("L1", "leased_in", "村", rect(100, 0, 200, 100)),
        ]
    )
    footprints = footprints_frame([("F1", "a", rect(10, 10, 130, 90))])
    return parcels, footprints


def run(tmp_path, parcels, footprints, *extra, write=True):
    """Write the layers (frames → GeoPackage, paths as given) and run `landgis audit`."""
    paths = []
    for name, layer in (("parcels", parcels), ("footprints", footprints)):
        if isinstance(layer, gpd.GeoDataFrame):
            path = tmp_path / f"{name}.gpkg"
            layer.to_file(path)
            paths.append(str(path))
        else:
            paths.append(str(layer))
    result = CliRunner().invoke(main, ["audit", *paths, "-o", str(tmp_path / "out"), "-q", *extra])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def fails(result, *fragments):
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


def trail(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------- geometries


def test_bow_tie_and_self_touching_rings_are_repaired_and_counted(tmp_path):
    parcels, footprints = park()
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    touching = Polygon(
        [(X0 + 200, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 100), (X0 + 200, Y0 + 100)],
        [[(X0 + 200, Y0), (X0 + 220, Y0 + 50), (X0 + 240, Y0)]],
    )
    parcels.loc[0, "geometry"] = bowtie
    parcels.loc[2] = ["P2", "requisitioned", "b", touching]
    result = run(tmp_path, parcels, footprints)
    assert result.exit_code == 0, result.output
    assert trail(tmp_path)["repairs"]["parcels.repaired"] == 2


def test_zero_area_sliver_is_dropped_with_a_warning(tmp_path):
    parcels, footprints = park()
    parcels.loc[2] = [
        "P3",
        "requisitioned",
        "b",
        Polygon([(X0, Y0), (X0 + 50, Y0), (X0 + 100, Y0)]),
    ]
    result = run(tmp_path, parcels, footprints)
    assert result.exit_code == 0 and "no area after repair (P3 (row 3))" in result.output


def test_wrong_geometry_types(tmp_path):
    parcels, footprints = park()
    parcels.loc[2] = ["P3", "requisitioned", "b", LineString([(X0, Y0), (X0 + 9, Y0)])]
    parcels = parcels.set_geometry(parcels.geometry)
    fails(run(tmp_path, parcels, footprints), "Linestring, not polygons, in P3 (row 3)")
    points = footprints.copy()
    points.loc[0, "geometry"] = Point(X0, Y0)
    fails(run(tmp_path, park()[0], points), "footprints.gpkg: Point, not polygons, in F1 (row 1)")


def test_3d_coordinates_are_flattened(tmp_path):
    parcels, footprints = park()
    parcels["geometry"] = shapely.force_3d(parcels.geometry.values, 12.5)
    result = run(tmp_path, parcels, footprints)
    assert result.exit_code == 0, result.output
    assert trail(tmp_path)["repairs"]["parcels.dropped_z"] == 2


def test_coordinates_blown_up(tmp_path):
    parcels, footprints = park()
    parcels.loc[1, "geometry"] = shapely.box(1e12, 1e12, 1e12 + 100, 1e12 + 100)
    fails(
        run(tmp_path, parcels, footprints),
        "coordinates far outside the area of EPSG:4528",
        "in L1 (row 2)",
    )


# ------------------------------------------------------------- coordinate systems


def test_missing_crs_that_coordinates_do_not_tell(tmp_path):
    parcels, footprints = park()
    local = parcels.set_geometry(parcels.geometry.translate(-40_000_000, 0)).set_crs(
        None, allow_override=True
    )
    local.to_file(tmp_path / "p.shp")
    (tmp_path / "p.prj").unlink(missing_ok=True)
    fails(
        run(tmp_path, tmp_path / "p.shp", footprints),
        "p.shp: the layer has no coordinate",
        "--source-crs",
    )


def test_missing_crs_with_zone_prefix_is_assumed_with_a_warning(tmp_path):
    parcels, footprints = park()
    parcels.to_file(tmp_path / "p.shp")
    (tmp_path / "p.prj").unlink()
    result = run(tmp_path, tmp_path / "p.shp", footprints)
    assert result.exit_code == 0 and "EPSG:4528 assumed" in result.output


def test_mixed_crs_is_reprojected_and_recorded(tmp_path):
    parcels, footprints = park()
    result = run(tmp_path, parcels, footprints.to_crs(4490))
    assert result.exit_code == 0, result.output
    assert trail(tmp_path)["inputs"]["footprints"]["reprojected_from"] == "EPSG:4490"
    rows = list(csv.DictReader((tmp_path / "out" / "findings.csv").open(encoding="utf-8-sig")))
    over = next(r for r in rows if r["类别代码"] == "overuse_requisitioned")
    assert float(over["面积（平方米）"]) == pytest.approx(30 * 80, abs=0.01)


def test_lat_lon_swapped(tmp_path):
    parcels, footprints = park()
    swapped = parcels.to_crs(4326)
    swapped["geometry"] = shapely.transform(swapped.geometry.values, lambda xy: xy[:, ::-1])
    fails(run(tmp_path, swapped, footprints), "latitude and longitude are swapped")


def test_degrees_in_a_projected_layer(tmp_path):
    parcels, footprints = park()
    wrong = parcels.to_crs(4326).set_crs(CRS, allow_override=True)
    fails(run(tmp_path, wrong, footprints), "look like degrees", "source_crs=4490")


# ------------------------------------------------------------- layers and values


def test_empty_layers(tmp_path):
    parcels, footprints = park()
    fails(run(tmp_path, parcels.iloc[:0], footprints), "the parcels layer is empty")
    result = run(tmp_path, parcels, footprints.iloc[:0])
    assert result.exit_code == 0  # a survey may find no use: everything is idle
    rows = list(csv.DictReader((tmp_path / "out" / "findings.csv").open(encoding="utf-8-sig")))
    assert {r["类别代码"] for r in rows} == {"idle_requisitioned", "leased_in_unused"}


def test_duplicate_ids(tmp_path):
    parcels, footprints = park()
    parcels.loc[1, "parcel_id"] = "P1"
    fails(run(tmp_path, parcels, footprints), "parcel_id is not unique: P1", "rows 1, 2")


def test_truncated_file(tmp_path):
    parcels, footprints = park()
    parcels.to_file(tmp_path / "whole.gpkg")
    data = (tmp_path / "whole.gpkg").read_bytes()
    (tmp_path / "cut.gpkg").write_bytes(data[: len(data) // 3])
    fails(run(tmp_path, tmp_path / "cut.gpkg", footprints), "cut.gpkg: GDAL cannot open it")


def test_cpg_claiming_utf8_over_gbk_text(tmp_path):
    parcels, footprints = park()
    parcels["holder"] = ["泰州华达", "朱庄村"]
    footprints["user"] = ["泰州华达"]
    parcels.to_file(tmp_path / "p.shp", encoding="gbk")
    (tmp_path / "p.cpg").write_text("UTF-8")
    result = run(tmp_path, tmp_path / "p.shp", footprints)
    assert result.exit_code == 0 and "says UTF-8, but the attributes are not" in result.output
    text = (tmp_path / "out" / "findings.csv").read_text(encoding="utf-8-sig")
    assert "泰州华达" in text and "朱庄村" in text


def test_a_table_given_as_a_layer(tmp_path):
    table = tmp_path / "台账.csv"
    table.write_text("宗地代码,权利人,取得方式\nP1,a,征用\n", encoding="utf-8")
    fails(run(tmp_path, table, park()[1]), "台账.csv: has no geometry column")


# ------------------------------------------------------------- archives


def _zip(tmp_path, name, members):
    parcels, _ = park()
    parcels.to_file(tmp_path / "z.shp")
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as zf:
        for member in members:
            zf.write(tmp_path / f"z{Path(member).suffix}", member)
    return archive


def test_zipped_shapefile(tmp_path):
    archive = _zip(
        tmp_path, "delivery.zip", [f"红线/z.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")]
    )
    assert run(tmp_path, archive, park()[1]).exit_code == 0


def test_zip_member_climbing_out_is_refused(tmp_path):
    archive = _zip(tmp_path, "evil.zip", [f"../../z.{e}" for e in ("shp", "shx", "dbf", "prj")])
    fails(run(tmp_path, archive, park()[1]), "point outside the archive")
    assert not (tmp_path.parent.parent / "z.shp").exists()


# ------------------------------------------------------------- hostile text

HOSTILE = [
    "<script>window.__x=1</script>",
    '=HYPERLINK("http://e","x")',
    "+1",
    "-1",
    "@SUM(1)",
    "a\x07b\x1bc",
    "名" * 10_000,
    "{{ 7*7 }}",
    "../../街道",
]


def test_hostile_text_in_every_attribute(tmp_path):
    n = len(HOSTILE)
    parcels = parcels_frame(
        [
            (f"P{i}", "requisitioned", h, rect(200 * i, 0, 200 * i + 100, 100))
            for i, h in enumerate(HOSTILE)
        ]
    )
    parcels["parcel_name"] = HOSTILE
    parcels["street"] = HOSTILE
    parcels["village"] = HOSTILE[::-1]
    footprints = footprints_frame(
        [(f"F{i}", h, rect(200 * i, 0, 200 * i + 130, 100)) for i, h in enumerate(HOSTILE)]
    )
    footprints["use"] = HOSTILE
    result = run(tmp_path, parcels, footprints, "--map", "--xlsx")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://e","x")' in cells and "名" * 10_000 in cells
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>window.__x" not in html  # the data block escapes "<"
    assert "{{ 7*7 }}" in html  # template code reached the page as text, not evaluated
    maps = sorted(p.name for p in (out / "maps").iterdir())
    assert all(len(name) <= 70 and "/" not in name and ".." not in name for name in maps)
    assert sum(name.endswith(".html") for name in maps) == n + 2  # streets + 2 departments
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


# ------------------------------------------------------------- outputs


def test_an_output_that_would_replace_an_input_is_refused(tmp_path):
    parcels, footprints = park()
    out = tmp_path / "out"
    out.mkdir()
    parcels.to_file(out / "findings.gpkg")
    footprints.to_file(tmp_path / "f.gpkg")
    before = (out / "findings.gpkg").read_bytes()
    result = CliRunner().invoke(
        main, ["audit", str(out / "findings.gpkg"), str(tmp_path / "f.gpkg"), "-o", str(out), "-q"]
    )
    fails(result, "is one of the inputs")
    assert (out / "findings.gpkg").read_bytes() == before


def test_interrupting_a_write_keeps_every_output_whole(tmp_path):
    """SIGTERM while the GeoPackage is being written: old or complete files only."""
    from landgis.testing.synthetic import make_park

    parcels, footprints, _ = make_park(20_000, seed=2)
    parcels.to_file(tmp_path / "p.gpkg")
    footprints.to_file(tmp_path / "f.gpkg")
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "landgis.cli",
        "audit",
        str(tmp_path / "p.gpkg"),
        str(tmp_path / "f.gpkg"),
        "-o",
        str(out),
        "-q",
    ]
    subprocess.run(command, check=True, capture_output=True)
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    for _attempt in range(12):  # the write window is short; on a busy machine try again
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if list(out.glob(".findings.*.tmp.gpkg")):
                process.send_signal(signal.SIGTERM)
                break
            time.sleep(0.001)
        _, stderr = process.communicate(timeout=120)
        if process.returncode == 130:
            break
    assert process.returncode == 130, stderr.decode()
    assert "none is half-written" in stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == sorted(previous)  # no temporary file
    for name, data in previous.items():
        if name != "summary.json":  # the only file whose content has the time in it
            assert (out / name).read_bytes() == data, name  # previous, or rewritten the same
    assert len(gpd.read_file(out / "findings.gpkg", layer="findings")) > 100
