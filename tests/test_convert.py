"""Every format the audit reads, directly, and `landgis convert` between them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import landgis
from landgis.cli import main
from landgis.errors import CRSError, InputFileError, SchemaError
from tests.conftest import CRS, footprints_frame, rect
from tests.test_dxf import lwpolyline, square, write_dxf

REAL_TXT = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "polygon_txt_zhaoqing"

TXT = """[属性描述]
格式版本号=1.01版本
坐标系=2000国家大地坐标系
几度分带=3
投影类型=高斯克吕格
计量单位=米
带号=40
精度=0.001
[地块坐标]
5,1.0000,P01,华达厂区,面,,工业用地,0601,@
J1,1,3596000.000,40492000.000
J2,1,3596000.000,40492100.000
J3,1,3596100.000,40492100.000
J4,1,3596100.000,40492000.000
J1,1,3596000.000,40492000.000
"""


def test_gbk_shapefile_without_cpg_audits_with_correct_names(tmp_path):
    parcels = gpd.GeoDataFrame(
        {
            "宗地代码": ["P1", "P2"],
            "权利人": ["泰州华达精密机械有限公司", "朱庄村股份经济合作社"],
            "取得方式": ["征用", "租入"],
            "geometry": [rect(0, 0, 100, 100), rect(100, 0, 200, 100)],
        },
        crs=CRS,
    )
    path = tmp_path / "宗地.shp"
    parcels.to_file(path, engine="pyogrio", encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)  # as old registers come
    assert "泰州华达".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    footprints = footprints_frame([("F1", "泰州华达精密机械有限公司", rect(0, 0, 120, 100))])
    footprints.to_file(tmp_path / "f.gpkg")
    result = CliRunner().invoke(
        main, ["audit", str(path), str(tmp_path / "f.gpkg"), "-o", str(tmp_path / "out"), "-q"]
    )
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(tmp_path / "out" / "findings.csv", encoding="utf-8-sig", dtype=str)
    assert set(csv["权利人/使用人"]) == {"泰州华达精密机械有限公司", "朱庄村股份经济合作社"}
    assert "少征多用" in set(csv["问题类别"])


def test_boundary_txt_is_read_directly_and_needs_the_register_columns(tmp_path):
    path = tmp_path / "红线.txt"
    path.write_text(TXT, encoding="gbk")
    frame = landgis.io.vector.read_geodata(path)
    assert frame["parcel_id"].tolist() == ["P01"] and frame.crs.to_epsg() == 4528
    with pytest.raises(SchemaError, match=r"required column 'tenure' not found"):
        landgis.read_parcels(path)
    parcels = landgis.read_parcels(
        path.as_posix(),
        columns={"use": "tenure", "parcel_name": "holder"},
        tenure_values={"工业用地": "requisitioned"},
    )
    assert parcels.loc[1, ["tenure", "holder"]].tolist() == ["requisitioned", "华达厂区"]


def test_dxf_needs_a_stated_crs(tmp_path):
    path = write_dxf(tmp_path / "红线.dxf", [lwpolyline("红线", square(0, 0, 10), closed=True)])
    with pytest.raises(CRSError, match="DXF drawing carries no CRS"):
        landgis.io.vector.read_geodata(path)
    frame = landgis.io.vector.read_geodata(path, source_crs=4528)
    assert frame["layer"].tolist() == ["红线"] and frame.area.iloc[0] == pytest.approx(100)


def test_convert_round_trip_txt_gpkg_shp_txt(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(TXT, encoding="utf-8")
    runner = CliRunner()
    for src, dst in (("a.txt", "a.gpkg"), ("a.gpkg", "a.geojson"), ("a.geojson", "b.txt")):
        result = runner.invoke(main, ["convert", str(tmp_path / src), str(tmp_path / dst)])
        assert result.exit_code == 0, result.output
    again = landgis.io.vector.read_geodata(tmp_path / "b.txt")
    first = landgis.io.vector.read_geodata(source)
    assert again.crs.equals(first.crs)
    assert shapely.equals_exact(again.geometry.iloc[0], first.geometry.iloc[0], 1e-3)
    assert again["parcel_id"].tolist() == ["P01"]


def test_convert_refuses_unknown_targets_and_overwriting_the_source(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(TXT, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"cannot write \.csv"):
        landgis.io.convert.convert(source, tmp_path / "a.csv")
    with pytest.raises(InputFileError, match="is the input itself"):
        landgis.io.convert.convert(source, source)


@pytest.mark.skipif(not REAL_TXT.is_dir(), reason="../shared/realdata absent")
def test_real_txt_converts_to_geopackage(tmp_path):
    target = landgis.io.convert.convert(REAL_TXT / "44120000567.txt", tmp_path / "r.gpkg")
    back = gpd.read_file(target)
    assert back.crs.to_epsg() == 4526 and len(back) == 1
