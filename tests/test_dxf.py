"""CAD red-line drawings (DXF) → polygons: hand-made drawings and a real survey drawing."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from landgis.errors import CRSError, GeometryError, InputFileError, LandgisWarning, SchemaError
from landgis.io.dxf import dxf_layers, read_dxf_polygons

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "kr_cad_dxf"
if not REAL.is_dir():
    REAL = Path("/work/shared/realdata/kr_cad_dxf")

# The real drawing's layer names, established by decoding the raw bytes as UTF-8
# (the header claims ANSI_949, GDAL's own reading gives "-00-寃쎄퀎_369-1 …").
PARCEL_LAYER = "-00-경계_369-1 369 매입(20240430)"  # boundary, lot 369-1/369, purchase
ROAD_LAYER = "-00-도시계획도로 현황측량경계"  # urban planning road, as-built survey boundary
OTHER_LAYERS = {"도로_아스콘", "도로_콘크리트", "도로_비포장", "도로_보도블럭", "기준점"}
MOJIBAKE = ("ì", "ë", "�", "寃", "룄")

CRS = 4528  # CGCS2000 3° GK zone 40 with zone prefix
X0, Y0 = 40_492_000.0, 3_596_000.0


# ------------------------------------------------------------ writing DXF by hand


def lwpolyline(layer, pts, *, handle=None, closed=False, markers=True):
    codes = ["0", "LWPOLYLINE"]
    codes += ["5", handle] if handle else []
    codes += ["100", "AcDbEntity"] if markers else []
    codes += ["8", layer]
    codes += ["100", "AcDbPolyline"] if markers else []
    codes += ["90", str(len(pts)), "70", "1" if closed else "0"]
    for x, y in pts:
        codes += ["10", repr(X0 + x), "20", repr(Y0 + y)]
    return codes


def line(layer, a, b, *, handle=None, markers=True):
    codes = ["0", "LINE"]
    codes += ["5", handle] if handle else []
    codes += ["100", "AcDbEntity"] if markers else []
    codes += ["8", layer]
    codes += ["100", "AcDbLine"] if markers else []
    codes += ["10", repr(X0 + a[0]), "20", repr(Y0 + a[1]), "30", "0.0"]
    codes += ["11", repr(X0 + b[0]), "21", repr(Y0 + b[1]), "31", "0.0"]
    return codes


def text(layer, at, value, *, handle=None):
    return [
        "0", "TEXT", "5", handle or "FF", "100", "AcDbEntity", "8", layer, "100", "AcDbText",
        "10", repr(X0 + at[0]), "20", repr(Y0 + at[1]), "30", "0.0", "40", "2.5", "1", value,
    ]  # fmt: skip


def write_dxf(path, entities, *, codepage="ANSI_936", version="AC1021", insunits=None, enc="utf-8"):
    codes = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", version]
    if codepage:
        codes += ["9", "$DWGCODEPAGE", "3", codepage]
    if insunits is not None:
        codes += ["9", "$INSUNITS", "70", str(insunits)]
    codes += ["0", "ENDSEC", "0", "SECTION", "2", "ENTITIES"]
    for e in entities:
        codes += e
    codes += ["0", "ENDSEC", "0", "EOF"]
    Path(path).write_bytes(("\n".join(codes) + "\n").encode(enc))
    return Path(path)


def square(x, y, size):
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]


@pytest.fixture
def drawing(tmp_path):
    """红线 layer: a closed square and a square left 1 mm open; 道路: 4 LINEs; 注记: text."""
    open_square = [*square(20, 0, 10), (20.001, 0.0)]  # back to the start but 1 mm short
    return write_dxf(
        tmp_path / "红线图.dxf",
        [
            lwpolyline("红线", square(0, 0, 10), handle="1A", closed=True),
            lwpolyline("红线", open_square, handle="1B"),
            line("道路", (50, 0), (60, 0), handle="2A"),
            line("道路", (60, 0), (60, 10), handle="2B"),
            line("道路", (60, 10), (50, 10), handle="2C"),
            line("道路", (50, 10), (50, 0), handle="2D"),
            line("注记", (0, -5), (30, -5), handle="3A"),
            text("注记", (5, 5), "宗地A-01", handle="3B"),
        ],
    )


# ----------------------------------------------------------------- hand-made files


def test_closed_and_nearly_closed_polylines(drawing):
    gdf = read_dxf_polygons(drawing, crs=CRS, layers=["红线"])
    assert list(gdf.columns) == [
        "layer", "entity", "entity_type", "closed_by_snap", "area_m2", "geometry",
    ]  # fmt: skip
    assert gdf.crs.to_epsg() == CRS
    assert gdf["layer"].tolist() == ["红线", "红线"]
    assert gdf["entity"].tolist() == ["1A", "1B"]
    assert gdf["entity_type"].tolist() == ["LWPOLYLINE", "LWPOLYLINE"]
    assert gdf["closed_by_snap"].tolist() == [False, True]
    assert gdf["area_m2"].round(6).tolist() == [100.0, 100.0]
    assert gdf.is_valid.all() and (gdf.geom_type == "Polygon").all()


def test_snap_too_small_leaves_the_gap_open(drawing, tmp_path):
    gdf = read_dxf_polygons(drawing, crs=CRS, layers="红线", snap=0.0001)
    assert gdf["entity"].tolist() == ["1A"]
    only_open = write_dxf(
        tmp_path / "gap.dxf", [lwpolyline("红线", [*square(0, 0, 10), (0.001, 0.0)], handle="9")]
    )
    assert read_dxf_polygons(only_open, crs=CRS)["closed_by_snap"].tolist() == [True]
    with pytest.raises(GeometryError, match=r"'红线'.*snap=0\.0001"):
        read_dxf_polygons(only_open, crs=CRS, snap=0.0001)


def test_square_of_four_lines(drawing):
    gdf = read_dxf_polygons(drawing, crs=CRS, layers=["道路"])
    assert len(gdf) == 1
    row = gdf.iloc[0]
    assert row["entity"] == "2A,2B,2C,2D"
    assert row["entity_type"] == "LINE"
    assert not row["closed_by_snap"]
    assert row["area_m2"] == pytest.approx(100.0)
    assert row.geometry.equals(shapely.box(X0 + 50, Y0, X0 + 60, Y0 + 10))


def test_lines_joined_across_small_gaps(tmp_path):
    path = write_dxf(
        tmp_path / "gaps.dxf",
        [
            line("L", (0, 0), (10, 0), handle="1"),
            line("L", (10.002, 0), (10, 10), handle="2"),  # 2 mm off the first LINE's end
            line("L", (10, 10), (0, 10), handle="3"),
            lwpolyline("L", [(0, 10), (0, 5), (0.0, 0.003)], handle="4"),  # open polyline
        ],
    )
    gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["entity"].tolist() == ["1,2,3,4"]
    assert gdf["entity_type"].tolist() == ["LINE+LWPOLYLINE"]
    assert gdf["closed_by_snap"].tolist() == [True]
    assert gdf.is_valid.all()
    assert gdf["area_m2"].iloc[0] == pytest.approx(100.0, abs=0.05)
    with pytest.raises(GeometryError):
        read_dxf_polygons(path, crs=CRS, snap=0.001)


def test_line_ending_on_another_splits_it_crossing_lines_do_not(tmp_path):
    path = write_dxf(
        tmp_path / "t.dxf",
        [
            *(line("两宗", a, b, handle=h) for a, b, h in [
                ((0, 0), (10, 0), "1"), ((10, 0), (10, 10), "2"),
                ((10, 10), (0, 10), "3"), ((0, 10), (0, 0), "4"),
                ((4, 0), (4, 10), "5"),  # the boundary between two parcels, a T at each end
            ]),
            line("交叉", (0, 0), (10, 10)),
            line("交叉", (0, 10), (10, 0)),
        ],
    )  # fmt: skip
    gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["layer"].tolist() == ["两宗", "两宗"]
    assert sorted(gdf["area_m2"].round(6)) == [40.0, 60.0]
    assert sorted(gdf["entity"]) == ["1,2,3,5", "1,3,4,5"]
    assert not gdf["closed_by_snap"].any()


def test_ring_inside_ring_is_a_hole(tmp_path):
    path = write_dxf(
        tmp_path / "hole.dxf",
        [
            lwpolyline("红线", square(0, 0, 100), handle="A", closed=True),
            lwpolyline("红线", square(10, 10, 20), handle="B", closed=True),  # hole
            lwpolyline("红线", square(15, 15, 5), handle="C", closed=True),  # island in the hole
            lwpolyline("其他", square(50, 50, 10), handle="D", closed=True),  # other layer
        ],
    )
    gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["entity"].tolist() == ["A,B", "C", "D"]
    assert gdf["layer"].tolist() == ["红线", "红线", "其他"]
    assert gdf["area_m2"].round(6).tolist() == [10000.0 - 400.0, 25.0, 100.0]
    outer = gdf.geometry.iloc[0]
    assert len(outer.interiors) == 1 and outer.is_valid
    # the other layer's square lies inside the red line, but layers do not nest
    assert len(gdf.geometry.iloc[2].interiors) == 0


def test_layer_filter_and_default_layers(drawing):
    default = read_dxf_polygons(drawing, crs=CRS)
    assert set(default["layer"]) == {"红线", "道路"}  # 注记 has only an open line and text
    only = read_dxf_polygons(drawing, crs=CRS, layers=["道路"])
    assert set(only["layer"]) == {"道路"}


def test_layer_names_match_case_insensitively(tmp_path):
    path = write_dxf(tmp_path / "c.dxf", [lwpolyline("Parcel", square(0, 0, 5), closed=True)])
    assert read_dxf_polygons(path, crs=CRS, layers="PARCEL")["layer"].tolist() == ["Parcel"]


def test_min_area_drops_small_outlines(tmp_path):
    path = write_dxf(
        tmp_path / "m.dxf",
        [
            lwpolyline("L", square(0, 0, 10), handle="1", closed=True),
            lwpolyline("L", square(20, 0, 1), handle="2", closed=True),
        ],
    )
    gdf = read_dxf_polygons(path, crs=CRS, min_area=5)
    assert gdf["entity"].tolist() == ["1"]
    assert gdf.attrs["landgis"]["dropped_small"] == 1


def test_bow_tie_is_repaired_and_counted(tmp_path):
    path = write_dxf(
        tmp_path / "bow.dxf", [lwpolyline("L", [(0, 0), (10, 10), (10, 0), (0, 10)], closed=True)]
    )
    with pytest.warns(LandgisWarning, match="repaired"):
        gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf.is_valid.all()
    assert gdf["area_m2"].iloc[0] == pytest.approx(50.0)  # both lobes kept
    assert gdf.attrs["landgis"]["repaired"] == 1


def test_outline_drawn_twice_counts_once(tmp_path):
    path = write_dxf(
        tmp_path / "dup.dxf",
        [
            lwpolyline("L", square(0, 0, 10), handle="1", closed=True),
            lwpolyline("L", square(0, 0, 10)[::-1], handle="2", closed=True),
        ],
    )
    with pytest.warns(LandgisWarning, match="drawn twice"):
        gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["entity"].tolist() == ["1"]
    assert gdf["area_m2"].iloc[0] == pytest.approx(100.0)  # no hole from the copy


def test_paper_space_is_ignored(tmp_path):
    in_paper = lwpolyline("L", square(20, 0, 10), handle="2", closed=True)
    in_paper[6:6] = ["67", "1"]  # group code 67 = 1: the entity lies in paper space
    path = write_dxf(
        tmp_path / "p.dxf",
        [lwpolyline("L", square(0, 0, 10), handle="1", closed=True), in_paper],
    )
    assert read_dxf_polygons(path, crs=CRS)["entity"].tolist() == ["1"]


def test_r12_drawing_without_handles_or_subclasses(tmp_path):
    path = write_dxf(
        tmp_path / "r12.dxf",
        [lwpolyline("L", square(0, 0, 10), closed=True, markers=False)],
        version="AC1009",
        codepage=None,
    )
    gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["entity"].tolist() == ["POLYLINE"]
    assert gdf["area_m2"].iloc[0] == pytest.approx(100.0)


# ------------------------------------------------------------------------ encoding


def test_utf8_drawing_with_a_gbk_header_reads_as_utf8(tmp_path):
    path = write_dxf(
        tmp_path / "u.dxf",
        [lwpolyline("规划红线", square(0, 0, 10), closed=True), text("规划红线", (1, 1), "宗地号")],
        codepage="ANSI_936",
    )
    assert read_dxf_polygons(path, crs=CRS)["layer"].tolist() == ["规划红线"]
    table = dxf_layers(path)
    assert table["layer"].tolist() == ["规划红线"]
    assert table["sample_text"].tolist() == ["宗地号"]
    assert "UTF-8" in table.attrs["landgis"]["encoding"]
    assert pyogrio.get_gdal_config_option("DXF_ENCODING") is None  # restored


def test_gbk_drawing_reads_in_its_header_code_page(tmp_path):
    path = write_dxf(
        tmp_path / "g.dxf",
        [lwpolyline("规划红线", square(0, 0, 10), closed=True)],
        codepage="ANSI_936",
        version="AC1015",
        enc="gbk",
    )
    assert read_dxf_polygons(path, crs=CRS)["layer"].tolist() == ["规划红线"]
    assert read_dxf_polygons(path, crs=CRS, encoding="gb18030")["layer"].tolist() == ["规划红线"]


def test_encoding_argument_wins(tmp_path):
    path = write_dxf(tmp_path / "e.dxf", [lwpolyline("红线", square(0, 0, 10), closed=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        garbled = read_dxf_polygons(path, crs=CRS, encoding="ANSI_949")["layer"].iloc[0]
    assert garbled != "红线"
    with pytest.raises(SchemaError, match="encoding"):
        read_dxf_polygons(path, crs=CRS, encoding="no-such-codec")


def test_unicode_escapes_in_layer_names(tmp_path):
    path = write_dxf(
        tmp_path / "esc.dxf",
        [lwpolyline("\\U+7EA2\\U+7EBF", square(0, 0, 10), closed=True)],
        version="AC1015",
    )
    assert read_dxf_polygons(path, crs=CRS)["layer"].tolist() == ["红线"]


def test_insunits_other_than_metres_warns(tmp_path):
    path = write_dxf(
        tmp_path / "mm.dxf", [lwpolyline("L", square(0, 0, 10), closed=True)], insunits=4
    )
    with pytest.warns(LandgisWarning, match=r"millimetres.*ignored"):
        gdf = read_dxf_polygons(path, crs=CRS)
    assert gdf["area_m2"].iloc[0] == pytest.approx(100.0)


# ------------------------------------------------------------------------- layers


def test_dxf_layers_table(drawing):
    table = dxf_layers(drawing).set_index("layer")
    assert table.index.tolist() == ["红线", "道路", "注记"]
    assert table.loc["红线", ["LWPOLYLINE", "closed", "nearly_closed", "open"]].tolist() == [
        2, 1, 1, 0,
    ]  # fmt: skip
    assert table.loc["红线", "min_gap_m"] == pytest.approx(0.001, abs=1e-6)
    assert table.loc["道路", ["LINE", "outlines"]].tolist() == [4, 1]
    assert table.loc["注记", ["entities", "LINE", "TEXT", "outlines"]].tolist() == [2, 1, 1, 0]
    assert table.loc["注记", "sample_text"] == "宗地A-01"
    assert dxf_layers(drawing, snap=0.0001).set_index("layer").loc["红线", "open"] == 1


# -------------------------------------------------------------------------- errors


def test_crs_is_required(drawing):
    with pytest.raises(CRSError, match="crs= is required"):
        read_dxf_polygons(drawing, crs=None)
    with pytest.raises(CRSError, match="not projected"):
        read_dxf_polygons(drawing, crs=4490)


def test_unknown_layer_lists_the_existing_ones(drawing):
    with pytest.raises(SchemaError, match="'宗地' does not exist") as err:
        read_dxf_polygons(drawing, crs=CRS, layers=["宗地"])
    for name in ("红线", "道路", "注记"):
        assert repr(name) in str(err.value)


def test_no_outline_names_layers_and_snap(drawing):
    with pytest.raises(GeometryError, match=r"'注记'.*snap=0\.01"):
        read_dxf_polygons(drawing, crs=CRS, layers=["注记"])


def test_missing_file_and_not_a_dxf(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.dxf"):
        read_dxf_polygons(tmp_path / "nope.dxf", crs=CRS)
    bogus = tmp_path / "bogus.dxf"
    bogus.write_text("宗地号,面积\nA,1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"bogus\.dxf.*not a DXF"):
        read_dxf_polygons(bogus, crs=CRS)
    dwg = tmp_path / "drawing.dwg"
    dwg.write_bytes(b"AC1032\x00\x00\x00\x00")
    with pytest.raises(InputFileError, match="DWG"):
        dxf_layers(dwg)


def test_bad_snap_and_min_area(drawing):
    with pytest.raises(SchemaError, match="snap"):
        read_dxf_polygons(drawing, crs=CRS, snap=-1)
    with pytest.raises(SchemaError, match="min_area"):
        read_dxf_polygons(drawing, crs=CRS, min_area=float("nan"))


# ---------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real():
    if not REAL.is_dir():
        pytest.skip("real-data folder kr_cad_dxf is absent")
    return {epsg: REAL / f"sample01_EPSG{epsg}.dxf" for epsg in (5174, 5187)}


def test_real_layer_names_decode_correctly(real):
    for path in real.values():
        table = dxf_layers(path)
        names = set(table["layer"])
        assert names == {PARCEL_LAYER, ROAD_LAYER, *OTHER_LAYERS}
        text = " ".join(names) + " ".join(table["sample_text"])
        assert not any(bad in text for bad in MOJIBAKE)
        parcel = table.set_index("layer").loc[PARCEL_LAYER]
        assert parcel["max_points"] == 233
        assert parcel["nearly_closed"] == 1 and parcel["min_gap_m"] < 0.001


def test_real_parcel_boundary_in_both_crs(real):
    parcels = {}
    for epsg, path in real.items():
        gdf = read_dxf_polygons(path, crs=epsg)
        assert set(gdf["layer"]) == {PARCEL_LAYER, ROAD_LAYER}  # the road layers stay open
        row = gdf[gdf["layer"] == PARCEL_LAYER]
        assert len(row) == 1
        assert row["closed_by_snap"].item()  # its ends are 1.7 µm apart
        geom = row.geometry.item()
        assert geom.geom_type == "Polygon" and geom.is_valid
        assert shapely.get_num_coordinates(geom) == 233
        parcels[epsg] = row
    moved = parcels[5174].to_crs(5187).geometry.item()
    target = parcels[5187].geometry.item()
    assert shapely.hausdorff_distance(moved, target) < 0.05
    assert moved.area == pytest.approx(target.area, rel=1e-6)
    # planar areas differ by the two projections' scale (the site is ~2.5° from
    # the central meridian of EPSG:5174, near that of EPSG:5187)
    assert parcels[5174]["area_m2"].item() == pytest.approx(1_082_475.4, abs=0.1)
    assert parcels[5187]["area_m2"].item() == pytest.approx(1_081_140.9, abs=0.1)


def test_real_parcel_needs_snap(real):
    gdf = read_dxf_polygons(real[5187], crs=5187, snap=0)
    assert gdf["layer"].tolist() == [ROAD_LAYER]  # its ends coincide exactly
    assert not gdf["closed_by_snap"].item()
    assert isinstance(gdf, gpd.GeoDataFrame)
