"""rules.py is the single source of every category fact: a category added to its
table shows in every output without any other edit."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pytest
import shapely
from lxml import etree

import landgis
from landgis import rules
from landgis.findings import build_findings
from landgis.present.csv import write_csv
from landgis.present.kml import write_fieldkit
from landgis.present.qgis import layer_qml
from landgis.present.summary import category_summary
from landgis.present.webmap import build_map


@pytest.fixture
def new_category(monkeypatch):
    """A category only this test knows: one row in the table, nothing else."""
    row = rules.Category(
        code="grave_on_land",
        label="违规坟地占用",
        label_en="Graves on granted land",
        action="会同民政部门依法处置",
        action_en="Dispose of with the civil affairs bureau by law",
        group="综合组",
        stage="rectify",
        departments=("城管局",),
        kind="piece",
        family="red_line",
        colour="#123456",
        draw=99,
    )
    monkeypatch.setitem(rules.CATEGORIES, row.code, row)
    return row


def test_the_table_is_consistent():
    for code, cat in rules.CATEGORIES.items():
        assert cat.code == code and cat.kind in rules.KINDS and cat.family in rules.FAMILIES
        assert cat.group in rules.GROUPS and set(cat.departments) <= set(rules.DEPARTMENTS_EN)
        assert cat.colour.startswith("#") and len(cat.colour) == 7
    draws = [cat.draw for cat in rules.CATEGORIES.values()]
    assert len(set(draws)) == len(draws)  # one drawing order
    labels = [cat.label for cat in rules.CATEGORIES.values()]
    assert not [a for a in labels for b in labels if a != b and a in b]  # no label inside another


def test_a_new_category_shows_in_every_output(tmp_path, new_category):
    sample = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"))
    parcels = sample.parcels
    piece = shapely.box(*parcels.geometry.iloc[0].buffer(-40).bounds)  # inside parcel 1
    raw = gpd.GeoDataFrame(
        {"category": ["grave_on_land"], "holder": ["某村民"],
         "parcel_id": [parcels["parcel_id"].iloc[0]], "area_m2": [piece.area]},
        geometry=[piece], crs=parcels.crs,
    )  # fmt: skip
    findings = build_findings(raw, parcels=parcels, campaign=sample.campaign)
    row = findings.iloc[0]
    assert (row["category_label"], row["group"], row["departments"]) == (
        "违规坟地占用", "综合组", "城管局"
    )  # fmt: skip
    assert str(row["deadline"]) == str(sample.campaign.deadline("overuse_requisitioned"))

    csv_text = write_csv(findings, tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert "违规坟地占用" in csv_text and "会同民政部门依法处置" in csv_text
    assert "Graves on granted land" in write_csv(findings, tmp_path / "e.csv", lang="en").read_text(
        encoding="utf-8-sig"
    )

    summary = category_summary(findings, parcels=parcels)
    assert summary.loc[summary["category"] == "grave_on_land", "count"].tolist() == [1]

    m = build_map(findings, parcels=parcels)
    data = m.get_root().landgis_data
    layer = next(spec for spec in data["layers"] if spec["id"] == "finding-grave_on_land")
    assert layer["style"]["fillColor"] == "#123456" and "违规坟地占用" in layer["label"]
    assert data["layers"][-1]["id"] == "finding-grave_on_land"  # draw rank 99: on top
    assert "违规坟地占用" in json.dumps(data["legend"], ensure_ascii=False)

    qml = etree.fromstring(layer_qml("findings").encode())
    cats = {c.get("value"): c.get("label") for c in qml.iter("category")}
    assert cats["grave_on_land"] == "违规坟地占用"

    kit = write_fieldkit(findings, tmp_path / "kit", parcels=parcels, printlist=False)
    kmz = next(p for p in kit.values() if p.suffix == ".kmz")
    with zipfile.ZipFile(kmz) as z:
        kml = z.read("doc.kml").decode()
    assert "违规坟地占用（1 处）" in kml and "ff563412" in kml  # KML colours are aabbggrr

    assert "grave_on_land" in rules.departments()["城管局"]
    assert "grave_on_land" in rules.codes(kind="piece")
