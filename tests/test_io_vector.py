"""Readers: formats, aliases, and every error a user can cause (messages asserted)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Polygon

import landgis
from landgis.errors import CRSError, GeometryError, InputFileError, SchemaError
from tests.conftest import CRS, X0, Y0, footprints_frame, parcels_frame, rect


@pytest.fixture(params=["gpkg", "geojson", "shp"])
def parcel_file(request, tmp_path):
    """The same Chinese-named parcel layer in each common format."""
    frame = gpd.GeoDataFrame(
        {
            "宗地代码": ["A1", "A2"],
            "权利人": ["华达", "朱庄村"],
            "取得方式": ["征用", "租入"],
            "geometry": [rect(0, 0, 10, 10), rect(10, 0, 20, 10)],
        },
        crs=CRS,
    )
    path = tmp_path / f"parcels.{request.param}"
    # Shapefile field names hold 10 bytes: Chinese names fit only in GBK (as in real files).
    extra = {"encoding": "gbk"} if request.param == "shp" else {}
    frame.to_file(path, engine="pyogrio", **extra)
    return path


def test_reads_every_format_with_chinese_fields(parcel_file):
    parcels = landgis.read_parcels(parcel_file)
    assert list(parcels[["parcel_id", "tenure", "holder"]].itertuples(index=False)) == [
        ("A1", "requisitioned", "华达"),
        ("A2", "leased_in", "朱庄村"),
    ]
    assert parcels.crs.to_epsg() == 4528
    assert parcels.attrs["landgis"]["columns"]["parcel_id"] == "parcel_id"


def test_latin_aliases_are_case_insensitive():
    frame = gpd.GeoDataFrame(
        {"zddm": ["1"], "QLR": ["甲"], "qdfs": ["代征"], "geometry": [rect(0, 0, 1, 1)]}, crs=CRS
    )
    parcels = landgis.read_parcels(frame)
    assert parcels.loc[1, "tenure"] == "proxy_requisitioned"
    assert parcels.loc[1, "holder"] == "甲"


def test_user_aliases_from_dict_toml_and_yaml(tmp_path):
    frame = gpd.GeoDataFrame(
        {"DKBH": ["7"], "DWMC": ["甲"], "LX": ["划拨"], "geometry": [rect(0, 0, 1, 1)]}, crs=CRS
    )
    columns = {"DKBH": "parcel_id", "DWMC": "holder", "LX": "tenure"}
    by_dict = landgis.read_parcels(frame, columns=columns, tenure_values={"划拨": "requisitioned"})
    toml = tmp_path / "aliases.toml"
    toml.write_text(
        '[columns]\nDKBH = "parcel_id"\nDWMC = "holder"\nLX = "tenure"\n'
        '[tenure]\n"划拨" = "requisitioned"\n',
        encoding="utf-8",
    )
    yaml = tmp_path / "aliases.yaml"
    yaml.write_text(
        "columns:\n  DKBH: parcel_id\n  DWMC: holder\n  LX: tenure\n"
        "tenure:\n  划拨: requisitioned\n",
        encoding="utf-8",
    )
    for parcels in (
        by_dict,
        landgis.read_parcels(frame, aliases=toml),
        landgis.read_parcels(frame, aliases=yaml),
    ):
        assert parcels.loc[1, ["parcel_id", "holder", "tenure"]].tolist() == [
            "7",
            "甲",
            "requisitioned",
        ]


def test_user_alias_wins_over_default():
    # Both 权利人 and 使用单位 exist; the user says the holder is 使用单位.
    frame = gpd.GeoDataFrame(
        {
            "宗地代码": ["1"],
            "权利人": ["村集体"],
            "使用单位": ["甲"],
            "取得方式": ["租出"],
            "geometry": [rect(0, 0, 1, 1)],
        },
        crs=CRS,
    )
    parcels = landgis.read_parcels(frame, columns={"使用单位": "holder"})
    assert parcels.loc[1, "holder"] == "甲"


def test_missing_column_names_file_column_and_existing_columns(tmp_path):
    frame = gpd.GeoDataFrame(
        {"宗地代码": ["1"], "取得方式": ["征用"], "备注": ["x"], "geometry": [rect(0, 0, 1, 1)]},
        crs=CRS,
    )
    path = tmp_path / "红线.gpkg"
    frame.to_file(path)
    with pytest.raises(SchemaError) as exc:
        landgis.read_parcels(path)
    message = str(exc.value)
    assert str(path) in message
    assert "'holder'" in message
    assert "备注" in message and "宗地代码" in message
    assert "columns=" in message  # the fix


def test_ambiguous_columns_ask_which():
    frame = gpd.GeoDataFrame(
        {
            "宗地代码": ["1"],
            "权利人": ["甲"],
            "QLR": ["乙"],
            "取得方式": ["征用"],
            "geometry": [rect(0, 0, 1, 1)],
        },
        crs=CRS,
    )
    with pytest.raises(SchemaError, match=r"could all be 'holder'"):
        landgis.read_parcels(frame)


def test_unknown_tenure_names_value_row_and_fix():
    frame = parcels_frame(
        [("1", "征用", "甲", rect(0, 0, 1, 1)), ("2", "划拨", "乙", rect(1, 0, 2, 1))]
    )
    with pytest.raises(SchemaError) as exc:
        landgis.read_parcels(frame)
    message = str(exc.value)
    assert "划拨" in message and "(2 (row 2))" in message and "tenure_values=" in message


def test_duplicate_parcel_id():
    frame = parcels_frame(
        [
            ("7", "征用", "甲", rect(0, 0, 1, 1)),
            ("8", "征用", "甲", rect(1, 0, 2, 1)),
            ("7", "租出", "乙", rect(2, 0, 3, 1)),
        ]
    )
    with pytest.raises(SchemaError, match=r"parcel_id is not unique: 7 .*rows 1, 3"):
        landgis.read_parcels(frame)


def test_integer_ids_from_a_dbf_are_not_floats():
    frame = parcels_frame([(12.0, "征用", "甲", rect(0, 0, 1, 1))])
    assert landgis.read_parcels(frame).loc[1, "parcel_id"] == "12"


def test_authorized_parcel_without_holder():
    frame = parcels_frame(
        [("1", "征用", None, rect(0, 0, 1, 1)), ("2", "租入", None, rect(1, 0, 2, 1))]
    )  # lessor unknown: allowed
    with pytest.raises(SchemaError, match=r"'holder' is empty for authorized parcels 1;"):
        landgis.read_parcels(frame)


def test_non_polygon_geometry_names_rows():
    frame = parcels_frame(
        [
            ("1", "征用", "甲", rect(0, 0, 1, 1)),
            ("ZD15B2", "征用", "甲", LineString([(X0, Y0), (X0 + 5, Y0)])),
            ("ZD15B3", "征用", "甲", shapely.Point(X0, Y0)),
        ]
    )
    named = r"Linestring, Point, not polygons, in ZD15B2 \(row 2\), ZD15B3 \(row 3\)"
    with pytest.raises(GeometryError, match=named):
        landgis.read_parcels(frame)


def test_layer_without_crs(tmp_path):
    # Gauss-Krüger metres without the zone prefix do not tell the zone: the user must say.
    box = shapely.box(492_000, 3_596_000, 492_010, 3_596_010)
    local = parcels_frame([("1", "征用", "甲", box)], crs=None)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*source_crs="):
        landgis.read_parcels(local)
    assert landgis.read_parcels(local, source_crs=4549).crs.to_epsg() == 4549
    # Eastings with the zone prefix tell the zone: assumed, with a warning.
    prefixed = parcels_frame([("1", "征用", "甲", rect(0, 0, 1, 1))], crs=None)
    with pytest.warns(landgis.LandgisWarning, match=r"EPSG:4528 assumed because eastings carry"):
        assert landgis.read_parcels(prefixed).crs.to_epsg() == 4528
    degrees = parcels_frame(
        [("1", "征用", "甲", shapely.box(119.9, 32.4, 119.91, 32.41))], crs=None
    )
    with pytest.warns(landgis.LandgisWarning, match=r"EPSG:4490 assumed"):
        assert landgis.read_parcels(degrees).crs.to_epsg() == 4490


def test_degrees_given_a_projected_crs_are_refused():
    frame = parcels_frame([("1", "征用", "甲", shapely.box(119.9, 32.4, 119.91, 32.41))], crs=None)
    with pytest.raises(CRSError, match=r"look like degrees"):
        landgis.read_parcels(frame, source_crs=4528)


def test_swapped_axes_are_refused():
    swapped = shapely.box(3_596_000, 40_492_000, 3_596_100, 40_492_100)  # northing first
    for crs in (None, 4528):
        frame = parcels_frame([("1", "征用", "甲", swapped)], crs=crs)
        with pytest.raises(CRSError, match=r"axes are swapped"):
            landgis.read_parcels(frame)


def test_invalid_geometry_is_repaired_and_counted():
    bowtie = Polygon([(X0, Y0), (X0 + 2, Y0 + 2), (X0 + 2, Y0), (X0, Y0 + 2)])
    frame = parcels_frame([("1", "征用", "甲", bowtie)])
    parcels = landgis.read_parcels(frame)
    assert parcels.attrs["landgis"]["repaired"] == 1
    assert parcels.geometry.is_valid.all()
    assert parcels.geometry.area.iloc[0] == pytest.approx(2.0)  # both lobes kept


def test_collapsed_and_empty_geometries_are_dropped_with_a_warning():
    sliver = Polygon([(X0, Y0), (X0 + 1, Y0), (X0 + 2, Y0)])
    frame = parcels_frame(
        [
            ("1", "征用", "甲", rect(0, 0, 1, 1)),
            ("2", "征用", "甲", sliver),
            ("3", "征用", "甲", None),
        ]
    )
    with pytest.warns(landgis.LandgisWarning, match="rows"):
        parcels = landgis.read_parcels(frame)
    assert parcels["parcel_id"].tolist() == ["1"]
    assert parcels.attrs["landgis"]["dropped_empty"] == 1
    assert parcels.attrs["landgis"]["dropped_collapsed"] == 1


def test_z_coordinates_are_dropped():
    frame = parcels_frame([("1", "征用", "甲", shapely.force_3d(rect(0, 0, 1, 1), 5.0))])
    parcels = landgis.read_parcels(frame)
    assert not parcels.geometry.has_z.any()
    assert parcels.attrs["landgis"]["dropped_z"] == 1


def test_empty_layer():
    frame = parcels_frame([("1", "征用", "甲", rect(0, 0, 1, 1))]).iloc[:0]
    with pytest.raises(GeometryError, match="empty"):
        landgis.read_parcels(frame)


def test_missing_file_and_bad_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        landgis.read_parcels(tmp_path / "nope.gpkg")
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputFileError, match=r"bad.gpkg: GDAL cannot open"):
        landgis.read_parcels(bad)


def test_footprints_need_users_and_get_ids():
    frame = gpd.GeoDataFrame(
        {"使用人": ["甲", "乙"], "geometry": [rect(0, 0, 1, 1), rect(1, 0, 2, 1)]}, crs=CRS
    )
    fps = landgis.read_footprints(frame)
    assert fps["footprint_id"].tolist() == ["F1", "F2"]
    frame.loc[1, "使用人"] = " "
    with pytest.raises(SchemaError, match=r"'user' is empty in F2 \(row 2\)"):
        landgis.read_footprints(frame)


def test_reprojection_to_an_explicit_crs():
    frame = footprints_frame([("F1", "甲", rect(0, 0, 10, 10))]).to_crs(4490)
    fps = landgis.read_footprints(frame, crs=4528)
    assert fps.crs.to_epsg() == 4528
    assert fps.geometry.area.iloc[0] == pytest.approx(100.0, rel=1e-6)


def test_planning_and_admin_readers():
    zones = gpd.GeoDataFrame({"规划分区": ["现代农业园"], "geometry": [rect(0, 0, 5, 5)]}, crs=CRS)
    admin = gpd.GeoDataFrame(
        {"街道": ["城东街道"], "村社区": ["朱庄村"], "geometry": [rect(0, 0, 5, 5)]}, crs=CRS
    )
    assert landgis.read_planning(zones).loc[1, "zone"] == "现代农业园"
    assert landgis.read_admin(admin).loc[1, ["street", "village"]].tolist() == [
        "城东街道",
        "朱庄村",
    ]


def test_alias_file_errors(tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text('[columns]\nX = "owner"\n', encoding="utf-8")
    with pytest.raises(landgis.ConfigError, match=r"'owner', which is not a landgis column"):
        landgis.read_parcels(parcels_frame([("1", "征用", "甲", rect(0, 0, 1, 1))]), aliases=bad)
    bad.write_text("[colums]\n", encoding="utf-8")
    with pytest.raises(landgis.ConfigError, match=r"unknown table\(s\) \['colums'\]"):
        landgis.read_parcels(parcels_frame([("1", "征用", "甲", rect(0, 0, 1, 1))]), aliases=bad)


def test_no_warnings_on_clean_input(two_parcels):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        landgis.read_parcels(two_parcels)


def _gbk_shapefile(folder, *, cpg: bool):
    """A Shapefile whose DBF holds GBK text, as old Chinese registers do."""
    frame = gpd.GeoDataFrame(
        {
            "ZDDM": ["1", "2"],
            "QLR": ["华达机械", "朱庄村"],
            "QDFS": ["征用", "租入"],
            "geometry": [rect(0, 0, 10, 10), rect(10, 0, 20, 10)],
        },
        crs=CRS,
    )
    path = folder / "红线.shp"
    frame.to_file(path, engine="pyogrio", encoding="gbk")
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_reads_with_correct_names(tmp_path, cpg):
    path = _gbk_shapefile(tmp_path, cpg=cpg)
    assert not path.with_suffix(".cpg").exists() or cpg
    parcels = landgis.read_parcels(path)
    assert parcels["holder"].tolist() == ["华达机械", "朱庄村"]
    assert parcels["tenure"].tolist() == ["requisitioned", "leased_in"]
    # An explicit encoding is honoured (and ignored for formats that are UTF-8 anyway).
    assert landgis.read_parcels(path, encoding="gbk")["holder"].tolist() == ["华达机械", "朱庄村"]
    gpkg = tmp_path / "p.gpkg"
    parcels.to_file(gpkg)
    assert landgis.read_parcels(gpkg, encoding="gbk")["holder"].tolist() == ["华达机械", "朱庄村"]


def test_multi_layer_file_needs_a_layer_name(tmp_path):
    path = tmp_path / "park.gpkg"
    old = parcels_frame([("OLD", "征用", "甲", rect(0, 0, 1, 1))])
    new = parcels_frame([("NEW", "征用", "甲", rect(0, 0, 1, 1))])
    old.to_file(path, layer="parcels_2019")
    new.to_file(path, layer="parcels_2024")
    with pytest.raises(InputFileError, match=r"holds 2 layers \(parcels_2019, parcels_2024\)"):
        landgis.read_parcels(path)
    assert landgis.read_parcels(path, layer="parcels_2024")["parcel_id"].tolist() == ["NEW"]
    footprints_frame([("F", "甲", rect(0, 0, 1, 1))]).to_file(path, layer="footprints")
    new.to_file(path, layer="parcels")  # a layer named like the kind is picked
    assert landgis.read_parcels(path)["parcel_id"].tolist() == ["NEW"]
    assert landgis.read_footprints(path)["footprint_id"].tolist() == ["F"]


def test_zipped_shapefile_through_gdal_path(tmp_path):
    import zipfile

    _gbk_shapefile(tmp_path, cpg=True)
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("红线.*"):
            zf.write(part, part.name)
    parcels = landgis.read_parcels(f"zip://{archive}!红线.shp")
    assert parcels["holder"].tolist() == ["华达机械", "朱庄村"]


def test_a_table_is_not_a_layer(tmp_path):
    table = tmp_path / "register.csv"
    table.write_text("宗地代码,权利人,取得方式\n1,甲,征用\n", encoding="utf-8")
    with pytest.raises(GeometryError, match=r"register.csv: has no geometry column"):
        landgis.read_parcels(table)


def test_rows_named_as_in_the_file_after_empty_rows(tmp_path):
    frame = parcels_frame(
        [
            ("1", "征用", "甲", None),
            ("2", "征用", "甲", rect(0, 0, 1, 1)),
            ("3", "征用", "甲", rect(1, 0, 2, 1)),
            ("4", "划拨", "乙", rect(2, 0, 3, 1)),
        ]
    )
    with pytest.warns(landgis.LandgisWarning), pytest.raises(SchemaError) as exc:
        landgis.read_parcels(frame)
    assert "(4 (row 4))" in str(exc.value) and "'requisitioned'} or" in str(exc.value)


def test_metres_labelled_as_degrees_are_caught():
    # A GeoJSON without "crs" member is read as WGS84 even when it holds GK metres.
    frame = parcels_frame([("1", "征用", "甲", rect(0, 0, 10, 10))], crs=4326)
    with pytest.raises(CRSError, match=r"are not degrees.*source_crs=4528"):
        landgis.read_parcels(frame)
    fixed = landgis.read_parcels(frame, source_crs=4528)
    assert fixed.crs.to_epsg() == 4528 and fixed.geometry.area.iloc[0] == pytest.approx(100)


def test_degrees_without_prj_get_through_with_source_crs():
    frame = parcels_frame(
        [("1", "征用", "甲", shapely.box(119.9, 32.4, 119.901, 32.401))], crs=None
    )
    parcels = landgis.read_parcels(frame, source_crs=4490)
    assert parcels.crs.to_epsg() == 4490
    audit = landgis.audit(
        frame,
        footprints_frame([("F", "甲", shapely.box(119.9, 32.4, 119.9005, 32.4005))], crs=None),
        source_crs=4490,
    )
    assert audit.crs.to_epsg() == 4528
