"""The field kit's KMZ: KML 2.2 schema, GDAL round trip, placement to 0.01 m, escaping."""

from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import landgis
from landgis.gcj02 import gcj02_to_wgs84
from landgis.present.kml import (
    KML_NAMESPACE,
    NO_STREET,
    kml_color,
    kml_document,
    write_fieldkit,
    write_kmz,
)
from landgis.present.style import CATEGORY_COLORS
from landgis.rules import CATEGORIES

NS = {"k": KML_NAMESPACE}
HOSTILE = "<script>alert(1)</script> & ]]> {{ 6*7 }}"


@pytest.fixture(scope="module")
def audit():
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )


@pytest.fixture(scope="module")
def kmz(audit, tmp_path_factory):
    return write_kmz(audit.findings, tmp_path_factory.mktemp("kml") / "all.kmz", title="全区")


def _doc(path) -> bytes:
    with zipfile.ZipFile(path) as z:
        assert z.namelist()[0] == "doc.kml"  # readers open the first .kml
        assert "files/point.png" in z.namelist()
        return z.read("doc.kml")


def _schema():
    """The official OGC KML 2.2 schema (ogckml22.xsd with its atom and xAL imports),
    as shipped by the pykml package."""
    from lxml import etree

    schemas = importlib.resources.files("pykml") / "schemas"
    with importlib.resources.as_file(schemas / "ogckml22.xsd") as xsd:
        return etree.XMLSchema(etree.parse(str(xsd)))


def test_kmz_is_valid_kml_2_2(kmz, audit):
    from lxml import etree

    schema = _schema()
    document = etree.fromstring(_doc(kmz))
    assert schema.validate(document), schema.error_log
    gcj = etree.fromstring(kml_document(audit.findings, gcj02=True))
    assert schema.validate(gcj), schema.error_log


def test_folders_by_category_styled_with_the_maps_colours(kmz, audit):
    root = ET.fromstring(_doc(kmz))
    folders = root.findall("k:Document/k:Folder", NS)
    counts = audit.findings["category"].value_counts()
    assert len(folders) == len(counts)
    styles = {s.get("id"): s for s in root.iterfind("k:Document/k:Style", NS)}
    for folder in folders:
        marks = folder.findall("k:Placemark", NS)
        codes = {m.find("k:styleUrl", NS).text.removeprefix("#cat-") for m in marks}
        assert len(codes) == 1
        code = codes.pop()
        assert folder.find("k:name", NS).text.startswith(CATEGORIES[code].label)
        assert len(marks) == counts[code]
        style = styles[f"cat-{code}"]
        assert style.find("k:LineStyle/k:color", NS).text == kml_color(CATEGORY_COLORS[code])
        assert style.find("k:PolyStyle/k:color", NS).text.endswith(
            kml_color(CATEGORY_COLORS[code])[2:]
        )
        for mark in marks:
            fid = next(
                d.find("k:value", NS).text
                for d in mark.iterfind(".//k:Data", NS)
                if d.get("name") == "finding_id"
            )
            assert mark.find("k:name", NS).text == f"{fid} {CATEGORIES[code].label}"
            geometry = mark.find("k:MultiGeometry", NS)
            assert geometry.find("k:Point", NS) is not None
            assert geometry.find("k:Polygon", NS) is not None
    assert kml_color("#d62728") == "ff2827d6"


def _read_back(path) -> pd.DataFrame:
    frames = [pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)]
    return pd.concat(frames, ignore_index=True)


def _polygons(geometry):
    parts = shapely.get_parts(geometry)
    return shapely.union_all([p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")])


def test_gdal_reads_it_back_onto_the_findings_within_a_centimetre(kmz, audit):
    findings = audit.findings.set_index("finding_id")
    back = _read_back(kmz)  # GDAL's LIBKML driver
    assert len(back) == len(findings)
    assert sorted(back["finding_id"]) == sorted(findings.index)
    back = back.set_index("finding_id").loc[findings.index]
    assert back["area_m2"].astype(float).to_numpy() == pytest.approx(
        findings["area_m2"].to_numpy(), abs=0.005
    )
    polygons = [_polygons(g) for g in back.geometry]
    projected = gpd.GeoSeries(polygons, crs="EPSG:4326").to_crs(findings.crs)
    for fid, mine, theirs in zip(findings.index, findings.geometry, projected, strict=True):
        assert shapely.hausdorff_distance(mine, theirs) < 0.01, fid
        assert theirs.area == pytest.approx(mine.area, abs=0.05), fid
        point = next(p for p in shapely.get_parts(back.geometry[fid]) if p.geom_type == "Point")
        assert point.x == pytest.approx(findings.loc[fid, "lon"], abs=1e-7)


def test_gcj02_option_shifts_every_coordinate(audit):
    root = ET.fromstring(kml_document(audit.findings.head(3), gcj02=True))
    plain = ET.fromstring(kml_document(audit.findings.head(3)))

    def coords(tree):
        text = " ".join(c.text for c in tree.iter(f"{{{KML_NAMESPACE}}}coordinates"))
        return np.array([[float(v) for v in xy.split(",")] for xy in text.split()])

    shifted, wgs = coords(root), coords(plain)
    assert shifted.shape == wgs.shape
    assert (np.abs(shifted - wgs).max(axis=1) > 1e-4).all()  # hundreds of metres
    lon, lat = gcj02_to_wgs84(shifted[:, 0], shifted[:, 1])
    # back within 0.01 m (1e-7° is about 1 cm)
    assert np.abs(lon - wgs[:, 0]).max() < 1e-7 and np.abs(lat - wgs[:, 1]).max() < 1e-7
    assert "GCJ-02" in root.find("k:Document/k:description", NS).text


def test_text_from_the_input_is_escaped(audit):
    findings = audit.findings.head(2).copy()
    findings["holder"] = HOSTILE
    findings["street"] = "../../etc"
    data = kml_document(findings)
    assert b"<script" not in data
    root = ET.fromstring(data)
    mark = root.find(".//k:Placemark", NS)
    description = mark.find("k:description", NS).text
    assert "&lt;script&gt;" in description and "<script>" not in description
    holder = next(
        d.find("k:value", NS).text
        for d in mark.iterfind(".//k:Data", NS)
        if d.get("name") == "holder"
    )
    assert holder == HOSTILE


def test_fieldkit_per_street_with_safe_names(audit, tmp_path):
    findings = audit.findings.copy()
    findings.loc[findings.index[:2], "street"] = "../城东/街道"
    findings.loc[findings.index[2], "street"] = ""
    written = write_fieldkit(findings, tmp_path / "kit", parcels=audit.parcels)
    names = sorted(written)
    assert f"{NO_STREET}.kmz" in names and f"{NO_STREET}.html" in names
    assert "城东_街道.kmz" in names
    assert all(p.parent == tmp_path / "kit" for p in written.values())
    total = sum(len(_read_back(p)) for n, p in written.items() if n.endswith(".kmz"))
    assert total == len(findings)
    assert not list((tmp_path / "kit").glob(".*"))  # no temporary file left
