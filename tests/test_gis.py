"""File Geodatabase with Chinese aliases, and Shapefiles with the 10-byte field mapping."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest
import shapely

import landgis
from landgis.present.gis import (
    GDB_RESERVED,
    SHAPEFILE_FIELDS,
    field_table,
    gdb_field_names,
    shapefile_field_names,
    write_gdb,
    write_shapefiles,
)
from landgis.present.qgis import FIELD_ALIASES


@pytest.fixture(scope="module")
def sample():
    audit = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )
    layers = {
        "parcels": audit.parcels,
        "footprints": audit.footprints,
        "planning": audit.planning,
        "admin": audit.admin,
    }
    return audit, layers


def _aliases(path, layer) -> dict[str, str]:
    with pyogrio.open_arrow(path, layer=layer, use_pyarrow=True) as (_, reader):
        return {
            f.name: (f.metadata or {}).get(b"GDAL:OGR:alternative_name", b"").decode()
            for f in reader.schema
        }


def test_file_geodatabase_with_the_layers_and_chinese_aliases(sample, tmp_path):
    audit, layers = sample
    assert pyogrio.list_drivers(write=True).get("OpenFileGDB") is not None
    path = write_gdb(audit.findings, tmp_path / "findings.gdb", layers=layers)
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == sorted(["findings", *layers])
    back = pyogrio.read_dataframe(path, layer="findings")
    assert len(back) == len(audit.findings)
    assert back.crs == audit.findings.crs
    assert "group_" in back.columns and "group" not in back.columns
    assert back["holder"].tolist() == audit.findings["holder"].tolist()
    area = shapely.area(back.geometry.values)
    assert area == pytest.approx(shapely.area(audit.findings.geometry.values), abs=1e-3)
    aliases = _aliases(path, "findings")
    assert aliases["finding_id"] == "编号"
    assert aliases["category_label"] == "问题类别"
    assert aliases["group_"] == "责任工作组"
    assert aliases["area_mu"] == "面积（亩）"
    assert _aliases(path, "parcels")["tenure"] == "取得方式"
    assert _aliases(path, "footprints")["user"] == "使用人"
    # Written again: replaced as a whole.
    write_gdb(audit.findings.head(2), path)
    assert len(pyogrio.read_dataframe(path, layer="findings")) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["findings.gdb"]


def test_geodatabase_refuses_what_is_not_one(sample, tmp_path):
    audit, _ = sample
    with pytest.raises(landgis.InputFileError, match=r"\.gdb"):
        write_gdb(audit.findings, tmp_path / "findings")
    other = tmp_path / "data.gdb"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(landgis.InputFileError, match="not a File Geodatabase"):
        write_gdb(audit.findings, other)
    assert (other / "notes.txt").read_text() == "mine"


def test_shapefiles_utf8_with_cpg_and_documented_names(sample, tmp_path):
    audit, layers = sample
    folder = tmp_path / "shp"
    written = write_shapefiles(audit.findings, folder, layers=layers)
    assert set(written) == {"findings", *layers, "fields.csv"}
    for name in ("findings", *layers):
        assert (folder / f"{name}.cpg").read_text().strip().upper() == "UTF-8"
        assert (folder / f"{name}.prj").is_file()
        info = pyogrio.read_info(folder / f"{name}.shp")
        for field in info["fields"]:
            assert len(field.encode("utf-8")) <= 10 and field.isascii()
    back = pyogrio.read_dataframe(folder / "findings.shp")
    assert len(back) == len(audit.findings)
    mapping = shapefile_field_names(c for c in audit.findings.columns if c != "geometry")
    assert list(back.columns[:-1]) == list(mapping.values())
    assert back["CAT_LABEL"].tolist() == audit.findings["category_label"].tolist()  # Chinese intact
    assert back["WORK_GROUP"].tolist() == audit.findings["group"].tolist()
    assert back["AREA_MU"].to_numpy() == pytest.approx(audit.findings["area_mu"].to_numpy())
    table = pd.read_csv(folder / "fields.csv", encoding="utf-8-sig", dtype=str)
    row = table[(table["layer"] == "findings") & (table["field"] == "category_label")].iloc[0]
    assert (row["shapefile"], row["gdb"], row["alias"]) == (
        "CAT_LABEL",
        "category_label",
        "问题类别",
    )
    assert set(table["layer"]) == {"findings", *layers}


def test_shapefile_folder_is_replaced_only_when_it_is_ours(sample, tmp_path):
    audit, _ = sample
    folder = tmp_path / "shp"
    write_shapefiles(audit.findings, folder)
    write_shapefiles(audit.findings.head(1), folder)
    assert len(pyogrio.read_dataframe(folder / "findings.shp")) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["shp"]  # no temporary folder left
    foreign = tmp_path / "data"
    foreign.mkdir()
    (foreign / "parcels.shp").write_bytes(b"")
    with pytest.raises(landgis.InputFileError, match="holds other files"):
        write_shapefiles(audit.findings, foreign)


def test_field_name_mapping_is_short_unique_and_stable():
    assert all(len(v.encode()) <= 10 and v.isascii() for v in SHAPEFILE_FIELDS.values())
    assert len(set(SHAPEFILE_FIELDS.values())) == len(SHAPEFILE_FIELDS)
    names = shapefile_field_names(
        [
            "category_label",
            "CAT_LABEL",
            "宗地面积",
            "地块",
            "2024 area",
            "a-b c",
            "x" * 30,
            "x" * 31,
            "group",
        ]
    )
    assert names["category_label"] == "CAT_LABEL"  # the documented one wins
    assert names["group"] == "WORK_GROUP"
    assert names["2024 area"] == "F_2024_ARE"
    assert names["a-b c"] == "A_B_C"
    values = list(names.values())
    assert len(set(v.upper() for v in values)) == len(values)
    assert all(len(v.encode()) <= 10 and v.isascii() for v in values)
    assert gdb_field_names(["group", "order", "holder"]) == {
        "group": "group_",
        "order": "order_",
        "holder": "holder",
    }
    assert "GROUP" in GDB_RESERVED


def test_every_known_column_has_an_alias_and_a_mapping(sample):
    audit, layers = sample
    table = field_table({"findings": audit.findings, **layers})
    known = table[table["field"].isin(SHAPEFILE_FIELDS)]
    assert (known["alias"] != known["field"]).all()
    for column in audit.findings.columns.drop("geometry"):
        assert column in SHAPEFILE_FIELDS, f"add {column!r} to SHAPEFILE_FIELDS"
        assert column in FIELD_ALIASES, f"add {column!r} to FIELD_ALIASES"


def test_texts_a_dbf_cannot_hold_are_cut_with_a_warning(sample, tmp_path):
    audit, _ = sample
    findings = audit.findings.head(2).copy()
    findings.loc[findings.index[0], "holder"] = "华" * 100  # 300 bytes in UTF-8
    with pytest.warns(landgis.LandgisWarning, match=r"holder \(HOLDER\).*254 bytes"):
        write_shapefiles(findings, tmp_path / "shp")
    back = pyogrio.read_dataframe(tmp_path / "shp" / "findings.shp")
    assert back["HOLDER"][0] == "华" * 84
    write_gdb(findings, tmp_path / "findings.gdb")
    assert pyogrio.read_dataframe(tmp_path / "findings.gdb")["holder"][0] == "华" * 100


def test_an_interruption_between_the_renames_keeps_the_old_folder(tmp_path, monkeypatch):
    from landgis.present import gis as export

    target = tmp_path / "shp"
    target.mkdir()
    (target / "fields.csv").write_text("old")
    real = export.os.replace
    calls = []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old folder moved aside; now the new one would move in
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt), export._replaced_folder(target) as tmp:
        (tmp / "fields.csv").write_text("new")
    monkeypatch.setattr(export.os, "replace", real)
    assert (target / "fields.csv").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["shp"]  # nothing hidden left
