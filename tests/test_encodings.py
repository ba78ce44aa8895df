"""Shapefiles as offices write them: UTF-8 or GBK, with or without a (truthful) .cpg.

Every layer here is written by the tools offices use — GeoPandas/pyogrio and
GDAL's ``ogr2ogr`` — never by hand, and read back by landgis: the holders'
names, ids and tenures must come back exactly, and the encoding used must be
recorded (and noted where it contradicts the ``.cpg``).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings

import geopandas as gpd
import pytest

import landgis
from landgis.errors import LandgisWarning
from landgis.io.text import choose_encoding, dbf_encoding

NAMES = [
    "泰州华达精密机械有限公司",
    "朱庄村股份经济合作社",
    "泰州·绿源（食品）有限公司",
    "镕喆新材料科技Ⅲ期",
]
# GBK cannot hold these (outside the BMP, or Latin letters GBK lacks): UTF-8 files only.
UTF8_ONLY = ["𠮷祥物流（泰州）有限公司", "ÅSE Ltd. 江苏分公司"]
TENURE_ZH = {"requisitioned": "征用", "proxy_requisitioned": "代征", "leased_out": "租出",
             "leased_in": "租入"}  # fmt: skip
FIELDS = {
    "zh": {"parcel_id": "宗地代码", "holder": "权利人", "tenure": "取得方式", "street": "所属街道"},
    "ascii": {"parcel_id": "ZDDM", "holder": "QLR", "tenure": "QDFS", "street": "JD"},
}
# (encoding written, .cpg afterwards: "keep" what the writer wrote, None = deleted, or text)
VARIANTS = {
    "utf8-cpg": ("UTF-8", "keep"),
    "utf8-no-cpg": ("UTF-8", None),
    "gbk-no-cpg": ("CP936", None),
    "gbk-cpg": ("CP936", "keep"),
    "gbk-cpg-says-utf8": ("CP936", "UTF-8"),
}


def _frame(fields: str, tenures: str, utf8: bool) -> gpd.GeoDataFrame:
    parcels = landgis.read_parcels(landgis.get_path("parcels"))
    names = [*NAMES, *UTF8_ONLY] if utf8 else NAMES
    parcels["holder"] = [names[i % len(names)] for i in range(len(parcels))]
    if tenures == "zh":
        parcels["tenure"] = parcels["tenure"].map(TENURE_ZH)
    columns = FIELDS[fields]
    out = parcels[[*columns, "geometry"]].rename(columns=columns)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=parcels.crs)


def _write(frame, path, encoding: str, writer: str) -> None:
    if writer == "geopandas":
        frame.to_file(path, engine="pyogrio", encoding=encoding)
        return
    source = path.with_name("source.gpkg")
    frame.to_file(source, engine="pyogrio")
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", "-lco", f"ENCODING={encoding}", str(path),
         str(source)],
        check=True, capture_output=True,
    )  # fmt: skip


WRITERS = [
    "geopandas",
    pytest.param(
        "ogr2ogr",
        marks=pytest.mark.skipif(
            shutil.which("ogr2ogr") is None, reason="GDAL's ogr2ogr is not installed (gdal-bin)"
        ),
    ),
]


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("fields", ["zh", "ascii"])
@pytest.mark.parametrize("tenures", ["zh", "en"])
def test_shapefiles_as_written_read_exactly(tmp_path, writer, variant, fields, tenures):
    encoding, cpg = VARIANTS[variant]
    utf8 = encoding == "UTF-8"
    expected = _frame(fields, tenures, utf8)
    path = tmp_path / "宗地.shp"
    _write(expected, path, encoding, writer)
    if cpg is None:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    elif cpg != "keep":
        path.with_suffix(".cpg").write_text(cpg)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parcels = landgis.read_parcels(path)
    truth = landgis.read_parcels(landgis.get_path("parcels"))
    names = [*NAMES, *UTF8_ONLY] if utf8 else NAMES
    assert parcels["holder"].tolist() == [names[i % len(names)] for i in range(len(truth))]
    assert parcels["parcel_id"].tolist() == truth["parcel_id"].tolist()
    assert parcels["tenure"].tolist() == truth["tenure"].tolist()
    assert parcels["street"].tolist() == truth["street"].tolist()

    used = parcels.attrs["landgis"]["encoding"]
    assert used["name"] == ("utf-8" if utf8 else "gb18030" if cpg in (None, "UTF-8") else "gbk")
    contradicted = [w for w in caught if "but the attributes are not" in str(w.message)]
    assert len(contradicted) == (1 if variant == "gbk-cpg-says-utf8" else 0)


def test_utf8_chinese_field_names_cut_at_ten_bytes_still_map(tmp_path):
    # A DBF field name holds 10 bytes; GDAL cuts 宗地代码 (12 bytes in UTF-8) inside
    # its fourth character. The reader drops the broken byte and the alias still matches.
    path = tmp_path / "p.shp"
    _write(_frame("zh", "zh", True), path, "UTF-8", "geopandas")
    raw = landgis.io.vector.read_geodata(path)
    assert {"宗地代", "权利人", "取得方", "所属街"} <= set(raw.columns)
    assert landgis.read_parcels(path)["parcel_id"].iloc[0] == "321202001001"


def test_the_encoding_is_recorded_in_the_audit_trail(tmp_path):
    parcels = tmp_path / "p.shp"
    _write(_frame("ascii", "zh", False), parcels, "CP936", "geopandas")
    parcels.with_suffix(".cpg").write_text("UTF-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LandgisWarning)
        audit = landgis.audit(parcels, landgis.get_path("footprints"))
    entry = audit.report["inputs"]["parcels"]
    assert entry["encoding"] == {
        "name": "gb18030",
        "reason": "the text is not valid UTF-8 although the file declares UTF-8",
        "declared": "UTF-8",
    }
    said = "p.cpg: says UTF-8, but the attributes are not"
    assert any(said in w for w in audit.report["warnings"])


def test_only_the_records_text_is_judged_not_the_binary_header(tmp_path):
    # 200 records: the record count (0xC8) and lengths in the DBF header are not UTF-8,
    # which used to make every UTF-8 file read as GBK.
    frame = _frame("ascii", "en", True)
    frame = gpd.GeoDataFrame(
        gpd.pd.concat([frame] * 17, ignore_index=True), geometry="geometry", crs=frame.crs
    )
    frame["ZDDM"] = [f"P{i:04d}" for i in range(len(frame))]
    path = tmp_path / "many.shp"
    _write(frame, path, "UTF-8", "geopandas")
    data = path.with_suffix(".dbf").read_bytes()
    assert not data[:32].isascii()  # the header really holds non-UTF-8 bytes
    assert dbf_encoding(path).name == "utf-8"


def test_declarations_are_trusted_only_when_the_text_bears_them_out():
    gbk = ["泰州华达".encode("gbk")]
    assert choose_encoding(gbk).name == "gb18030"
    assert choose_encoding(gbk, declared="936").name == "gbk"
    assert choose_encoding(gbk, declared="GBK").name == "gbk"
    # A Latin-1/1252 declaration over Chinese bytes: every byte "decodes", so it proves nothing.
    assert choose_encoding(gbk, declared="1252").name == "gb18030"
    assert choose_encoding(["Café".encode("cp1252")], declared="1252").name == "cp1252"
    assert choose_encoding(["泰州".encode()], declared="936").name == "utf-8"
    assert choose_encoding([b"ZD01"], declared="936").reason == "the text is ASCII"
    # A UTF-8 value cut at its field width inside a character is still UTF-8.
    assert choose_encoding(["泰州华达".encode()[:10]]).name == "utf-8"
    assert choose_encoding([], given="gbk").name == "gbk"
