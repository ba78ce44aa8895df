"""Boundary-point coordinate TXT (界址点坐标交换格式): real files, every variant, errors,
fuzzing and the writer's round trip.

Hand-made files sit in CGCS2000 3° Gauss-Krüger zone 40 (EPSG:4528) around
northing N0 / easting E0; ``pts`` writes a ring from local (east, north)
offsets in metres, so the expected areas are plain rectangle arithmetic.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon, box

from landgis.errors import (
    CRSError,
    GeometryError,
    InputFileError,
    LandgisError,
    LandgisWarning,
    SchemaError,
)
from landgis.io.boundary_txt import (
    EPSG_FAMILIES,
    parse_boundary_txt,
    read_boundary_txt,
    write_boundary_txt,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "polygon_txt_zhaoqing"
N0, E0 = 3_597_000.0, 40_492_000.0  # zone 40, eastings with the prefix

ATTRS = (
    "[属性描述]\n格式版本号=1.01版本\n数据产生单位=测试\n坐标系=2000国家大地坐标系\n"
    "几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号={zone}\n精度=0.001\n转换参数=,,,,,,\n"
)


def rect(x1, y1, x2, y2):
    """Corners of a rectangle in local metres (east, north), anticlockwise."""
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def pts(ring, corners, *, close=True, start=1, east0=E0, north0=N0):
    """Point lines 'Jk,ring,X(north),Y(east)', the first point repeated when close."""
    corners = list(corners) + ([corners[0]] if close else [])
    lines = []
    for k, (x, y) in enumerate(corners):
        name = start if close and k == len(corners) - 1 else start + k
        lines.append(f"J{name},{ring},{north0 + y:.3f},{east0 + x:.3f}")
    return "\n".join(lines) + "\n"


def doc(*parcels, zone="40", attrs=ATTRS):
    return attrs.format(zone=zone) + "[地块坐标]\n" + "".join(parcels)


def write(tmp_path, text, *, encoding="utf-8", name="parcels.txt", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def parse(text, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_boundary_txt(text, **kwargs)


# ---------------------------------------------------------------- real files


def test_real_zhaoqing_files_match_their_header_areas():
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (shared real data)")
    files = sorted(REAL.glob("*.txt"))
    assert len(files) == 12
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a clean real file warns about nothing
            gdf = read_boundary_txt(path)
        assert len(gdf) == 1, path.name
        row = gdf.iloc[0]
        assert gdf.crs.to_epsg() == 4526, path.name  # CGCS2000 3° GK zone 38, prefix
        assert gdf.attrs["boundary_txt"]["encoding"] == "utf-8"
        # The header is hectares written with up to 4 decimals ("0.01", "8.7423").
        assert round(row.area_m2 / 1e4, 4) == row.header_area, path.name
        assert row.header_area_unit == "ha" and not row.area_mismatch, path.name
        assert row.geometry.is_valid and row.geometry.geom_type == "Polygon"
        listed = sum(line.startswith("J") for line in path.read_text("utf-8").splitlines())
        assert row.points == listed  # the count includes the repeated closing point
        assert row.parcel_id == "FID_0" and row.line == 10
        assert row.parcel_name == ""  # the placeholder 'DKMC' is a field code, not a name
        minx, miny, maxx, maxy = row.geometry.bounds
        assert 38_370_000 < minx < maxx < 38_390_000 and 2_570_000 < miny < maxy < 2_590_000


# ------------------------------------------------------------------- variants


def test_gbk_file_with_a_hole_and_two_parcels(tmp_path):
    text = doc(
        # P01: 100 × 100 = 10000 m² minus the hole 20 × 30 = 600 m² → 9400 m² = 0.94 ha
        "10,0.9400,P01,甲地块,面,H50G010010,工业用地,0601,@\n",
        pts(1, rect(0, 0, 100, 100)),
        pts(2, rect(30, 30, 50, 60), start=5),
        # P02: 50 × 40 = 2000 m² = 0.2 ha
        "5,0.2000,P02,乙地块,面,H50G010010,仓储用地,0602,@\n",
        pts(1, rect(200, 0, 250, 40)),
    )
    path = write(tmp_path, text, encoding="gbk")
    gdf = read_boundary_txt(path)
    assert gdf.attrs["boundary_txt"]["encoding"] == "gb18030"
    assert gdf.crs.to_epsg() == 4528
    assert list(gdf.columns) == [
        "parcel_id",
        "parcel_name",
        "geometry_kind",
        "map_sheet",
        "use",
        "land_class",
        "points",
        "header_area",
        "header_area_unit",
        "header_area_m2",
        "area_m2",
        "area_mismatch",
        "line",
        "geometry",
    ]
    assert gdf["parcel_id"].tolist() == ["P01", "P02"]
    assert gdf["parcel_name"].tolist() == ["甲地块", "乙地块"]
    assert gdf["use"].tolist() == ["工业用地", "仓储用地"]
    assert gdf["land_class"].tolist() == ["0601", "0602"]
    assert gdf["map_sheet"].tolist() == ["H50G010010"] * 2
    assert gdf["geometry_kind"].tolist() == ["面", "面"]
    assert gdf["area_m2"].tolist() == pytest.approx([9400.0, 2000.0], abs=1e-6)
    assert gdf["header_area_m2"].tolist() == pytest.approx([9400.0, 2000.0])
    assert not gdf["area_mismatch"].any()
    assert gdf["line"].tolist() == [12, 23]
    assert gdf["points"].tolist() == [10, 5]
    hole = gdf.geometry.iloc[0]
    assert hole.geom_type == "Polygon" and len(hole.interiors) == 1
    # x = easting, y = northing
    assert hole.bounds == pytest.approx((E0, N0, E0 + 100, N0 + 100))
    attrs = gdf.attrs["boundary_txt"]
    assert attrs["数据产生单位"] == "测试" and attrs["带号"] == "40"
    assert attrs["crs_from"] == "带号 and easting prefix"
    assert attrs["warnings"] == [] and attrs["repaired"] == 0


def test_multipart_island_and_hole_listed_first():
    text = doc(
        # two disjoint squares: 10 × 10 + 20 × 20 = 100 + 400 = 500 m²
        "10,0.0500,M1,两块,面,,,,@\n",
        pts(1, rect(0, 0, 10, 10)),
        pts(2, rect(100, 0, 120, 20), start=5),
        # outer 100 × 100, hole 60 × 60, island 20 × 20 in the hole:
        # 10000 − 3600 + 400 = 6800 m²
        "15,0.6800,M2,岛,面,,,,@\n",
        pts(1, rect(300, 0, 400, 100)),
        pts(2, rect(320, 20, 380, 80), start=5),
        pts(3, rect(340, 40, 360, 60), start=9),
        # the hole first (ring 1 = 10 × 10), then the outer 100 × 100: 9900 m²
        "10,0.9900,M3,洞在前,面,,,,@\n",
        pts(1, rect(545, 45, 555, 55)),
        pts(2, rect(500, 0, 600, 100), start=5),
    )
    gdf = parse(text)
    assert gdf["area_m2"].tolist() == pytest.approx([500.0, 6800.0, 9900.0])
    assert not gdf["area_mismatch"].any()
    two, island, first = gdf.geometry
    assert two.geom_type == "MultiPolygon" and len(two.geoms) == 2
    assert island.geom_type == "MultiPolygon"
    assert sorted(len(p.interiors) for p in island.geoms) == [0, 1]
    assert first.geom_type == "Polygon" and len(first.interiors) == 1


def test_rings_under_one_ring_number_are_split_at_their_closing_point():
    # ring number 1 for the outer and the hole: 10000 − 600 = 9400 m²
    text = doc("10,0.94,P1,,面,,,,@\n", pts(1, rect(0, 0, 100, 100)), pts(1, rect(30, 30, 50, 60)))
    gdf = parse(text)
    assert gdf.loc[1, "area_m2"] == pytest.approx(9400.0)
    assert len(gdf.geometry.iloc[0].interiors) == 1


def test_ring_numbers_continue_across_parcels():
    # ring numbers 1, 2 in the first parcel and 3 in the second: same as restarting
    text = doc(
        "5,1.0,A,,面,,,,@\n",
        pts(1, rect(0, 0, 100, 100)),
        "5,1.0,B,,面,,,,@\n",
        pts(3, rect(200, 0, 300, 100)),
    )
    gdf = parse(text)
    assert gdf["area_m2"].tolist() == pytest.approx([10000.0, 10000.0])


def test_project_info_bom_and_leading_blanks(tmp_path):
    text = (
        "  \n"
        + " "
        + doc("5,0.01,P01,,面,,,,@\n", pts(1, rect(0, 0, 10, 10))).replace(
            "[属性描述]", "[项目信息]\n项目名称=某开发区\n批准文号=粤府[2020]1号\n [属性描述]"
        )
    )
    path = write(tmp_path, "\ufeff" + text, encoding="utf-8")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    gdf = read_boundary_txt(path)
    attrs = gdf.attrs["boundary_txt"]
    assert attrs["encoding"] == "utf-8-sig"
    assert attrs["项目信息"] == {"项目名称": "某开发区", "批准文号": "粤府[2020]1号"}
    assert attrs["坐标系"] == "2000国家大地坐标系"
    assert gdf.loc[1, "area_m2"] == pytest.approx(100.0)  # 10 × 10
    assert gdf.crs.to_epsg() == 4528


def test_utf16_with_bom(tmp_path):
    text = doc("5,0.01,甲,,面,,,,@\n", pts(1, rect(0, 0, 10, 10)))
    gdf = read_boundary_txt(write(tmp_path, text, encoding="utf-16"))
    assert gdf.attrs["boundary_txt"]["encoding"] == "utf-16"
    assert gdf.loc[1, "parcel_id"] == "甲" and gdf.loc[1, "area_m2"] == pytest.approx(100.0)


def test_zone_from_the_central_meridian():
    attrs = "[属性描述]\n坐标系=2000国家大地坐标系\n带号=\n中央子午线=114\n"
    text = doc("5,0.01,P,,面,,,,@\n", pts(1, rect(0, 0, 10, 10), east0=400_000.0), attrs=attrs)
    gdf = parse(text)
    assert gdf.crs.to_epsg() == 4547  # 3° zone 38 (114 / 3), no prefix: 4509 + 38
    assert gdf.attrs["boundary_txt"]["crs_from"] == "中央子午线"


def test_blank_zone_and_fenfai_key_with_prefixed_eastings():
    attrs = "[属性描述]\n坐标系=2000国家大地坐标系\n分带=3度带\n带号=\n"
    text = doc(
        "5,0.0150,P01,,面,,,,@\n",
        pts(1, rect(0, 0, 30, 5), east0=38_400_000.0, north0=2_580_000.0),  # 150 m²
        attrs=attrs,
    )
    gdf = parse(text)
    assert gdf.crs.to_epsg() == 4526  # 4488 + 38
    assert gdf.attrs["boundary_txt"]["crs_from"] == "easting prefix"
    assert gdf.loc[1, "area_m2"] == pytest.approx(150.0)


def test_zone_without_prefix():
    text = doc("5,0.0150,P01,,面,,,,@\n", pts(1, rect(0, 0, 30, 5), east0=400_000.0), zone="38")
    gdf = parse(text)
    assert gdf.crs.to_epsg() == 4547  # 4509 + 38
    assert "CM 114E" in gdf.crs.name
    assert gdf.geometry.iloc[0].bounds[0] == pytest.approx(400_000.0)


@pytest.mark.parametrize(
    ("datum", "width", "zone", "prefix", "epsg"),
    [
        ("2000国家大地坐标系", "6", "19", True, 4497),  # 4478 + 19
        ("2000国家大地坐标系", "6度带", "19", False, 4508),  # 4489 + 19
        ("西安80坐标系", "3", "38", True, 2362),  # 2324 + 38
        ("1980西安坐标系", "3", "38", False, 2383),  # 2345 + 38
        ("西安80", "6", "19", True, 2333),  # 2314 + 19
        ("西安80", "6", "19", False, 2344),  # 2325 + 19
        ("北京54坐标系", "3", "38", True, 2414),  # 2376 + 38
        ("1954北京坐标系", "3", "38", False, 2435),  # 2397 + 38
        ("北京54", "6", "19", True, 21419),  # 21400 + 19
        ("北京54", "", "19", False, 21459),  # 21440 + 19; 6° told by the zone number
    ],
)
def test_other_datums_and_six_degree_zones(datum, width, zone, prefix, epsg):
    attrs = f"[属性描述]\n坐标系={datum}\n几度分带={width}\n带号={zone}\n"
    east0 = int(zone) * 1e6 + 400_000 if prefix else 400_000.0
    text = doc("5,0.0150,P,,面,,,,@\n", pts(1, rect(0, 0, 30, 5), east0=east0), attrs=attrs)
    gdf = parse(text)
    assert gdf.crs.to_epsg() == epsg
    assert gdf.loc[1, "area_m2"] == pytest.approx(150.0)


def test_epsg_families_are_what_pyproj_says():
    datums = {"CGCS2000": "CGCS2000", "Xian 1980": "Xian 1980", "Beijing 1954": "Beijing 1954"}
    for (datum, width, prefix), (base, zones) in EPSG_FAMILIES.items():
        for zone in (zones.start, zones.stop - 1):
            name = CRS.from_epsg(base + zone).name
            assert name.startswith(datums[datum]), name
            assert ("3-degree" in name) == (width == 3), name
            meridian = zone * 3 if width == 3 else zone * 6 - 3
            expected = f"zone {zone}" if prefix else f"CM {meridian}E"
            assert name.endswith(expected), (name, expected)


def test_crs_argument_wins_and_unknown_zone_asks_for_it():
    text = doc("5,0.0150,P,,面,,,,@\n", pts(1, rect(0, 0, 30, 5), east0=400_000.0), zone="")
    with pytest.raises(CRSError, match=r"crs="):
        parse(text)
    assert parse(text, crs=4547).crs.to_epsg() == 4547
    assert parse(text, crs="EPSG:4547").attrs["boundary_txt"]["crs_from"] == "crs="


def test_crs_errors_name_the_problem():
    base = pts(1, rect(0, 0, 30, 5))
    with pytest.raises(CRSError, match=r"带号=39 but the eastings carry the zone prefix 40"):
        parse(doc("5,0.015,P,,面,,,,@\n", base, zone="39"))
    wgs = ATTRS.replace("2000国家大地坐标系", "WGS84")
    with pytest.raises(CRSError, match=r"坐标系='WGS84'"):
        parse(doc("5,0.015,P,,面,,,,@\n", base, attrs=wgs))
    mixed = base + pts(2, rect(50, 0, 60, 10), east0=400_000.0)
    with pytest.raises(CRSError, match=r"line 13: 40492000.000.*line 18: 400050.000"):
        parse(doc("10,0.015,P,,面,,,,@\n", mixed))


@pytest.mark.parametrize(
    ("close", "count"),
    [(True, 5), (True, 4), (False, 4), (False, 5)],
)
def test_closing_point_repeated_or_not_counted_or_not(close, count):
    text = doc(f"{count},0.0100,P,,面,,,,@\n", pts(1, rect(0, 0, 10, 10), close=close))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf = parse_boundary_txt(text)
    assert gdf.loc[1, "area_m2"] == pytest.approx(100.0)
    assert gdf.loc[1, "points"] == count
    assert gdf.attrs["boundary_txt"]["warnings"] == []


def test_more_points_listed_than_announced_is_a_warning():
    text = doc("3,0.0100,P7,,面,,,,@\n", pts(1, rect(0, 0, 10, 10)))
    with pytest.warns(LandgisWarning, match=r"line 12: parcel 'P7' says 3 points but lists 5"):
        gdf = parse_boundary_txt(text)
    assert len(gdf.attrs["boundary_txt"]["warnings"]) == 1
    assert gdf.loc[1, "area_m2"] == pytest.approx(100.0)


def test_fewer_points_than_announced_is_a_cut_off_delivery():
    # 9 announced, 5 listed (4 corners + the closing point): beyond the ±1 of the
    # closing-point conventions, so the parcel is refused, never built from what is there.
    good = doc("5,0.0100,P6,,面,,,,@\n", pts(1, rect(20, 0, 30, 10)))
    text = good + "9,0.0100,P7,,面,,,,@\n" + pts(1, rect(0, 0, 10, 10))
    with pytest.raises(SchemaError, match=r"line 18: parcel 'P7' announces 9 points but only "
                       r"5 follow \(the last on line 23\).*--lenient"):
        parse_boundary_txt(text)
    with pytest.warns(LandgisWarning, match=r"parcel 'P7' announces 9 points.*parcel skipped"):
        gdf = parse_boundary_txt(text, strict=False)
    assert gdf["parcel_id"].tolist() == ["P6"]
    assert gdf.attrs["boundary_txt"]["skipped"] == 1


@pytest.mark.parametrize(
    ("area", "unit", "header_m2"),
    [
        ("1.0000", "ha", 10_000.0),  # bare hectares, the standard
        ("1公顷", "ha", 10_000.0),
        ("1.0 ha", "ha", 10_000.0),
        ("10000平方米", "m2", 10_000.0),
        ("10000m2", "m2", 10_000.0),
        ("10000㎡", "m2", 10_000.0),
        ("15亩", "mu", 10_000.0),  # 1 亩 = 10000/15 m²
        ("10000", "m2", 10_000.0),  # no unit, only m² fits the 100 × 100 square
        ("", "ha", np.nan),  # blank: nothing to compare
    ],
)
def test_header_area_units(area, unit, header_m2):
    text = doc(f"5,{area},P,,面,,,,@\n", pts(1, rect(0, 0, 100, 100)))  # 10000 m²
    gdf = parse(text)
    row = gdf.loc[1]
    assert row.header_area_unit == unit
    assert row.header_area_m2 == pytest.approx(header_m2, nan_ok=True)
    assert row.area_m2 == pytest.approx(10_000.0)
    assert not row.area_mismatch


@pytest.mark.parametrize("key", ["计量单位=平方米", "面积单位=平方米"])
def test_area_unit_from_the_attributes(key):
    attrs = ATTRS.replace("计量单位=米", key)
    text = doc("5,100,P,,面,,,,@\n", pts(1, rect(0, 0, 10, 10)), attrs=attrs)
    row = parse(text).loc[1]
    assert (row.header_area_unit, row.header_area_m2, row.area_mismatch) == ("m2", 100.0, False)


def test_area_mismatch_tolerance():
    # 100 × 100 = 10000 m²: tolerance max(0.5 m², 0.1 % = 10 m²) = 10 m²
    square = pts(1, rect(0, 0, 100, 100))
    near = doc("5,1.0009,P,,面,,,,@\n", square)  # 10009 m²: within 10 m²
    far = doc("5,1.0011,P,,面,,,,@\n", square)  # 10011 m²: beyond
    assert not parse(near).loc[1, "area_mismatch"]
    with pytest.raises(SchemaError, match=r"line 12: parcel 'P''s header area 1.0011 ha "
                       r"\(10011.00 m²\) differs from the 10000.00 m²"):
        parse(far)
    # 10 × 10 = 100 m²: tolerance 0.5 m² (4-decimal hectares round by up to 0.5 m²)
    small = pts(1, rect(0, 0, 10, 10))
    assert not parse(doc("5,0.01,P,,面,,,,@\n", small)).loc[1, "area_mismatch"]
    with pytest.raises(SchemaError, match="differs"):
        parse(doc("5,0.0101,P,,面,,,,@\n", small))
    # Written with 2 decimals, 0.02 ha covers 150–250 m²: 180 m² is within its precision.
    oblong = pts(1, rect(0, 0, 18, 10))
    assert not parse(doc("5,0.02,P,,面,,,,@\n", oblong)).loc[1, "area_mismatch"]


def test_crlf_full_width_commas_no_at_sign_and_blank_lines(tmp_path):
    lf = doc(
        "5,0.0100,P01,名,面,,,,@\n",
        pts(1, rect(0, 0, 10, 10)),
        "\n\n",
        "5，0.0200，，二号，面，，，\n",  # full-width commas, no '@', no id → ordinal "2"
        pts(1, rect(20, 0, 40, 10)).replace(",", "，"),
    )
    crlf = write(tmp_path, lf, newline="\r\n")
    assert b"\r\n" in crlf.read_bytes()
    a = parse(lf)
    b = read_boundary_txt(crlf)
    for gdf in (a, b):
        assert gdf["parcel_id"].tolist() == ["P01", "2"]
        assert gdf["parcel_name"].tolist() == ["名", "二号"]
        assert gdf["area_m2"].tolist() == pytest.approx([100.0, 200.0])  # 10×10, 20×10
        assert gdf["line"].tolist() == [12, 20]
    assert a.geometry.geom_equals(b.geometry).all()


def test_self_intersecting_ring_is_repaired():
    # a bow-tie over a 10 × 10 square: two triangles of 25 m² each = 50 m²
    bowtie = [(0, 0), (10, 10), (10, 0), (0, 10)]
    gdf = parse(doc("5,0.0050,B,,面,,,,@\n", pts(1, bowtie)))
    assert gdf.loc[1, "area_m2"] == pytest.approx(50.0)
    assert gdf.geometry.iloc[0].is_valid
    assert gdf.attrs["boundary_txt"]["repaired"] == 1
    assert not gdf.loc[1, "area_mismatch"]


def test_points_and_lines_are_skipped():
    text = doc(
        "2,,L1,沟渠,线,,,,@\n",
        "J1,1,3597000,40492000\nJ2,1,3597010,40492000\n",
        "5,0.01,P1,,面,,,,@\n",
        pts(1, rect(0, 0, 10, 10)),
    )
    gdf = parse(text)
    assert gdf["parcel_id"].tolist() == ["P1"]
    assert gdf.attrs["boundary_txt"]["skipped"] == 1


def test_swapped_columns_are_put_back():
    lines = pts(1, rect(0, 0, 10, 20))
    swapped = re.sub(r"(J\d+,\d+),([\d.]+),([\d.]+)", r"\1,\3,\2", lines)
    gdf = parse(doc("5,0.02,P,,面,,,,@\n", swapped))
    assert gdf.crs.to_epsg() == 4528
    assert gdf.geometry.iloc[0].bounds == pytest.approx((E0, N0, E0 + 10, N0 + 20))
    assert "swapped" in gdf.attrs["boundary_txt"]["warnings"][0]


# -------------------------------------------------------------------- errors


def _error(text, exc=SchemaError):
    with pytest.raises(exc) as info:
        parse(text)
    return str(info.value)


def test_bad_point_line_names_parcel_and_line():
    ring = pts(1, rect(0, 0, 10, 10)).splitlines()
    ring[2] = "J3,1,3597010.000,4049x010.000"
    text = doc("5,0.01,P01,,面,,,,@\n", "\n".join(ring) + "\n")
    message = _error(text)
    assert "line 15" in message and "'P01'" in message and "4049x010.000" in message
    assert "expected 'name,ring,X,Y' with numbers" in message


def test_too_few_points_names_parcel_and_line():
    text = doc(
        "5,0.01,P01,,面,,,,@\n",
        pts(1, rect(0, 0, 10, 10)),
        "3,0.01,,,面,,,,@\n",
        "J1,1,3597000,40492000\nJ2,1,3597010,40492000\nJ1,1,3597000,40492000\n",
    )
    message = _error(text)
    assert "line 19" in message and "parcel #2" in message and "fewer than 3 distinct" in message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("x5,0.01,P01,,面,,,,@", "point count"),
        ("5,abc,P01,,面,,,,@", "the area"),
        ("5,0.01公里,P01,,面,,,,@", "the area"),
    ],
)
def test_bad_header_names_parcel_and_line(header, expected):
    message = _error(doc(header + "\n", pts(1, rect(0, 0, 10, 10))))
    assert "line 12" in message and "P01" in message and expected in message


def test_structural_errors():
    square = pts(1, rect(0, 0, 10, 10))
    assert "line 12" in _error(doc(square))  # points before any header
    assert "no parcel found" in _error(ATTRS.format(zone="40"))
    assert "no parcel found" in _error("")
    message = _error(doc("5,0.01,P01,,面,,,,@\n", "5,0.01,P02,,面,,,,@\n", square))
    assert "line 12" in message and "'P01'" in message and "no point lines" in message
    line = [(0, 0), (5, 5), (10, 10)]
    message = _error(doc("4,0,P03,,面,,,,@\n", pts(1, line)))
    assert "line 13" in message and "'P03'" in message and "no area" in message
    assert "line 1:" in _error("hello\n[地块坐标]\n")


def test_unreadable_files(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_boundary_txt(tmp_path / "missing.txt")
    gbk = write(tmp_path, doc("5,0.01,甲,,面,,,,@\n", pts(1, rect(0, 0, 10, 10))), encoding="gbk")
    with pytest.raises(InputFileError, match=r"not text in utf-8.*encoding="):
        read_boundary_txt(gbk, encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown encoding"):
        read_boundary_txt(gbk, encoding="klingon")
    assert read_boundary_txt(gbk, encoding="gbk").loc[1, "parcel_id"] == "甲"


# ------------------------------------------------------------------- fuzzing

VALID = doc(
    "10,0.9400,P01,甲地块,面,H50,工业,0601,@\n",
    pts(1, rect(0, 0, 100, 100)),
    pts(2, rect(30, 30, 50, 60), start=5),
    "5,0.2000,P02,乙,面,,,,@\n",
    pts(1, rect(200, 0, 250, 40)),
)
_NOISE = st.text(
    alphabet=st.sampled_from(list("0123456789.,-+@[]=，eE J面线\ufeff\t\r")), max_size=6
)


@st.composite
def mutated_files(draw):
    lines = VALID.split("\n")
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "garble", "insert", "swap"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "garble":
            lines[i] = draw(st.text(max_size=30) | _NOISE)
        elif op == "insert":
            j = draw(st.integers(0, len(lines[i])))
            noise = draw(_NOISE | st.text(min_size=1, max_size=3))
            lines[i] = lines[i][:j] + noise + lines[i][j:]
        else:
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
    return "\n".join(lines)


def _parses_or_raises_landgis_error(text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gdf = parse_boundary_txt(text)
        except LandgisError:
            return
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.geometry.is_valid.all()
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_fuzz_any_text(text):
    _parses_or_raises_landgis_error(text)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_files())
def test_fuzz_mutated_valid_file(text):
    _parses_or_raises_landgis_error(text)


# -------------------------------------------------------------------- writer


def _local(geom):
    return shapely.affinity.translate(geom, E0, N0)


@pytest.fixture
def parcels():
    outer = box(0, 0, 100.1234, 100)
    with_hole = Polygon(outer.exterior.coords, [box(30, 30, 50, 60.5).exterior.coords])
    multipart = MultiPolygon(
        [
            Polygon(box(200, 0, 300, 100).exterior.coords, [box(220, 20, 280, 80).exterior]),
            box(240, 40, 260, 60),  # an island in the hole
            box(400, 0, 420, 10),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["P01", "P02", "P03"],
            "parcel_name": ["甲地块", "乙地块", "丙"],
            "map_sheet": ["H50", "", None],
            "use": ["工业用地", "", ""],
            "land_class": ["0601", "", "0602"],
        },
        geometry=[_local(with_hole), _local(multipart), _local(box(500, 0, 510.5, 7.25))],
        crs=4528,
    )


def test_writer_round_trip(tmp_path, parcels):
    path = write_boundary_txt(parcels, tmp_path / "out.txt")
    raw = path.read_bytes()
    assert raw.startswith("[属性描述]\r\n格式版本号=1.01版本\r\n".encode())
    assert b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("utf-8")
    for line in (
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "带号=40",
        "精度=0.001",
        "转换参数=,,,,,,",
    ):
        assert f"\r\n{line}\r\n" in text
    # P01: 100.1234 × 100 − 20 × 30.5 = 9402.34 m² → 0.9402 ha; 5 + 5 points
    assert "\r\n10,0.9402,P01,甲地块,面,H50,工业用地,0601,@\r\n" in text
    assert "\r\nJ1,1,3597000.000,40492100.123\r\n" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read_boundary_txt(path)
    assert back.crs.to_epsg() == 4528
    for column in ("parcel_id", "parcel_name", "use", "land_class"):
        assert back[column].tolist() == parcels[column].tolist()
    assert back["map_sheet"].tolist() == ["H50", "", ""]
    for a, b in zip(back.geometry, parcels.geometry, strict=True):
        assert a.geom_type == b.geom_type
        assert shapely.equals_exact(a.normalize(), b.normalize(), tolerance=1e-3)
    assert not back["area_mismatch"].any()
    assert (back["header_area"] == (parcels.area / 1e4).round(4).to_numpy()).all()


def test_writer_from_other_crs_and_zone(tmp_path, parcels):
    no_prefix = parcels.set_geometry(parcels.translate(-40e6, 0)).set_crs(4549, allow_override=True)
    back = read_boundary_txt(write_boundary_txt(no_prefix, tmp_path / "a.txt"))
    assert back.crs.to_epsg() == 4528  # written with the prefix
    assert back.geom_equals_exact(parcels.geometry.set_axis(back.index), 1e-3).all()

    lonlat = parcels.to_crs(4490)
    with pytest.raises(CRSError, match=r"zone="):
        write_boundary_txt(lonlat, tmp_path / "b.txt")
    back = read_boundary_txt(write_boundary_txt(lonlat, tmp_path / "b.txt", zone=40))
    assert back.crs.to_epsg() == 4528
    assert back["area_m2"].to_numpy() == pytest.approx(parcels.area.to_numpy(), rel=1e-5)

    bare = parcels.set_crs(None, allow_override=True)
    back = read_boundary_txt(write_boundary_txt(bare, tmp_path / "c.txt", zone=40))
    assert back.crs.to_epsg() == 4528


def test_writer_gbk_header_and_precision(tmp_path, parcels):
    path = write_boundary_txt(
        parcels,
        tmp_path / "gbk.txt",
        encoding="gbk",
        header={"数据产生单位": "某国土所"},
        precision=2,
    )
    text = path.read_bytes().decode("gbk")
    assert "\r\n数据产生单位=某国土所\r\n" in text and "\r\n精度=0.01\r\n" in text
    assert "\r\nJ1,1,3597000.00,40492100.12\r\n" in text
    back = read_boundary_txt(path)
    assert back.attrs["boundary_txt"]["encoding"] == "gb18030"
    assert back["parcel_name"].tolist() == ["甲地块", "乙地块", "丙"]


def test_writer_errors(tmp_path, parcels):
    bad = parcels.copy()
    bad.loc[1, "parcel_name"] = "厂房,仓库"
    with pytest.raises(SchemaError, match=r"'parcel_name' in row 2"):
        write_boundary_txt(bad, tmp_path / "x.txt")
    with pytest.raises(SchemaError, match="带号"):
        write_boundary_txt(parcels, tmp_path / "x.txt", header={"带号": "39"})
    lines = parcels.set_geometry(parcels.boundary)
    with pytest.raises(GeometryError, match="rows 1, 2, 3"):
        write_boundary_txt(lines, tmp_path / "x.txt")
    with pytest.raises(GeometryError, match="empty"):
        write_boundary_txt(parcels.iloc[:0], tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def _cut_off_delivery(tmp_path):
    """Three parcels; the middle one announces 12 points and 0.4180 ha, but the
    delivery holds only its first 5 lines: a 58 × 58 m square, 0.3364 ha."""
    text = doc(
        "5,0.0400,ZD15B6,华达一号,面,,工业用地,0601,@\n",
        pts(1, rect(0, 0, 20, 20)),
        "12,0.4180,ZD15B7,华达二号,面,,工业用地,0601,@\n",
        pts(1, rect(100, 0, 158, 58)),
        "5,0.0100,ZD15B8,朱庄租地,面,,,,@\n",
        pts(1, rect(300, 0, 310, 10)),
    )
    return write(tmp_path, text, encoding="gbk")


def test_a_cut_off_delivery_is_refused_naming_parcel_and_line(tmp_path):
    path = _cut_off_delivery(tmp_path)
    with pytest.raises(SchemaError) as caught:
        read_boundary_txt(path)
    message = str(caught.value)
    assert f"{path}, line 18: parcel 'ZD15B7' announces 12 points but only 5 follow" in message
    assert "(the last on line 23)" in message and "--lenient" in message

    with pytest.warns(LandgisWarning, match=r"parcel 'ZD15B7' announces 12 points.*skipped"):
        parcels = read_boundary_txt(path, strict=False)
    assert parcels["parcel_id"].tolist() == ["ZD15B6", "ZD15B8"]
    assert parcels["area_m2"].tolist() == pytest.approx([400.0, 100.0])


def test_a_cut_off_delivery_through_convert(tmp_path):
    from click.testing import CliRunner

    from landgis.cli import main

    path = _cut_off_delivery(tmp_path)
    target = tmp_path / "out.gpkg"
    refused = CliRunner().invoke(main, ["convert", str(path), str(target)])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "parcel 'ZD15B7' announces 12 points" in refused.output
    assert not target.exists()
    lenient = CliRunner().invoke(main, ["convert", str(path), str(target), "--lenient"])
    assert lenient.exit_code == 0, lenient.output
    assert gpd.read_file(target)["parcel_id"].tolist() == ["ZD15B6", "ZD15B8"]
